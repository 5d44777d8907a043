import { describe, expect, it } from "vitest";
import { parseTests, placeOf } from "../src/flowtests.js";

describe("parseTests", () => {
  it("reads a list of tests", () => {
    expect(parseTests('[{"name": "a"}]')).toEqual({ tests: [{ name: "a" }] });
  });
  it("says what is wrong with text that is not a list of tests", () => {
    expect(parseTests("[{").error).toMatch(/^Not valid JSON/);
    expect(parseTests('{"name": "a"}').error).toMatch(/The tests are a list/);
  });
});

describe("placeOf", () => {
  it("names a test, a step and a key in words, counting from 1", () => {
    expect(placeOf("$.tests[0].steps[1].press")).toBe("test 1, step 2, press");
    expect(placeOf("$.tests[2].http[0].url")).toBe("test 3, HTTP answer 1, url");
    expect(placeOf("$.tests[1].expect.sms[0].to")).toBe("test 2, expect, text 1, to");
    expect(placeOf("$.tests[0].expect.path[3]")).toBe("test 1, expect, path, item 4");
    expect(placeOf("$")).toBe("the tests");
  });
});
