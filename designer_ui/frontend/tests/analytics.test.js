import { describe, expect, it } from "vitest";
import { funnel, funnelPair, graphUrl, judge, KPIS, series, statsUrl, tiles, verdict } from "../src/analytics/figures.js";

const hours = (calls) => Array.from({ length: 24 }, (_, hour) => ({ hour, calls: hour === 9 ? calls : 0, abandoned: hour === 9 ? 1 : 0 }));

function report(version, kpis, nodes, abandonedAt = {}) {
  const all = Object.fromEntries(KPIS.map((k) => [k.key, 0]));
  Object.assign(all, kpis);
  const rate = (key) => (all.calls ? all[key] / all.calls : null);
  return {
    version,
    calls: all.calls,
    kpis: all,
    rates: { contained: rate("contained"), routed: rate("routed"), abandoned: rate("abandoned"), voicemails: rate("voicemails"), callbacks_scheduled: rate("callbacks_scheduled") },
    abandoned_at: abandonedAt,
    by_hour: hours(all.calls),
    by_day: [{ date: "2026-11-30", calls: all.calls, abandoned: all.abandoned }],
    nodes,
  };
}

const v12 = report(12, { calls: 10, abandoned: 4, avg_seconds_to_agent: 30 }, {
  menu: { entered: 10, exits: { 1: 6 }, hung_up: 4 },
  bye: { entered: 6, exits: {}, hung_up: 0 },
}, { menu: 4 });
const v13 = report(13, { calls: 20, abandoned: 4, avg_seconds_to_agent: 25.5 }, {
  menu: { entered: 20, exits: { 1: 16 }, hung_up: 4 },
  help: { entered: 3, exits: {}, hung_up: 0 },
}, { menu: 4 });
const comparison = {
  versions: [v12, v13],
  delta: { ...Object.fromEntries(KPIS.map((k) => [k.key, v13.kpis[k.key] - v12.kpis[k.key]])), avg_seconds_to_agent: -4.5 },
  rates_delta: { contained: null, routed: 0, abandoned: -0.2, voicemails: 0, callbacks_scheduled: 0 },
};

describe("tiles", () => {
  it("shows each KPI in words with its share of calls", () => {
    const shown = tiles(v12);
    expect(shown.map((t) => t.key)).toEqual(KPIS.map((k) => k.key));
    const abandoned = shown.find((t) => t.key === "abandoned");
    expect([abandoned.label, abandoned.text, abandoned.sub]).toEqual(["Abandoned", "4", "40% of calls"]);
    expect(shown.find((t) => t.key === "avg_seconds_to_agent").text).toBe("30 s");
  });

  it("judges a comparison by the share of calls when the traffic differs", () => {
    const abandoned = tiles(v13, comparison).find((t) => t.key === "abandoned");
    // the same count, but a fifth of the calls fewer: better
    expect([abandoned.text, abandoned.base, abandoned.delta, abandoned.verdict]).toEqual(["4", "v12: 4", "±0 (\u221220 pts)", "better"]);
    const wait = tiles(v13, comparison).find((t) => t.key === "avg_seconds_to_agent");
    expect([wait.delta, wait.verdict]).toEqual(["\u22124.5 s", "better"]);
    expect(judge(KPIS.find((k) => k.key === "calls"), 10)).toBe("same");
    const none = { ...comparison, delta: { ...comparison.delta, avg_seconds_to_agent: null } };
    expect(tiles(v13, none).find((t) => t.key === "avg_seconds_to_agent").delta).toBe("");
  });

  it("says whether the newer version lost fewer callers", () => {
    expect(verdict(comparison)).toBe("v13 lost fewer callers than v12: 20 points fewer abandoned.");
  });
});

describe("funnel", () => {
  it("lists nodes busiest first with their drop-off", () => {
    const rows = funnel(v12, { menu: { label: "Main menu", type: "menu" } });
    expect(rows.map((r) => [r.id, r.label, r.entered, r.hungUp, r.gaveUp, r.dropOff])).toEqual([
      ["menu", "Main menu", 10, 4, 4, 0.4],
      ["bye", "bye", 6, 0, 0, 0],
    ]);
    expect(rows[0].share).toBe(1);
  });

  it("joins two versions' nodes, a node missing from one counting zero", () => {
    const rows = funnelPair(comparison);
    expect(rows.map((r) => [r.id, r.base.entered, r.other.entered])).toEqual([
      ["menu", 10, 20],
      ["bye", 6, 0],
      ["help", 0, 3],
    ]);
    expect([rows[0].base.dropOff, rows[0].other.dropOff]).toEqual([0.4, 0.2]);
  });
});

describe("series and links", () => {
  it("draws one or two versions by hour and by day", () => {
    expect(series(v12).byHour.map((d) => d.label)).toEqual(["Calls", "Abandoned"]);
    const two = series(v13, comparison);
    expect(two.hours[9]).toBe("09:00");
    expect(two.byHour.map((d) => d.label)).toEqual(["Calls (v12)", "Abandoned (v12)", "Calls (v13)", "Abandoned (v13)"]);
    expect(two.byDay[2].data).toEqual([20]);
  });

  it("asks the API and the editor for the page's scope", () => {
    expect(statsUrl("acme", { since: "2026-11-01", until: "", version: "13", compare: "12" })).toBe(
      "/api/flows/acme/stats/?since=2026-11-01&version=13&compare=12",
    );
    expect(statsUrl("acme", {})).toBe("/api/flows/acme/stats/");
    expect(graphUrl("/designer/flows/acme/", { version: "13", compare: "12", since: "2026-11-01" })).toBe(
      "/designer/flows/acme/?traffic=1&since=2026-11-01&version=13",
    );
  });
});
