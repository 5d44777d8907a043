import { useState } from "react";
import { ProblemList } from "./ProblemsPanel.jsx";

function Modal({ title, children, onClose, label }) {
  return (
    <div className="cf-modal-backdrop" role="presentation">
      <div className="cf-modal" role="dialog" aria-modal="true" aria-label={label || title}>
        <h2>{title}</h2>
        {children}
        {onClose && (
          <button type="button" className="cf-modal-close" title="Close" aria-label="Close" onClick={onClose}>
            ×
          </button>
        )}
      </div>
    </div>
  );
}

/** The second save of a draft someone else changed: never overwrite without asking. */
export function ConflictDialog({ conflict, onReload, onOverwrite, onClose }) {
  const when = conflict.updated_at ? new Date(conflict.updated_at).toLocaleString() : "";
  return (
    <Modal title="This flow was changed meanwhile" onClose={onClose}>
      <p className="cf-conflict" data-conflict>
        {conflict.detail || `Changed by ${conflict.updated_by} at ${when}. Reload, or overwrite their changes.`}
      </p>
      <p className="cf-muted">Reloading discards your unsaved changes; overwriting discards theirs.</p>
      <div className="cf-modal-actions">
        <button type="button" className="cf-button" title="Load their version and drop your changes" onClick={onReload}>Reload</button>
        <button type="button" className="cf-button cf-danger" title="Save your version over theirs" onClick={onOverwrite}>Overwrite</button>
      </div>
    </Modal>
  );
}

export function PublishDialog({ dirty, busy, refused, onPublish, onClose, onPick }) {
  const [note, setNote] = useState("");
  return (
    <Modal title="Publish" onClose={onClose}>
      {refused ? (
        <div data-publish-refused>
          <p className="cf-error">{refused.detail || "Publishing was refused."}</p>
          <ProblemList problems={refused.problems || []} onPick={onPick} />
        </div>
      ) : (
        <>
          <p>New calls will run this version from now on; calls in progress keep theirs.</p>
          {dirty && <p className="cf-muted">Your unsaved changes are saved first.</p>}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (!busy) onPublish(note);
            }}
          >
            <label className="cf-field">
              <span>Note</span>
              <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="What changed?" aria-label="Publish note" autoFocus />
            </label>
          </form>
        </>
      )}
      <div className="cf-modal-actions">
        {!refused && (
          <button type="button" className="cf-button" title="Publish the draft" disabled={busy} onClick={() => onPublish(note)} data-confirm-publish>
            Publish
          </button>
        )}
        <button type="button" className="cf-button cf-secondary" title="Close" onClick={onClose}>
          {refused ? "Close" : "Cancel"}
        </button>
      </div>
    </Modal>
  );
}

export function ConfirmDialog({ title, message, confirm, onConfirm, onClose }) {
  return (
    <Modal title={title} onClose={onClose}>
      <p>{message}</p>
      <div className="cf-modal-actions">
        <button type="button" className="cf-button" title={confirm} onClick={onConfirm} data-confirm>{confirm}</button>
        <button type="button" className="cf-button cf-secondary" title="Cancel" onClick={onClose}>Cancel</button>
      </div>
    </Modal>
  );
}
