// The one-line summary a node shows under its label, and its colour and glyph: both are the
// node type's own, served by /api/node-types/ (`summary`, `style`), so a new type needs no
// change here.
//
// A type's `summary` is a list of templates: the first one whose references are all there
// is shown ("" when none is). In a template:
//   {path}          the config's value at path (a.b): text (spaces collapsed), a list's items
//                   or an object's keys joined by ", "; missing, "", false or [] is not there
//   {path:N}        the same, cut to N characters
//   {path|default}  the value, or `default` (may be empty) when it is not there
//   {#path}         how many items (or keys) it holds: always there
//   {?path}         nothing, but there only when the value is (truthy)
//   {?path=word}    nothing, but there only when the value is `word`
//   {a|1..b|20}     a range: "1" when both ends are equal, else "1–20"
//   [ ... ]         an optional part: left out when a reference in it is not there

const DEFAULT_STYLE = { color: "#666", icon: "?" };
const NOT_THERE = Symbol("not there");

export const clip = (text, n = 60) => {
  const s = String(text ?? "").replace(/\s+/g, " ").trim();
  return s.length > n ? `${s.slice(0, n - 1)}\u2026` : s;
};

function lookup(config, path) {
  let value = config;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = value[part];
  }
  return value;
}

function there(value) {
  if (value === undefined || value === null || value === false || value === "") return false;
  return !(Array.isArray(value) && value.length === 0);
}

function text(value) {
  if (Array.isArray(value)) return clip(value.map((v) => (typeof v === "object" ? "" : String(v))).filter(Boolean).join(", "), Infinity);
  if (value !== null && typeof value === "object") return clip(Object.keys(value).join(", "), Infinity);
  return clip(value, Infinity);
}

/** One `{path:N|default}` end: its text, or NOT_THERE. */
function value(config, ref) {
  const [head, ...rest] = ref.split("|");
  const fallback = rest.length ? rest.join("|") : undefined;
  const [path, limit] = head.split(":");
  const found = lookup(config, path.trim());
  if (!there(found)) return fallback === undefined ? NOT_THERE : fallback;
  const shown = text(found);
  return limit ? clip(shown, Number(limit)) : shown;
}

function reference(config, ref) {
  if (ref.startsWith("#")) {
    const found = lookup(config, ref.slice(1));
    if (Array.isArray(found)) return String(found.length);
    return String(found !== null && typeof found === "object" ? Object.keys(found).length : 0);
  }
  if (ref.startsWith("?")) {
    const [path, wanted] = ref.slice(1).split("=");
    const found = lookup(config, path);
    const ok = wanted === undefined ? there(found) : String(found ?? "") === wanted;
    return ok ? "" : NOT_THERE;
  }
  if (ref.includes("..")) {
    const [low, high] = ref.split("..").map((end) => value(config, end));
    if (low === NOT_THERE || high === NOT_THERE) return NOT_THERE;
    return low === high ? low : `${low}\u2013${high}`;
  }
  return value(config, ref);
}

/** The text of `template` from position `i` to its end or the `]` closing an optional part:
 * [text or NOT_THERE, position after it]. */
function render(template, config, i = 0, inner = false) {
  let out = "";
  let missing = false;
  while (i < template.length) {
    const ch = template[i];
    if (ch === "]" && inner) return [missing ? NOT_THERE : out, i + 1];
    if (ch === "[") {
      const [part, next] = render(template, config, i + 1, true);
      if (part !== NOT_THERE) out += part;
      i = next;
    } else if (ch === "{") {
      const end = template.indexOf("}", i);
      if (end < 0) return [NOT_THERE, template.length];
      const shown = reference(config, template.slice(i + 1, end));
      if (shown === NOT_THERE) missing = true;
      else out += shown;
      i = end + 1;
    } else {
      out += ch;
      i += 1;
    }
  }
  return [missing ? NOT_THERE : out, i];
}

/** The summary of a node of type `typeInfo` (as /api/node-types/ serves it) with `config`. */
export function summarize(typeInfo, config) {
  for (const template of typeInfo?.summary || []) {
    try {
      const [shown] = render(template, config || {});
      if (shown !== NOT_THERE) return shown.trim();
    } catch {
      return "";
    }
  }
  return "";
}

export const styleFor = (typeInfo) => ({ ...DEFAULT_STYLE, ...(typeInfo?.style || {}) });
