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
