import { useMemo } from "react";
import NodePanel from "../components/NodePanel.jsx";
import SettingsPanel from "../components/SettingsPanel.jsx";
import ProblemsPanel from "../components/ProblemsPanel.jsx";
import VersionsPanel from "../components/VersionsPanel.jsx";
import SimulatorPanel from "../components/SimulatorPanel.jsx";
import TestsPanel from "../components/TestsPanel.jsx";

const TABS = [
  ["node", "Node"],
  ["flow", "Flow"],
  ["problems", "Problems"],
  ["versions", "Versions"],
  ["simulator", "Simulate"],
  ["tests", "Tests"],
];

/** The right-hand panel: the selected node, flow settings, problems, versions, simulator, tests. */
export default function Sidebar(props) {
  const { tab, setTab, slug, doc, selectedNode, selectedCount, typesByName, problems, checking, perms, dirty, actions } = props;
  const nodeIds = useMemo(() => doc.nodes.map((n) => n.id), [doc.nodes]);
  const taken = useMemo(() => new Set(nodeIds), [nodeIds]);
  const errors = problems.filter((p) => p.severity === "error").length;
  const readOnly = !perms.can_edit;
  const label = (key, text) => {
    if (key === "problems" && problems.length) return `${text} (${problems.length})`;
    return text;
  };
  return (
    <aside className="cf-sidebar">
      <nav className="cf-tabs" role="tablist">
        {TABS.filter(([key]) => key !== "simulator" || perms.can_edit).map(([key, text]) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={tab === key}
            className={`cf-tab${tab === key ? " cf-tab-active" : ""}${key === "problems" && errors ? " cf-tab-errors" : ""}`}
            title={text}
            data-tab={key}
            onClick={() => setTab(key)}
          >
            {label(key, text)}
          </button>
        ))}
      </nav>
      <div className="cf-panel">
        {tab === "node" &&
          (selectedNode ? (
            <NodePanel
              node={selectedNode}
              typeInfo={typesByName[selectedNode.data.type]}
              problems={problems}
              taken={taken}
              readOnly={readOnly}
              onRename={actions.rename}
              onLabel={actions.setLabel}
              onConfig={actions.setConfig}
            />
          ) : (
            <p className="cf-muted">
              {selectedCount > 1 ? `${selectedCount} nodes selected.` : "Select a node on the canvas to edit it."}
            </p>
          ))}
        {tab === "flow" && <SettingsPanel settings={doc.settings} nodeIds={nodeIds} readOnly={readOnly} onChange={actions.setSettings} />}
        {tab === "problems" && <ProblemsPanel problems={problems} checking={checking} onPick={props.onPick} />}
        {tab === "versions" && (
          <VersionsPanel
            slug={slug}
            canPublish={perms.can_publish}
            canEdit={perms.can_edit}
            refreshKey={props.versionsKey}
            diff={props.diff}
            onDiff={props.onDiff}
            onClearDiff={props.onClearDiff}
            onRollback={props.onRollback}
            onRestore={props.onRestore}
            onPick={props.onPick}
          />
        )}
        {tab === "simulator" && <SimulatorPanel slug={slug} dirty={dirty} onPath={props.onPath} />}
        {tab === "tests" && <TestsPanel slug={slug} dirty={dirty} canEdit={perms.can_edit} onPath={props.onPath} nodeIds={nodeIds} />}
      </div>
    </aside>
  );
}
