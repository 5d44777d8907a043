// The Tests tab's model: reading the tests the supervisor typed, and naming a problem's place.

/** The tests' JSON as the editor shows it, or the problem that stops it being read. */
export function parseTests(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${e.message}` };
  }
  if (!Array.isArray(value)) return { error: "The tests are a list: [ {\"name\": ...}, ... ]." };
  return { tests: value };
}

/** A problem's JSON path in words: "$.tests[0].steps[1].press" -> "test 1, step 2, press". */
export function placeOf(path) {
  const words = { tests: "test", steps: "step", http: "HTTP answer", sms: "text" };
  const parts = [];
  for (const [, key, index] of path.replace(/^\$/, "").matchAll(/\.?([A-Za-z_]+)|\[(\d+)\]/g)) {
    if (key !== undefined) parts.push(key);
    else if (parts.length && words[parts[parts.length - 1]]) parts.push(`${words[parts.pop()]} ${Number(index) + 1}`);
    else parts.push(`item ${Number(index) + 1}`);
  }
  return parts.join(", ") || "the tests";
}

/** A simulator event as a test step (callflow-test/1), or null for the call's start. */
export function stepOf(event) {
  switch (event.type) {
    case "digits": return event.digits ? { press: event.digits } : { silence: true };
    case "speech": return { say: event.speech };
    case "silence": return { silence: true };
    case "dial": return { dial: event.status };
    case "queue": return { queue: event.result };
    case "record": return { record: event.duration || 0 };
    case "redirect": return { redirect: event.result };
    case "hangup": return { hangup: true };
    default: return null;
  }
}

/** The requests a simulated call made, as a flow test's declared answers (one per request). */
export function answersOf(made) {
  const answers = [];
  const seen = new Set();
  for (const { method, url, status, json, error } of made) {
    const key = `${method} ${url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // `*` stands for anything in an answer's URL: a URL holding one answers a little more
    const answer = { url };
    if (method && method !== "GET") answer.method = method;
    if (error) answer.error = error;
    else {
      if (status && status !== 200) answer.status = status;
      if (json !== null && json !== undefined) answer.json = json;
    }
    answers.push(answer);
  }
  return answers;
}

/**
 * A simulated call as a flow test that expects what the call did: at the time it was
 * placed, from its caller (or to its callee, for an outbound call), its steps, and the path,
 * the texts and the ending it came to.
 * `call`: {name, at (ISO), setup: the simulator's call setup, events, reply: the last
 * answer, sms: [{to, body}] sent during the call, http: the requests its nodes made
 * [{method, url, status, json, error}], vars (an outbound call's)}. Each request is answered
 * in the test as it was answered in the call (the first answer, for a URL asked twice).
 */
export function testFromCall({ name, at, setup, events, reply, sms, http = [], vars }) {
  const test = { name, at };
  if (setup.direction === "outbound") {
    Object.assign(test, { direction: "outbound", caller: setup.to.trim(), answered_by: setup.answeredBy || "human" });
    if (vars && Object.keys(vars).length) test.vars = vars;
  } else {
    test.caller = setup.from.trim();
  }
  const answers = answersOf(http);
  if (answers.length) test.http = answers;
  test.steps = events.map(stepOf).filter(Boolean);
  const expect = { path: (reply.path || []).map((p) => p.node), ends: reply.ended ? "hangup" : "waiting" };
  if (sms.length) expect.sms = sms.map((m) => ({ to: m.to, contains: m.body }));
  else expect.no_sms = true;
  test.expect = expect;
  return test;
}

// what a step answers Twilio's Dial, Enqueue and a hand-over with: [value, words]
const DIAL_RESULTS = [
  ["completed", "answered, then over"],
  ["answered", "answered"],
  ["busy", "busy"],
  ["no-answer", "not answered"],
  ["failed", "failed"],
  ["canceled", "cancelled"],
];
const QUEUE_RESULTS = [
  ["bridged", "put through to someone"],
  ["hangup", "the caller hangs up"],
  ["redirected", "moved on"],
  ["queue-full", "the queue is full"],
  ["system-error", "a system error"],
  ["error", "an error"],
];
const REDIRECT_RESULTS = [
  ["return", "comes back"],
  ["timeout", "does not come back in time"],
  ["unreachable", "cannot be reached"],
];
const wordsOf = (choices, value) => (choices.find(([key]) => key === value) || [, value])[1];

/**
 * The steps a test can take, in the form's words: `value` is what the step holds (text,
 * keys, seconds, one of `choices`, or nothing), `says` how a step reads in a test's summary.
 */
export const STEP_KINDS = [
  { kind: "expect_say", label: "Hears", value: "text", hint: "words the caller hears", says: (v) => `hears “${v}”` },
  { kind: "press", label: "Presses keys", value: "keys", hint: "e.g. 1 or 1234#", says: (v) => `presses ${v}` },
  { kind: "say", label: "Says", value: "text", hint: "what the caller says", says: (v) => `says “${v}”` },
  { kind: "silence", label: "Stays silent", value: null, says: () => "stays silent" },
  { kind: "dial", label: "The call put through", value: "choice", choices: DIAL_RESULTS, says: (v) => `the call put through: ${wordsOf(DIAL_RESULTS, v)}` },
  { kind: "queue", label: "Waits in the queue", value: "choice", choices: QUEUE_RESULTS, says: (v) => `the queue: ${wordsOf(QUEUE_RESULTS, v)}` },
  { kind: "record", label: "Records a message", value: "seconds", hint: "seconds", says: (v) => `records ${v} s` },
  { kind: "redirect", label: "The hand-over", value: "choice", choices: REDIRECT_RESULTS, says: (v) => `the hand-over: ${wordsOf(REDIRECT_RESULTS, v)}` },
  { kind: "hangup", label: "Hangs up", value: null, says: () => "hangs up" },
];
const KIND = Object.fromEntries(STEP_KINDS.map((k) => [k.kind, k]));

