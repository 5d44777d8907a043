/** Validation problems from the server; clicking one selects the node it concerns. */
export default function ProblemsPanel({ problems, checking, onPick }) {
  const errors = problems.filter((p) => p.severity === "error").length;
  return (
    <div className="cf-problems" data-panel="problems">
      <h3>
        Problems {checking && <small className="cf-muted">checking…</small>}
      </h3>
      {problems.length === 0 ? (
        <p className="cf-ok">No problems found.</p>
      ) : (
        <>
          <p className="cf-muted">
            {errors} error{errors === 1 ? "" : "s"}, {problems.length - errors} warning{problems.length - errors === 1 ? "" : "s"}
          </p>
          <ProblemList problems={problems} onPick={onPick} />
        </>
      )}
    </div>
  );
}

export function ProblemList({ problems, onPick }) {
  return (
    <ul className="cf-problem-list">
      {problems.map((p, i) => (
        <li key={i} className={`cf-problem cf-problem-${p.severity}`} data-problem-node={p.node || ""}>
          <button type="button" title={p.node ? `Select ${p.node}` : p.path} onClick={() => p.node && onPick && onPick(p.node)} disabled={!p.node || !onPick}>
            <span className="cf-problem-severity">{p.severity}</span>
            {p.node && <code>{p.node}</code>} {p.message}
            {!p.node && p.path && <small className="cf-muted"> ({p.path})</small>}
          </button>
        </li>
      ))}
    </ul>
  );
}
