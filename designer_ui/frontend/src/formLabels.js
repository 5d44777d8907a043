// Words for the node forms: a config field's label, its unit and its choices, when the node
// type's JSON Schema gives no `title` (a schema's own title always wins). Pure functions.

const ACRONYMS = { url: "URL", sms: "SMS", http: "HTTP", id: "ID", sip: "SIP", tts: "TTS", pin: "PIN", json: "JSON", iso: "ISO" };

/** Labels better than the key's own words. */
const LABELS = {
  audio_url: "Audio URL",
  caller_id: "Caller ID shown",
  digits: "Account number length",
  confirm: "Read the value back to confirm it",
  confirm_number: "Confirm the number to call back",
  exit_names: "Exits it had",
  finish_on_key: "Finish key",
  hold_music: "Hold music URL",
  invalid_prompt: "Prompt after a wrong or missing answer",
  loop: "Repeat",
  max_attempts: "Attempts allowed",
  max_digits: "Most keys",
  max_length: "Longest message",
  max_wait: "Longest wait in the queue",
  min_digits: "Fewest keys",
  op: "Test",
  pin_digits: "PIN length",
  pin_prompt: "PIN prompt",
  retries: "Ask again at most",
  return_after: "Wait for the call to come back",
  save_as: "Save as variable",
  source_name: "Name there",
  source_type: "Type there",
  timeout: "Wait for an answer",
  var: "Value to test",
  within_hours: "Call back within",
};

/** Units of numeric fields, by key (a schema may say its own with "x-unit"). */
const UNITS = {
  digits: "digits",
  duration: "seconds",
  length: "seconds",
  loop: "times",
  max_attempts: "times",
  max_digits: "keys",
  max_length: "seconds",
  max_wait: "seconds",
  min_digits: "keys",
  num_digits: "keys",
  pin_digits: "digits",
  retries: "times",
  return_after: "seconds",
  timeout: "seconds",
  within_hours: "hours",
};

/** Choices in words, by "type.key" first, then by key. */
const CHOICES = {
  input: { dtmf: "Keys", speech: "Speech", both: "Keys or speech" },
  "record_call.action": { start: "Start recording the call", stop: "Stop recording the call" },
  channels: { mono: "Mono: one mixed track", dual: "Dual: caller and other party apart" },
  method: { GET: "GET", POST: "POST", PUT: "PUT", PATCH: "PATCH", DELETE: "DELETE" },
  "authenticate.method": { caller_id: "By the caller's number", account_pin: "Account number and PIN", pin: "PIN only" },
  "self_service.mode": { link_sms: "Text a link", lookup_say: "Look up and say the answer" },
  source: { studio: "Twilio Studio", connect: "Amazon Connect" },
  op: {
    eq: "equals",
    ne: "does not equal",
    lt: "is less than",
    lte: "is at most",
    gt: "is more than",
    gte: "is at least",
    contains: "contains",
    starts_with: "starts with",
    in: "is one of",
    empty: "is empty",
    not_empty: "is not empty",
    matches: "matches the pattern",
  },
};

/** "min_digits" -> "Min digits", "audio_url" -> "Audio URL". */
export function words(key) {
  const parts = String(key).split(/[_\s]+/).filter(Boolean);
  const text = parts.map((p) => ACRONYMS[p.toLowerCase()] || p.toLowerCase()).join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function unitOf(key, schema) {
  if (schema["x-unit"]) return schema["x-unit"];
  const types = [].concat(schema.type || []);
  if (!types.includes("integer") && !types.includes("number")) return null;
  return UNITS[key] || null;
}

/** The field's label: the schema's title, else words for the key; a number's unit after it. */
export function labelOf(key, schema, type) {
  let title = schema.title || LABELS[`${type}.${key}`] || LABELS[key] || words(key);
  const unit = unitOf(key, schema);
  if (unit && !title.toLowerCase().includes(unit)) title = `${title} (${unit})`;
  return title;
}

/** {value: label} for an enum, or null when the values read well as they are. */
export function choiceLabels(key, values, type) {
  const known = CHOICES[`${type}.${key}`] || CHOICES[key] || {};
  return Object.fromEntries(values.map((v) => [String(v), known[v] ?? words(v)]));
}
