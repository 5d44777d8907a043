// The simulator's pure logic: the keypad entry (as Twilio's <Gather> collects keys), the
// outbound call's number and vars, and how a wait reads. SimulatorPanel.jsx draws it.

export const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
/** Twilio passes at most this many keys (ivr_runtime/forms.py reads Digits up to 64). */
export const MAX_KEYS = 64;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * One key on the entry of a wait ({dtmf, num_digits, finish_on_key}, from the server).
 * -> {entry, send}: send is null while keys are still being collected, else the answer:
 * the keys before the finish key (which Twilio never includes), or the entry once it holds
 * num_digits keys. The finish key on an empty entry sends "" (no input, as on a phone).
 */
export function pressKey(entry, key, wait) {
  const finish = (wait && wait.finish_on_key) || "";
  if (finish && key === finish) return { entry: "", send: entry };
  const next = (entry + key).slice(0, MAX_KEYS);
  const wanted = wait && wait.num_digits;
  if ((wanted && next.length >= wanted) || next.length >= MAX_KEYS) return { entry: "", send: next };
  return { entry: next, send: null };
}

/** Keys typed into the entry field, fed one by one (an edit in the middle replaces it). */
export function typeKeys(entry, typed, wait) {
  const clean = typed.replace(/[^0-9*#]/g, "");
  if (!clean.startsWith(entry)) return { entry: clean.slice(0, MAX_KEYS), send: null };
  let state = { entry, send: null };
  for (const key of clean.slice(entry.length)) {
    state = pressKey(state.entry, key, wait);
    if (state.send !== null) break;
  }
  return state;
}

export const backspace = (entry) => entry.slice(0, -1);

/** The error to show for a number (`what`: which one), or null when it is in E.164 form. */
export function numberProblem(text, what = "the number to call") {
  const number = (text || "").trim();
  if (!number) return `Enter ${what}, in international form, e.g. +447700900123.`;
  if (!E164.test(number)) {
    return `${number} is not in international (E.164) form: a + then the country code and number, digits only, e.g. +447700900123.`;
  }
  return null;
}

/** "NAME=VALUE" lines -> {vars, error}; blank lines are skipped, the first bad line named. */
export function parseVars(text) {
  const vars = {};
  const lines = (text || "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const at = line.indexOf("=");
    const name = (at < 0 ? line : line.slice(0, at)).trim();
    if (at < 0 || !VAR_NAME.test(name)) {
      return { vars: null, error: `Line ${i + 1} (“${line}”): write NAME=VALUE, a name of letters, digits and _.` };
    }
    vars[name] = line.slice(at + 1).trim();
  }
  return { vars, error: null };
}

/** How the caller may answer a wait, in words ("Keys: 6, sent when all are in. Or speak."). */
export function waitHint(wait) {
  if (!wait || wait.kind !== "input") return "";
  const parts = [];
  if (wait.dtmf) {
    const ways = [];
    const n = wait.num_digits;
    if (n) ways.push(`as soon as ${n === 1 ? "1 key is" : `${n} keys are`} in`);
    if (wait.finish_on_key) ways.push(`by ${wait.finish_on_key}`);
    ways.push("by Send");
    const last = ways.pop();
    parts.push(`Keys: sent ${ways.length ? `${ways.join(", ")} or ${last}` : last}.`);
  }
  if (wait.speech) parts.push(wait.dtmf ? "Or say something." : "Say something (no keys here).");
  return parts.join(" ");
}

export const ANSWERED_BY = [
  { value: "human", label: "a person" },
  { value: "machine_start", label: "an answering machine" },
  { value: "", label: "not detected" },
];
