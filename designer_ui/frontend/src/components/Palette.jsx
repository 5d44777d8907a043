import { memo } from "react";
import { styleFor } from "../summary.js";

export const DRAG_TYPE = "application/x-callflow-node-type";

/** Every node type from /api/node-types/: click to add at the centre, or drag onto the canvas. */
function Palette({ nodeTypes, onAdd }) {
  return (
    <aside className="cf-palette" aria-label="Node types">
      <h2>Add a node</h2>
      <ul>
        {nodeTypes.map((t) => {
          const style = styleFor(t);
          return (
            <li key={t.type}>
              <button
                type="button"
                className="cf-palette-entry"
                data-node-type={t.type}
                title={`${t.title}: ${t.description} (click to add, or drag onto the canvas)`}
                draggable
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_TYPE, t.type);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onClick={() => onAdd(t.type)}
                style={{ "--cf-type": style.color }}
              >
                <span className="cf-node-icon" aria-hidden="true">{style.icon}</span>
                <span>{t.title}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}

export default memo(Palette);
