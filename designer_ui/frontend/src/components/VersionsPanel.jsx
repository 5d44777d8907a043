import { useEffect, useState } from "react";
import { api, listOf } from "../api.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function DiffList({ diff, onPick }) {
  const { nodes = {}, exits = {}, settings = [] } = diff;
  const changed = nodes.changed || [];
  const empty =
    !(nodes.added || []).length && !(nodes.removed || []).length && !changed.length &&
    !(exits.added || []).length && !(exits.removed || []).length && !(exits.changed || []).length && !settings.length;
  const pick = (id) => (
    <button type="button" className="cf-link" title={`Select ${id}`} onClick={() => onPick(id)}>
      {id}
    </button>
  );
  return (
    <div className="cf-diff" data-diff>
      <h4>
        v{diff.from} → {diff.to === "draft" ? "draft" : `v${diff.to}`}
      </h4>
      {empty && <p className="cf-muted">No differences.</p>}
      {(nodes.added || []).length > 0 && (
        <p className="cf-diff-added" data-diff-added>Added nodes: {nodes.added.map((id, i) => <span key={id}>{i > 0 && ", "}{pick(id)}</span>)}</p>
      )}
      {(nodes.removed || []).length > 0 && (
        <p className="cf-diff-removed" data-diff-removed>Removed nodes: {nodes.removed.join(", ")}</p>
      )}
      {changed.length > 0 && (
        <div className="cf-diff-changed" data-diff-changed>
          Changed nodes:
          <ul>
            {changed.map((c) => (
              <li key={c.id}>{pick(c.id)}: {(c.fields || []).join(", ")}</li>
            ))}
          </ul>
        </div>
      )}
      {["added", "removed", "changed"].map((kind) =>
        (exits[kind] || []).length ? (
          <div key={kind} className={`cf-diff-${kind}`}>
            Exits {kind}:
            <ul>
              {exits[kind].map((e, i) => (
                <li key={i}>
                  {e.node}.{e.exit}: {kind === "changed" ? `${e.from ?? "–"} → ${e.to ?? "–"}` : e.to ?? "–"}
                </li>
              ))}
            </ul>
          </div>
        ) : null,
      )}
      {settings.length > 0 && <p>Settings changed: {settings.join(", ")}</p>}
    </div>
  );
}

/** Unpublished drafts a roll back or a restore replaced: nothing saved is lost. */
function KeptDrafts({ kept, error, canEdit, onRestore }) {
  if (error) return <p className="cf-error">Kept drafts: {error}</p>;
  if (!kept || !kept.length) return null;
  return (
    <div className="cf-kept" data-kept-drafts>
      <h4>Kept drafts</h4>
      <p className="cf-muted">Unpublished work that a roll back or a restore replaced.</p>
      <ul className="cf-version-list">
        {kept.map((k) => (
          <li key={k.id} data-kept-draft={k.id}>
            <div>
              <strong>Draft, revision {k.revision}</strong> {k.restored_at && <span className="cf-tag">restored</span>}
            </div>
            <div className="cf-muted">
              Saved {when(k.saved_at)} {k.saved_by ? `by ${k.saved_by}` : ""}
            </div>
            <div className="cf-note">{k.why}</div>
            <div className="cf-muted">
              Kept {when(k.kept_at)} {k.kept_by ? `by ${k.kept_by}` : ""}
            </div>
            {k.restored_at && (
              <div className="cf-muted">
                Restored {when(k.restored_at)} {k.restored_by ? `by ${k.restored_by}` : ""}
              </div>
            )}
            {canEdit && (
              <button type="button" className="cf-button cf-small" title={`Make the draft of revision ${k.revision} the draft again (nothing is published)`} onClick={() => onRestore(k)} data-restore>
                Restore
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Published versions, the difference between two of them (or the draft), roll back, and
 * the kept drafts a roll back or a restore replaced. */
export default function VersionsPanel({ slug, canPublish, canEdit, refreshKey, diff, onDiff, onClearDiff, onRollback, onRestore, onPick }) {
  const [versions, setVersions] = useState(null);
  const [error, setError] = useState(null);
  const [kept, setKept] = useState(null);
  const [keptError, setKeptError] = useState(null);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("draft");

  useEffect(() => {
    let live = true;
    api
      .versions(slug)
      .then((data) => {
        if (!live) return;
        const list = listOf(data);
        setVersions(list);
        setFrom((f) => f || (list.find((v) => v.is_current) || list[0] || {}).number?.toString() || "");
      })
      .catch((e) => live && setError(e.message));
    api
      .keptDrafts(slug)
      .then((data) => {
        if (!live) return;
        setKept(listOf(data));
        setKeptError(null);
      })
      .catch((e) => live && setKeptError(e.message));
    return () => {
      live = false;
    };
  }, [slug, refreshKey]);

  if (error) return <p className="cf-error">{error}</p>;
  if (!versions) return <p className="cf-muted">Loading versions…</p>;
  const choices = [...versions.map((v) => String(v.number)), "draft"];
  return (
    <div className="cf-versions" data-panel="versions">
      <h3>Versions</h3>
      {versions.length === 0 && <p className="cf-muted">Not published yet.</p>}
      <ul className="cf-version-list">
        {versions.map((v) => (
          <li key={v.number} data-version={v.number} className={v.is_current ? "cf-current" : ""}>
            <div>
              <strong>v{v.number}</strong> {v.is_current && <span className="cf-tag">live</span>}
              {v.rolled_back_from && <span className="cf-muted"> (restores v{v.rolled_back_from})</span>}
            </div>
            <div className="cf-muted">
              {when(v.published_at)} {v.published_by ? `by ${v.published_by}` : ""}
            </div>
            {v.note && <div className="cf-note">{v.note}</div>}
            {canPublish && !v.is_current && (
              <button type="button" className="cf-button cf-small" title={`Publish version ${v.number} again and make it the draft`} onClick={() => onRollback(v.number)}>
                Roll back to v{v.number}
              </button>
            )}
          </li>
        ))}
      </ul>
      <KeptDrafts kept={kept} error={keptError} canEdit={canEdit && !!onRestore} onRestore={onRestore} />
      {versions.length > 0 && (
        <div className="cf-compare">
          <h4>Compare</h4>
          <label>
            from{" "}
            <select value={from} onChange={(e) => setFrom(e.target.value)} aria-label="Compare from">
              {choices.map((c) => <option key={c} value={c}>{c === "draft" ? "draft" : `v${c}`}</option>)}
            </select>
          </label>{" "}
          <label>
            to{" "}
            <select value={to} onChange={(e) => setTo(e.target.value)} aria-label="Compare to">
              {choices.map((c) => <option key={c} value={c}>{c === "draft" ? "draft" : `v${c}`}</option>)}
            </select>
          </label>{" "}
          <button type="button" className="cf-button cf-small" title="Show the difference as a list and on the graph" onClick={() => onDiff(from, to)}>
            Show difference
          </button>
          {diff && (
            <button type="button" className="cf-button cf-small cf-secondary" title="Remove the highlights" onClick={onClearDiff}>
              Clear
            </button>
          )}
        </div>
      )}
      {diff && <DiffList diff={diff} onPick={onPick} />}
    </div>
  );
}
