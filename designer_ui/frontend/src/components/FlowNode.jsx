import { memo, useContext, useEffect, useRef } from "react";
import { Handle, Position, useUpdateNodeInternals } from "@xyflow/react";
import { summarize, styleFor } from "../summary.js";
import { useDecoration } from "../decorations.js";
import { EditorContext } from "./context.js";

function Badge({ problems }) {
  if (!problems) return null;
  const level = problems.errors ? "error" : "warning";
  const count = problems.errors || problems.warnings;
  return (
    <span className={`cf-badge cf-badge-${level}`} title={problems.messages.join("\n")} data-badge={level}>
      {count}
    </span>
  );
}

function FlowNode({ id, data, selected }) {
  const { decorations, typesByName } = useContext(EditorContext);
  const deco = useDecoration(decorations, id);
  const updateInternals = useUpdateNodeInternals();
  const exitsKey = data.exits.join("|");
  const measuredExits = useRef(exitsKey);
  useEffect(() => {
    // React Flow measures handles on mount; re-measure only when exits come or go.
    if (measuredExits.current === exitsKey) return;
    measuredExits.current = exitsKey;
    updateInternals(id);
  }, [id, exitsKey, updateInternals]);

  const typeInfo = typesByName[data.type];
  const style = styleFor(typeInfo);
  const title = typeInfo?.title || data.type;
  const stats = deco.stats;
  const classes = ["cf-node"];
  if (selected) classes.push("cf-selected");
  if (deco.diff) classes.push(`cf-diff-${deco.diff}`);
  if (deco.sim) classes.push(`cf-sim-${deco.sim}`);
  if (deco.start) classes.push("cf-start");
  return (
    <div className={classes.join(" ")} data-node-id={id} style={{ "--cf-type": style.color }}>
      <Handle type="target" position={Position.Left} id="in" className="cf-target" />
      <div className="cf-node-head">
        <span className="cf-node-icon" aria-hidden="true">{style.icon}</span>
        <span className="cf-node-type">{title}</span>
        {deco.start && <span className="cf-tag">start</span>}
        {deco.diff && <span className={`cf-tag cf-tag-${deco.diff}`}>{deco.diff}</span>}
        {stats && (
          <span className="cf-tag cf-tag-stats" data-stats-entered={stats.entered} title={`${stats.entered} calls entered, ${stats.hung_up || 0} hung up here`}>
            {stats.entered} in{stats.hung_up ? ` \u00b7 ${stats.hung_up} hung up` : ""}
          </span>
        )}
        <Badge problems={deco.problems} />
      </div>
      <div className="cf-node-label">{data.label || id}</div>
      <div className="cf-node-summary">{summarize(typeInfo, data.config)}</div>
      <ul className="cf-exits">
        {data.exits.map((name) => (
          <li key={name} className="cf-exit" data-exit={name}>
            <span className="cf-exit-name">{name}</span>
            {stats && <span className="cf-exit-count">{stats.exits?.[name] ?? 0}</span>}
            <Handle type="source" position={Position.Right} id={name} className="cf-source" title={`exit ${name}`} />
          </li>
        ))}
      </ul>
    </div>
  );
}

export default memo(FlowNode);
