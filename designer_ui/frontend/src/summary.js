// The one-line summary a node shows under its label.

const clip = (text, n = 60) => {
  const s = String(text ?? "").replace(/\s+/g, " ").trim();
  return s.length > n ? `${s.slice(0, n - 1)}\u2026` : s;
};

const SUMMARIES = {
  say: (c) => (c.text ? `\u201c${clip(c.text)}\u201d` : c.audio_url ? `plays ${clip(c.audio_url, 40)}` : ""),
  menu: (c) => `${(c.options || []).length} options \u00b7 ${c.input || "dtmf"} \u00b7 ${clip(c.prompt, 40)}`,
  time_of_day: (c) => `${Object.keys(c.schedule || {}).length} days \u00b7 ${c.timezone || "flow time zone"}`,
  authenticate: (c) => `by ${c.method || "?"}`,
  route: (c) => {
    const t = c.target || {};
    if (t.number) return `dial ${t.number}`;
    if (t.sip) return `SIP ${t.sip}`;
    if (t.client) return `client ${t.client}`;
    if (t.queue) return `queue ${t.queue}`;
    if (t.skills) return `skills: ${t.skills.join(", ")}`;
    return "no target";
  },
  sms: (c) => `text: ${clip(c.body, 50)}`,
  self_service: (c) => `${c.mode || "?"} \u00b7 ${clip(c.url, 40)}`,
  callback: (c) => `within ${c.within_hours ?? 4} h \u00b7 ${clip(c.prompt, 30)}`,
  voicemail: (c) => `up to ${c.max_length ?? 120} s${c.transcribe ? ", transcribed" : ""}`,
  branch: (c) => `${(c.rules || []).length} rules`,
  set: (c) => clip(Object.keys(c.vars || {}).join(", ")),
  http: (c) => `${c.method || "GET"} ${clip(c.url, 44)}`,
  subflow: (c) => `continue in ${c.flow || "?"}`,
  hangup: (c) => (c.text ? `\u201c${clip(c.text)}\u201d` : "end the call"),
  input: (c) => {
    const low = c.min_digits ?? 1;
    const high = c.max_digits ?? 20;
    const keys = low === high ? `${low} keys` : `${low}\u2013${high} keys`;
    const how = { speech: "speech", both: `${keys} or speech` }[c.input] || keys;
    return c.save_as ? `${how} \u2192 ${c.save_as}` : how;
  },
  record_call: (c) => `${c.action === "stop" ? "stop" : "start"} recording${c.action !== "stop" && c.channels === "dual" ? " (dual)" : ""}`,
  redirect: (c) => `to ${clip(c.url, 36)}${c.return_after ? ` \u00b7 back within ${c.return_after} s` : ""}`,
};

export function summarize(type, config) {
  const fn = SUMMARIES[type];
  try {
    return fn ? fn(config || {}) : "";
  } catch {
    return "";
  }
}

/** Colour and a short glyph per node type (plain text: no icon font or emoji needed). */
export const TYPE_STYLE = {
  say: { color: "#417690", icon: "Sa" },
  menu: { color: "#7a4fa3", icon: "#" },
  time_of_day: { color: "#b7791f", icon: "Hr" },
  authenticate: { color: "#2c7a7b", icon: "Au" },
  route: { color: "#2f855a", icon: "Rt" },
  sms: { color: "#3182ce", icon: "Tx" },
  self_service: { color: "#4a5568", icon: "Ss" },
  callback: { color: "#dd6b20", icon: "Cb" },
  voicemail: { color: "#805ad5", icon: "Vm" },
  branch: { color: "#c05621", icon: "If" },
  set: { color: "#718096", icon: "=" },
  http: { color: "#2b6cb0", icon: "Ht" },
  subflow: { color: "#553c9a", icon: "Sf" },
  hangup: { color: "#ba2121", icon: "End" },
  input: { color: "#5a67d8", icon: "In" },
  record_call: { color: "#b83280", icon: "Rec" },
  redirect: { color: "#38a169", icon: "Go" },
};

export const styleFor = (type) => TYPE_STYLE[type] || { color: "#666", icon: "?" };
