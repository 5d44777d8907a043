// A flow's analytics page: the KPI tiles, the charts by hour and by day (chart.js), the
// per-node funnel and, for two versions, their differences. Everything comes from
// GET /api/flows/<slug>/stats/ with the period and versions the server-rendered form picked.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { request } from "../api.js";
import { funnel, funnelPair, graphUrl, percent, pointsChange, series, statsUrl, tiles, verdict } from "./figures.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

const config = JSON.parse(document.getElementById("analytics-config").textContent);
const COLOURS = { calls: ["#417690", "#79aec8"], abandoned: ["#ba2121", "#e8a0a0"] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function renderTiles(stats, comparison) {
  const box = document.getElementById("kpi-tiles");
  box.replaceChildren(
    ...tiles(stats, comparison).map((t) => {
      const tileNode = el(
        "div",
        { class: "cf-tile", "data-kpi": t.key },
        el("h3", { text: t.label }),
        el("div", { class: "cf-value", "data-value": t.value ?? "", text: t.text }),
        el("div", { class: "cf-sub", text: t.sub }),
      );
      if (t.base) {
        tileNode.append(
          el("div", { class: "cf-base" }, `${t.base} `, el("span", { class: `cf-${t.verdict}`, "data-delta": "", text: t.delta })),
        );
      }
      return tileNode;
    }),
  );
}

function chart(id, type, labels, datasets) {
  const canvas = document.getElementById(id);
  const colourIndex = {};
  const sets = datasets.map((d) => {
    const i = colourIndex[d.kind] ?? 0;
    colourIndex[d.kind] = i + 1;
    const colour = COLOURS[d.kind][i % 2];
    return { label: d.label, data: d.data, backgroundColor: colour, borderColor: colour, tension: 0, pointRadius: 2 };
  });
  Chart.getChart(canvas)?.destroy();
  new Chart(canvas, {
    type,
    data: { labels, datasets: sets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.dataset.rendered = "1";
  canvas.dataset.series = JSON.stringify(datasets.map((d) => d.data));
}

function renderCharts(stats, comparison) {
  const s = series(stats, comparison);
  chart("chart-by-hour", "bar", s.hours, s.byHour);
  chart("chart-by-day", s.days.length > 1 ? "line" : "bar", s.days, s.byDay);
}

function bar(share, drop = false) {
  const width = Math.round(Math.min(1, share || 0) * 80);
  return el("span", { class: `cf-bar${drop ? " cf-bar-drop" : ""}`, style: `width:${width}px` });
}

function nodeCell(row) {
  return el("th", { scope: "row" }, row.label, row.label !== row.id ? el("div", { class: "quiet", text: row.id }) : "");
}

function renderFunnel(stats) {
  const table = document.getElementById("funnel");
  const head = ["Node", "Type", "Entered", "Share of calls", "Exits taken", "Hung up here", "Abandoned here", "Drop-off"];
  table.tHead.replaceChildren(el("tr", {}, ...head.map((h, i) => el("th", { class: i >= 2 && i !== 4 ? "cf-num" : "", text: h }))));
  table.tBodies[0].replaceChildren(
    ...funnel(stats, config.labels).map((row) =>
      el(
        "tr",
        { "data-node": row.id },
        nodeCell(row),
        el("td", { text: row.type }),
        el("td", { class: "cf-num", "data-entered": "", text: String(row.entered) }),
        el("td", { class: "cf-num" }, bar(row.share), percent(row.share)),
        el("td", { class: "cf-exits", text: row.exits.map(([name, n]) => `${name}: ${n}`).join(" · ") || "–" }),
        el("td", { class: "cf-num", "data-hung-up": "", text: String(row.hungUp) }),
        el("td", { class: "cf-num", "data-gave-up": "", text: String(row.gaveUp) }),
        el("td", { class: "cf-num", "data-drop-off": "" }, bar(row.dropOff, true), percent(row.dropOff)),
      ),
    ),
  );
}

function renderFunnelPair(comparison) {
  const [base, other] = comparison.versions.map((v) => `v${v.version}`);
  const table = document.getElementById("funnel");
  const head = ["Node", "Type", `Entered ${base}`, `Entered ${other}`, `Hung up ${base}`, `Hung up ${other}`, `Drop-off ${base}`, `Drop-off ${other}`, "Change"];
  table.tHead.replaceChildren(el("tr", {}, ...head.map((h, i) => el("th", { class: i >= 2 ? "cf-num" : "", text: h }))));
  table.tBodies[0].replaceChildren(
    ...funnelPair(comparison, config.labels).map((row) => {
      const change = pointsChange(row.base.dropOff, row.other.dropOff);
      const worse = row.base.dropOff !== null && row.other.dropOff !== null && row.other.dropOff > row.base.dropOff;
      const better = row.base.dropOff !== null && row.other.dropOff !== null && row.other.dropOff < row.base.dropOff;
      return el(
        "tr",
        { "data-node": row.id },
        nodeCell(row),
        el("td", { text: row.type }),
        el("td", { class: "cf-num", text: String(row.base.entered) }),
        el("td", { class: "cf-num", text: String(row.other.entered) }),
        el("td", { class: "cf-num", text: String(row.base.hungUp) }),
        el("td", { class: "cf-num", text: String(row.other.hungUp) }),
        el("td", { class: "cf-num", text: percent(row.base.dropOff) }),
        el("td", { class: "cf-num", text: percent(row.other.dropOff) }),
        el("td", { class: `cf-num ${worse ? "cf-worse" : better ? "cf-better" : "cf-same"}`, text: change }),
      );
    }),
  );
}

function showError(error) {
  // The API names the parameter at the start of `detail` ("until: must be later than since").
  const box = document.getElementById("analytics-error");
  const refused = error.status === 400 || error.status === 404;
  box.textContent = refused ? `The period or version cannot be shown: ${error.message}` : error.message;
  box.hidden = false;
  document.getElementById("analytics-status").textContent = "";
}

async function load() {
  const status = document.getElementById("analytics-status");
  try {
    const answer = await request("GET", statsUrl(config.slug, config.query));
    const comparison = answer.versions ? answer : null;
    const stats = comparison ? answer.versions[1] : answer;
    renderTiles(stats, comparison);
    renderCharts(stats, comparison);
    if (comparison) renderFunnelPair(comparison);
    else renderFunnel(stats);
    const title = document.getElementById("comparison-title");
    title.hidden = !comparison;
    title.textContent = comparison ? verdict(comparison) : "";
    const link = document.getElementById("graph-link");
    link.href = graphUrl(config.editor_url, { ...config.query, version: stats.version ? String(stats.version) : "" });
    const root = document.getElementById("analytics");
    root.hidden = false;
    root.dataset.ready = "1";
    status.textContent = `${stats.calls} call${stats.calls === 1 ? "" : "s"}${stats.version ? ` on v${stats.version}` : ""}.`;
  } catch (error) {
    showError(error);
  }
}

const period = document.getElementById("pick-period");
period.addEventListener("change", () => {
  const custom = period.value === "custom";
  document.getElementById("pick-dates").hidden = !custom;
  for (const input of document.querySelectorAll("#pick-dates input")) input.disabled = !custom;
});
load();