/** How a call may end (`expect.ends`), in words; "" expects nothing of it. */
export const ENDINGS = [
  ["", "anything"],
  ["hangup", "the call is over"],
  ["waiting", "still waiting for the caller"],
  ["routed", "routed to a person"],
  ["self_served", "self-served"],
  ["sms_fallback", "sent an SMS instead"],
  ["voicemail", "left a voicemail"],
  ["callback", "callback scheduled"],
  ["abandoned", "abandoned"],
  ["failed", "failed"],
];

/** A test step as a form row: {kind, value} with the value as text. */
export function rowOfStep(step) {
  const [kind, value] = Object.entries(step)[0] || ["press", ""];
  return { kind, value: KIND[kind] && KIND[kind].value === null ? "" : String(value) };
}

/** A form row as a test step (callflow-test/1). */
export function stepOfRow({ kind, value }) {
  const k = KIND[kind];
  if (!k || k.value === null) return { [kind]: true };
  if (k.value === "seconds") return { [kind]: value.trim() === "" ? 0 : Number(value) };
  if (k.value === "keys") return { [kind]: value.replace(/\s+/g, "") };
  return { [kind]: value };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A test's `at` as a supervisor reads it: "Tue 1 Dec 2026, 23:00" (as written when it has an offset). */
export function whenOf(at) {
  if (!at) return "now";
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?(?::\d{2}(?:\.\d+)?)?$/.exec(at);
  if (!m) return at;
  const [, y, mo, d, h = "00", mi = "00"] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDay();
  return `${DAYS[day]} ${Number(d)} ${MONTHS[Number(mo) - 1]} ${y}, ${h}:${mi}`;
}

/** A test in words: who calls when, each step, and what is expected. */
export function describeTest(test) {
  const who = test.caller || "a test number";
  const call =
    test.direction === "outbound"
      ? `${whenOf(test.at)}: the flow calls ${who}, answered by ${test.answered_by || "a person"}`
      : `${whenOf(test.at)}: ${who} calls`;
  const steps = (test.steps || []).map((step) => {
    const { kind, value } = rowOfStep(step);
    return KIND[kind] ? KIND[kind].says(value) : kind;
  });
  const expect = test.expect || {};
  const expects = [];
  if (expect.path && expect.path.length) expects.push(`passes ${expect.path.join(" › ")}`);
  for (const sms of expect.sms || []) {
    expects.push(`a text${sms.to ? ` to ${sms.to}` : ""}${sms.contains ? ` containing “${sms.contains}”` : ""}`);
  }
  if (expect.no_sms) expects.push("no text");
  if (expect.ends) expects.push(`ends: ${(ENDINGS.find(([key]) => key === expect.ends) || [, expect.ends])[1]}`);
  if (expect.vars) expects.push(`vars: ${Object.keys(expect.vars).join(", ")}`);
  const also = [];
  if (test.http && test.http.length) also.push(`${test.http.length} HTTP answer(s)`);
  if (test.vars && Object.keys(test.vars).length) also.push(`starts with vars ${Object.keys(test.vars).join(", ")}`);
  if (test.version) also.push(`on version ${test.version}`);
  return { call, steps, expects, also };
}

/**
 * A var's value as the form shows it: text as typed, anything else (a number, true, a list)
 * as JSON; text that would read as something else is quoted, so that `varValue` gives back
 * exactly what `varText` was given.
 */
export function varText(value) {
  if (typeof value !== "string") return JSON.stringify(value);
  return varValue(value) === value ? value : JSON.stringify(value);
}

/** What the supervisor typed as a var's value: JSON when it reads as JSON, else the text. */
export function varValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An HTTP answer (callflow-test/1) as a form row, and back; `body` is the JSON as text. */
export function rowOfAnswer(answer) {
  return {
    url: answer.url || "",
    method: answer.method || "",
    fails: "error" in answer,
    error: answer.error || "",
    status: answer.status === undefined ? "" : String(answer.status),
    body: answer.json === undefined ? "" : JSON.stringify(answer.json, null, 1),
  };
}

/** A form row as an HTTP answer, or {error} saying what in it cannot be read. */
export function answerOfRow(row) {
  const answer = { url: row.url.trim() };
  if (!answer.url) return { error: "needs the URL it answers (* stands for anything)" };
  if (row.method) answer.method = row.method;
  if (row.fails) {
    answer.error = row.error.trim() || "timed out";
    return { answer };
  }
  if (row.status.trim()) answer.status = Number(row.status);
  if (row.body.trim()) {
    try {
      answer.json = JSON.parse(row.body);
    } catch (e) {
      return { error: `its body is not JSON (${e.message})` };
    }
  }
  return { answer };
}
