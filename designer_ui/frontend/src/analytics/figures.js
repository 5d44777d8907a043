// What the analytics page shows, from the stats API's answer (docs/api.md): the KPI tiles,
// the comparison of two versions and the per-node funnel. Pure functions, tested by vitest.

/** The KPIs in the order of the tiles, with their words and which way is better. */
export const KPIS = [
  { key: "calls", label: "Calls" },
  { key: "contained", label: "Contained (self-served or texted)", rate: true, better: "up" },
  { key: "routed", label: "Routed to a person", rate: true },
  { key: "abandoned", label: "Abandoned", rate: true, better: "down" },
  { key: "voicemails", label: "Voicemails", rate: true },
  { key: "callbacks_offered", label: "Callbacks offered" },
  { key: "callbacks_scheduled", label: "Callbacks scheduled", rate: true },
  { key: "callbacks_completed", label: "Callbacks completed", better: "up" },
  { key: "sms_sent", label: "Texts sent" },
  { key: "sms_delivered", label: "Texts delivered", better: "up" },
  { key: "avg_seconds_to_agent", label: "Seconds to reach a person (average)", better: "down", seconds: true },
];

const number = new Intl.NumberFormat("en-GB");
const decimal = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });

export function formatValue(kpi, value) {
  if (value === null || value === undefined) return "–";
  return kpi.seconds ? `${decimal.format(value)} s` : number.format(value);
}

export function formatRate(rate) {
  return rate === null || rate === undefined ? "" : `${decimal.format(rate * 100)}% of calls`;
}

/** "better", "worse" or "same" for a change of `delta` in a KPI. */
export function judge(kpi, delta) {
  if (!delta || !kpi.better) return "same";
  return (delta > 0) === (kpi.better === "up") ? "better" : "worse";
}

function signed(value, unit = "") {
  if (value === null || value === undefined) return "–";
  const sign = value > 0 ? "+" : value < 0 ? "\u2212" : "\u00b1";
  return `${sign}${decimal.format(Math.abs(value))}${unit}`;
}

/** One tile: the figure, its share of calls, and in a comparison the other version's. */
export function tile(kpi, stats, comparison) {
  const value = stats.kpis[kpi.key];
  const out = {
    key: kpi.key,
    label: kpi.label,
    value,
    text: formatValue(kpi, value),
    sub: kpi.rate ? formatRate(stats.rates[kpi.key]) : "",
  };
  if (!comparison) return out;
  const [base] = comparison.versions;
  const delta = comparison.delta[kpi.key];
  const rateDelta = kpi.rate ? comparison.rates_delta[kpi.key] : null;
  // A share of calls says more than a count when the two versions had different traffic.
  const judged = rateDelta !== null && rateDelta !== undefined ? rateDelta : delta;
  out.base = `v${base.version}: ${formatValue(kpi, base.kpis[kpi.key])}`;
  if (delta === null || delta === undefined) out.delta = "";
  else out.delta = kpi.seconds ? signed(delta, " s") : signed(delta);
  if (out.delta && rateDelta !== null && rateDelta !== undefined) out.delta += ` (${signed(rateDelta * 100, " pts")})`;
  out.verdict = judge(kpi, judged);
  return out;
}

export function tiles(stats, comparison = null) {
  return KPIS.map((kpi) => tile(kpi, stats, comparison));
}

/** The sentence over a comparison: did the newer version lose fewer callers? */
export function verdict(comparison) {
  const [base, other] = comparison.versions;
  const change = comparison.rates_delta.abandoned;
  if (change === null || change === undefined) {
    return `v${other.version} beside v${base.version}: not enough calls to compare abandonment.`;
  }
  const pts = decimal.format(Math.abs(change * 100));
  if (change < 0) return `v${other.version} lost fewer callers than v${base.version}: ${pts} points fewer abandoned.`;
  if (change > 0) return `v${other.version} lost more callers than v${base.version}: ${pts} points more abandoned.`;
  return `v${other.version} and v${base.version} lost the same share of callers.`;
}

function dropOff(entry) {
  return entry.entered ? entry.hung_up / entry.entered : null;
}

/** The funnel: every node, busiest first, with its exits, hang-ups and drop-off. */
export function funnel(stats, labels = {}) {
  const rows = Object.entries(stats.nodes).map(([id, entry]) => ({
    id,
    label: labels[id]?.label || id,
    type: labels[id]?.type || "",
    entered: entry.entered,
    share: stats.calls ? entry.entered / stats.calls : null,
    exits: Object.entries(entry.exits).sort((a, b) => b[1] - a[1]),
    hungUp: entry.hung_up,
    gaveUp: stats.abandoned_at[id] || 0,
    dropOff: dropOff(entry),
  }));
  return rows.sort((a, b) => b.entered - a.entered || a.id.localeCompare(b.id));
}

/** Both versions' funnels joined by node, for the comparison table. */
export function funnelPair(comparison, labels = {}) {
  const [base, other] = comparison.versions.map((v) => funnel(v, labels));
  const byId = new Map(base.map((row) => [row.id, { id: row.id, label: row.label, type: row.type, base: row }]));
  for (const row of other) {
    const entry = byId.get(row.id) || { id: row.id, label: row.label, type: row.type };
    entry.other = row;
    byId.set(row.id, entry);
  }
  const empty = { entered: 0, hungUp: 0, gaveUp: 0, dropOff: null };
  const rows = [...byId.values()].map((r) => ({ ...r, base: r.base || empty, other: r.other || empty }));
  return rows.sort((a, b) => b.other.entered + b.base.entered - (a.other.entered + a.base.entered) || a.id.localeCompare(b.id));
}

export function percent(share) {
  return share === null || share === undefined ? "–" : `${decimal.format(share * 100)}%`;
}

export function pointsChange(before, after) {
  if (before === null || after === null) return "–";
  return signed((after - before) * 100, " pts");
}

/** The chart series: by hour (24 labels) and by day, one or two versions. */
export function series(stats, comparison = null) {
  const reports = comparison ? comparison.versions : [stats];
  const named = (report, what) => (comparison ? `${what} (v${report.version})` : what);
  return {
    hours: stats.by_hour.map((row) => `${String(row.hour).padStart(2, "0")}:00`),
    days: stats.by_day.map((row) => row.date),
    byHour: reports.flatMap((r) => [
      { label: named(r, "Calls"), data: r.by_hour.map((row) => row.calls), kind: "calls" },
      { label: named(r, "Abandoned"), data: r.by_hour.map((row) => row.abandoned), kind: "abandoned" },
    ]),
    byDay: reports.flatMap((r) => [
      { label: named(r, "Calls"), data: r.by_day.map((row) => row.calls), kind: "calls" },
      { label: named(r, "Abandoned"), data: r.by_day.map((row) => row.abandoned), kind: "abandoned" },
    ]),
  };
}

/** The stats API's URL for the page's query. */
export function statsUrl(slug, query) {
  const params = new URLSearchParams();
  for (const key of ["since", "until", "version", "compare"]) {
    if (query[key]) params.set(key, query[key]);
  }
  const text = params.toString();
  return `/api/flows/${encodeURIComponent(slug)}/stats/${text ? `?${text}` : ""}`;
}

/** The editor with the traffic overlay on, for the same version and period. */
export function graphUrl(editorUrl, query) {
  const params = new URLSearchParams({ traffic: "1" });
  for (const key of ["since", "until", "version"]) {
    if (query[key]) params.set(key, query[key]);
  }
  return `${editorUrl}?${params}`;
}
