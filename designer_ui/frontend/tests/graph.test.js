// The definition <-> canvas model: exits named by the node types' rules, a round trip that
// loses nothing, stale exits kept visible, pasted copies with fresh ids.
import { describe, expect, test } from "vitest";
import {
  cloneNodes,
  definitionToGraph,
  exitsFor,
  freshId,
  graphToDefinition,
  makeEdge,
} from "../src/graph.js";

// as /api/node-types/ serves them (only what the model reads)
const TYPES = {
  say: { fixed_exits: ["next"], exits_from: null },
  hangup: { fixed_exits: [], exits_from: null },
  menu: { fixed_exits: ["no_input", "no_match"], exits_from: { field: "options", key: "key" } },
  branch: { fixed_exits: ["else"], exits_from: { field: "rules", key: "exit" } },
  placeholder: { fixed_exits: [], exits_from: { field: "exit_names", key: null } },
};

describe("exitsFor follows the type's rule", () => {
  test.each([
    ["say", {}, ["next"]],
    ["menu", { options: [{ key: "1" }, { key: 2 }, { key: "" }, {}] }, ["1", "2", "no_input", "no_match"]],
    ["menu", { options: [{ key: "1" }, { key: "1" }] }, ["1", "no_input", "no_match"]],
    ["branch", { rules: [{ exit: "gold" }, { exit: "late" }, { exit: "gold" }] }, ["gold", "late", "else"]],
    ["branch", { rules: "not a list" }, ["else"]],
    ["placeholder", { exit_names: ["success", "failure", { x: 1 }] }, ["success", "failure"]],
    ["placeholder", {}, []],
  ])("%s %j", (type, config, exits) => {
    expect(exitsFor(type, config, TYPES[type])).toEqual(exits);
  });

  test("an unknown type has no exits", () => {
    expect(exitsFor("mystery", {}, undefined)).toEqual([]);
  });
});

const DEFINITION = {
  format: "callflow/1",
  slug: "demo",
  name: "Demo",
  start: "hello",
  nodes: [
    { id: "hello", type: "say", label: "Hello", config: { text: "Hi" }, exits: { next: "menu" }, position: { x: 0, y: 0 } },
    {
      id: "menu",
      type: "menu",
      config: { prompt: "Press 1", options: [{ key: "1" }] },
      exits: { 1: "bye", no_input: "bye", no_match: null, 9: "bye" },
      position: { x: 300, y: 0 },
    },
    { id: "bye", type: "hangup", config: {}, exits: {}, position: { x: 600, y: 0 }, note: "kept" },
  ],
};

describe("definition <-> graph", () => {
  test("edges for connected exits, a stale exit kept, unknown keys kept", () => {
    const { nodes, edges, needsLayout } = definitionToGraph(DEFINITION, TYPES);
    expect(needsLayout).toBe(false);
    expect(edges.map((e) => e.id).sort()).toEqual(
      ["hello\u2192next", "menu\u21921", "menu\u21929", "menu\u2192no_input"].sort(),
    );
    const menu = nodes.find((n) => n.id === "menu");
    expect(menu.data.exits).toEqual(["1", "no_input", "no_match", "9"]);
    expect(nodes.find((n) => n.id === "bye").data.extra).toEqual({ note: "kept" });
  });

  test("a round trip gives the definition back", () => {
    const { settings, nodes, edges } = definitionToGraph(DEFINITION, TYPES);
    expect(graphToDefinition(settings, nodes, edges)).toEqual(DEFINITION);
  });

  test("a node without a position asks for a layout", () => {
    const bare = { ...DEFINITION, nodes: DEFINITION.nodes.map(({ position, ...n }) => n) };
    expect(definitionToGraph(bare, TYPES).needsLayout).toBe(true);
  });

  test("an empty description and voice and a fallback without a node are left out", () => {
    const { nodes, edges } = definitionToGraph(DEFINITION, TYPES);
    const settings = { ...DEFINITION, description: "", voice: "", fallback: { node: "", sms: "x" } };
    delete settings.nodes;
    const out = graphToDefinition(settings, nodes, edges);
    expect(out).not.toHaveProperty("description");
    expect(out).not.toHaveProperty("voice");
    expect(out).not.toHaveProperty("fallback");
  });

  test("an edge names its exit", () => {
    expect(makeEdge("a", "next", "b")).toMatchObject({ source: "a", sourceHandle: "next", target: "b" });
  });
});

describe("copies", () => {
  test("fresh ids, exits between the copies renamed, others cut, positions offset", () => {
    const taken = new Set(["hello", "menu", "bye", "say_1"]);
    const copies = cloneNodes(DEFINITION.nodes.slice(0, 2), taken, { x: 40, y: 40 });
    expect(copies.map((n) => n.id)).toEqual(["say_2", "menu_1"]);
    expect(copies[0].exits).toEqual({ next: "menu_1" });
    expect(copies[1].exits).toEqual({ 1: null, no_input: null, no_match: null, 9: null });
    expect(copies[1].position).toEqual({ x: 340, y: 40 });
  });

  test("freshId takes the smallest free number", () => {
    expect(freshId("say", new Set(["say_1", "say_3"]))).toBe("say_2");
    expect(freshId("time-of-day", new Set())).toBe("time_of_day_1");
  });
});
