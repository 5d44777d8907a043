// The import report on the flow list page: per imported flow, what it became and, for a
// converted file (Twilio Studio, Amazon Connect), per node what was converted, approximated,
// left out or left as a placeholder, and what to do. The same report as import_flows prints.

const KINDS = {
  placeholder: { title: "Placeholder", help: "Replace it before publishing: calls reaching it run the fallback." },
  approximated: { title: "Approximated", help: "Converted with changes: check it." },
  dropped: { title: "Left out", help: "No effect here: calls go past it." },
  converted: { title: "Converted", help: "Converted as it was." },
};
const ORDER = ["placeholder", "approximated", "dropped", "converted"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** What happened to the flow, in words: "created as a draft", "published as version 2"... */
export function outcome(flow) {
  const what = flow.created ? "created" : flow.changed ? "draft changed" : "unchanged";
  if (flow.published) return `${what}, published as version ${flow.published_version}`;
  if (flow.published_version) return `${what} (version ${flow.published_version} stays published)`;
  return `${what} as a draft`;
}

function counts(report) {
  const found = {};
  for (const line of report) found[line.kind] = (found[line.kind] || 0) + 1;
  const word = (k) => (k === "placeholder" && found[k] > 1 ? "placeholders" : KINDS[k].title.toLowerCase());
  return ORDER.filter((k) => found[k]).map((k) => `${found[k]} ${word(k)}`).join(", ");
}

function row(line, editorUrl) {
  const node = line.node
    ? el("a", { href: editorUrl, title: `Open the flow (node ${line.node})`, text: line.node })
    : el("span", { class: "quiet", text: "no node" });
  const source = [line.source_type, line.source].filter(Boolean).join(" ");
  return el(
    "tr",
    { "data-report-line": line.kind, ...(line.node ? { "data-node": line.node } : {}) },
    el("td", {}, node),
    el("td", { text: source || "–" }),
    el("td", {}, el("span", { class: `cf-kind cf-kind-${line.kind}`, title: KINDS[line.kind]?.help || "", text: KINDS[line.kind]?.title || line.kind })),
    el("td", { text: line.message }),
  );
}

function table(lines, editorUrl) {
  return el(
    "table",
    { class: "cf-report" },
    el("thead", {}, el("tr", {}, el("th", { text: "Node" }), el("th", { text: "From" }), el("th", { text: "Result" }), el("th", { text: "What to do" }))),
    el("tbody", {}, ...lines.map((line) => row(line, editorUrl))),
  );
}

function flowSection(flow, editorUrl) {
  const url = editorUrl.replace("__slug__", flow.slug);
  const section = el("section", { class: "cf-report-flow", "data-report-flow": flow.slug });
  section.append(el("h3", {}, el("a", { href: url, text: flow.slug }), ` (${flow.file}): ${outcome(flow)}`));
  if (flow.converted_from) {
    const report = flow.report || [];
    section.append(el("p", { text: `Converted from ${flow.converted_from}: ${counts(report) || "nothing to report"}.` }));
    const attention = report.filter((l) => l.kind !== "converted");
    attention.sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
    if (attention.length) section.append(table(attention, url));
    const same = report.filter((l) => l.kind === "converted");
    if (same.length) {
      const details = el("details", { class: "cf-report-converted" }, el("summary", { text: `${same.length} nodes converted as they were` }));
      details.append(table(same, url));
      section.append(details);
    }
  }
  if ((flow.held_by || []).length) {
    const text = `Not published: it enters ${flow.held_by.join(", ")}, imported as a draft for its placeholder nodes. Replace them there, or import again with Placeholders ticked.`;
    section.append(el("p", { class: "cf-report-placeholders", text }));
  }
  if ((flow.placeholders || []).length && !flow.published) {
    const nodes = `${flow.placeholders.length} placeholder node(s) (${flow.placeholders.join(", ")})`;
    const text = flow.held
      ? `Not published: the flow has ${nodes}. Replace them, or import again with Placeholders ticked to publish it anyway.`
      : `Imported as a draft: ${nodes}. Replace them before publishing.`;
    section.append(el("p", { class: "cf-report-placeholders", text }));
  }
  for (const warning of flow.warnings || []) {
    section.append(el("p", { class: "cf-muted", text: `Warning: ${[warning.node, warning.message].filter(Boolean).join(" — ")}` }));
  }
  return section;
}

/** The whole report of an import answer ({flows: [...]}) into `box`. */
export function showReport(box, result, editorUrl) {
  box.hidden = false;
  box.textContent = "";
  const flows = result.flows || [];
  box.append(el("h2", { text: flows.length ? `Imported ${flows.map((f) => f.slug).join(", ")}` : "Nothing new was imported" }));
  for (const flow of flows) box.append(flowSection(flow, editorUrl));
  for (const tests of result.tests || []) {
    const what = tests.changed ? "kept with the flow; publishing runs them" : "unchanged";
    box.append(el("p", { text: `${tests.slug}: ${tests.count} flow test(s) from ${tests.file}, ${what}.`, "data-imported-tests": tests.slug }));
  }
}
