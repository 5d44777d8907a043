// Unit tests of the node forms' words: `npm test`.
import { test } from "vitest";
import assert from "node:assert/strict";
import { choiceLabels, labelOf, words } from "../src/formLabels.js";
import { formSchemas } from "../src/schemaForm.js";

test("keys read as words", () => {
  assert.equal(words("min_digits"), "Min digits");
  assert.equal(words("audio_url"), "Audio URL");
  assert.equal(words("GET"), "Get");
});

test("a schema's title wins; numbers get their unit once", () => {
  assert.equal(labelOf("return_after", { type: "integer" }, "redirect"), "Wait for the call to come back (seconds)");
  assert.equal(labelOf("timeout", { type: "integer", title: "Ring for" }, "route"), "Ring for (seconds)");
  assert.equal(labelOf("timeout", { type: "integer", title: "Silence (seconds)" }, "input"), "Silence (seconds)");
  assert.equal(labelOf("min_digits", { type: "integer" }, "input"), "Fewest keys");
  assert.equal(labelOf("timeout", { type: "string" }, "x"), "Wait for an answer");
  assert.equal(labelOf("channels", { enum: ["mono", "dual"] }, "record_call"), "Channels");
});

test("choices read as words, by type and key", () => {
  assert.deepEqual(choiceLabels("action", ["start", "stop"], "record_call"), {
    start: "Start recording the call",
    stop: "Stop recording the call",
  });
  assert.deepEqual(choiceLabels("method", ["GET", "POST"], "redirect"), { GET: "GET", POST: "POST" });
  assert.deepEqual(choiceLabels("mode", ["link_sms", "new_thing"], "other"), { link_sms: "Link SMS", new_thing: "New thing" });
});

test("the form of a type gets titles and choice labels", () => {
  const { schema, uiSchema } = formSchemas({
    type: "redirect_example",
    config_schema: {
      type: "object",
      properties: {
        url: { type: "string" },
        method: { enum: ["GET", "POST"] },
        return_after: { type: "integer", minimum: 1 },
      },
    },
  });
  assert.equal(schema.properties.url.title, "URL");
  assert.equal(schema.properties.return_after.title, "Wait for the call to come back (seconds)");
  assert.deepEqual(uiSchema.method["ui:enumNames"], { GET: "GET", POST: "POST" });
});
