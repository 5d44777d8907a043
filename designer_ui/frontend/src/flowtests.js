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

/**
 * A simulated call as a flow test that expects what the call did: at the time it was
 * placed, from its caller (or to its callee, for an outbound call), its steps, and the path,
 * the texts and the ending it came to.
 * `call`: {name, at (ISO), setup: the simulator's call setup, events, reply: the last
 * answer, sms: [{to, body}] sent during the call, vars (an outbound call's)}.
 */
export function testFromCall({ name, at, setup, events, reply, sms, vars }) {
  const test = { name, at };
  if (setup.direction === "outbound") {
    Object.assign(test, { direction: "outbound", caller: setup.to.trim(), answered_by: setup.answeredBy || "human" });
    if (vars && Object.keys(vars).length) test.vars = vars;
  } else {
    test.caller = setup.from.trim();
  }
  test.steps = events.map(stepOf).filter(Boolean);
  const expect = { path: (reply.path || []).map((p) => p.node), ends: reply.ended ? "hangup" : "waiting" };
  if (sms.length) expect.sms = sms.map((m) => ({ to: m.to, contains: m.body }));
  else expect.no_sms = true;
  test.expect = expect;
  return test;
}
