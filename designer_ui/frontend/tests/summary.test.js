// A node's summary and style come from its type's description (/api/node-types/): the
// templates' references, defaults, counts, conditions, ranges and optional parts.
import { describe, expect, test } from "vitest";
import { styleFor, summarize } from "../src/summary.js";

// templates as flows/nodes/*.py declare them (`summary`)
const TYPES = {
  say: { summary: ["\u201c{text:60}\u201d", "plays {audio_url:40}"] },
  menu: { summary: ["{#options} options \u00b7 {input|dtmf} \u00b7 {prompt:40|}"] },
  route: {
    summary: ["dial {target.number}", "SIP {target.sip}", "queue {target.queue}", "skills: {target.skills}", "no target"],
  },
  set: { summary: ["{vars:60|}"] },
  voicemail: { summary: ["up to {max_length|120} s[{?transcribe}, transcribed]"] },
  input: {
    summary: [
      "{?input=speech}speech[ \u2192 {save_as}]",
      "{?input=both}{min_digits|1..max_digits|20} keys or speech[ \u2192 {save_as}]",
      "{min_digits|1..max_digits|20} keys[ \u2192 {save_as}]",
    ],
  },
  record_call: { summary: ["{?action=stop}stop recording", "start recording[{?channels=dual} (dual)]"] },
  redirect: { summary: ["to {url:36|}[ \u00b7 back within {return_after} s]"] },
  none: {},
};

describe("summarize", () => {
  test.each([
    ["say", { text: "  Thanks   for calling. " }, "\u201cThanks for calling.\u201d"],
    ["say", { text: "x".repeat(70) }, `\u201c${"x".repeat(59)}\u2026\u201d`],
    ["say", { audio_url: "https://example.com/a.mp3" }, "plays https://example.com/a.mp3"],
    ["say", { text: "" }, ""],
    ["menu", { options: [{ key: "1" }, { key: "2" }], prompt: "Press 1." }, "2 options \u00b7 dtmf \u00b7 Press 1."],
    ["menu", { input: "both" }, "0 options \u00b7 both \u00b7"],
    ["route", { target: { number: "+441234567890" } }, "dial +441234567890"],
    ["route", { target: { skills: ["cards", "fraud"] } }, "skills: cards, fraud"],
    ["route", { target: { skills: [] } }, "no target"],
    ["route", {}, "no target"],
    ["set", { vars: { tier: "gold", lang: "en" } }, "tier, lang"],
    ["voicemail", {}, "up to 120 s"],
    ["voicemail", { max_length: 60, transcribe: true }, "up to 60 s, transcribed"],
    ["input", {}, "1\u201320 keys"],
    ["input", { min_digits: 4, max_digits: 4, save_as: "pin" }, "4 keys \u2192 pin"],
    ["input", { input: "both", min_digits: 6, max_digits: 10 }, "6\u201310 keys or speech"],
    ["input", { input: "speech", save_as: "reason" }, "speech \u2192 reason"],
    ["record_call", { action: "stop" }, "stop recording"],
    ["record_call", { channels: "dual" }, "start recording (dual)"],
    ["record_call", { action: "start" }, "start recording"],
    ["redirect", { url: "https://pay.example.com/twiml", return_after: 300 }, "to https://pay.example.com/twiml \u00b7 back within 300 s"],
    ["redirect", { url: "https://pay.example.com/twiml" }, "to https://pay.example.com/twiml"],
    ["none", { text: "x" }, ""],
  ])("%s %j -> %s", (type, config, expected) => {
    expect(summarize(TYPES[type], config)).toBe(expected);
  });

  test("an unknown type or a missing config summarises to nothing", () => {
    expect(summarize(undefined, { text: "x" })).toBe("");
    expect(summarize(TYPES.say, undefined)).toBe("");
  });
});

describe("styleFor", () => {
  test("the type's own colour and glyph, else a neutral one", () => {
    expect(styleFor({ style: { color: "#417690", icon: "Sa" } })).toEqual({ color: "#417690", icon: "Sa" });
    expect(styleFor(undefined)).toEqual({ color: "#666", icon: "?" });
  });
});
