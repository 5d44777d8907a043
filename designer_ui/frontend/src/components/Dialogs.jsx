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
          {refused.onlyPlaceholders && (
            <p className="cf-muted" data-placeholder-warning>
              Calls that reach a placeholder hear an apology and run the flow's fallback.
            </p>
          )}
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
        {refused?.onlyPlaceholders && (
          <button type="button" className="cf-button cf-danger" title="Publish with the placeholder nodes" disabled={busy}
            onClick={() => onPublish(refused.note || "", { allowPlaceholders: true })} data-publish-anyway>
            Publish anyway
          </button>
        )}
        <button type="button" className="cf-button cf-secondary" title="Close" onClick={onClose}>
          {refused ? "Close" : "Cancel"}
        </button>
      </div>
    </Modal>
  );
}

/** A question with one action; `note` (what else happens, e.g. what is kept) stands out. */
export function ConfirmDialog({ title, message, note, confirm, onConfirm, onClose }) {
  return (
    <Modal title={title} onClose={onClose}>
      <p>{message}</p>
      {note && (
        <p className="cf-kept-note" data-kept-note>
          {note}
        </p>
      )}
      <div className="cf-modal-actions">
        <button type="button" className="cf-button" title={confirm} onClick={onConfirm} data-confirm>{confirm}</button>
        <button type="button" className="cf-button cf-secondary" title="Cancel" onClick={onClose}>Cancel</button>
      </div>
    </Modal>
  );
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

const KEPT_WHERE = "in the history (Versions tab, under Kept drafts), where you can restore them";

/**
 * What a rollback does, for the confirmation: `unpublished` when the saved draft differs
 * from the live version, `dirty` when the editor holds unsaved changes (saved first).
 */
export function rollbackConfirmation({ number, unpublished, dirty }) {
  let note = "";
  if (dirty) note = `Your unsaved changes are saved first. They and the rest of the draft's unpublished changes will be kept ${KEPT_WHERE}.`;
  else if (unpublished) note = `The draft has changes that were never published. They will be kept ${KEPT_WHERE}.`;
  return {
    title: `Roll back to version ${number}?`,
    message: `Version ${number} is published again as a new version (new calls run it from now on) and becomes the draft.`,
    note,
    confirm: `Roll back to v${number}`,
  };
}

/** What restoring a kept draft does, for the confirmation (nothing is published). */
export function restoreConfirmation({ kept, publishedVersion, unpublished, dirty }) {
  const by = kept.saved_by ? ` by ${kept.saved_by}` : "";
  const live = publishedVersion ? `new calls keep running v${publishedVersion}` : "nothing is live yet";
  let note = "";
  if (dirty) note = `Your unsaved changes are saved first. They and the rest of the current draft's unpublished changes will be kept ${KEPT_WHERE}.`;
  else if (unpublished) note = `The current draft has changes that were never published. They will be kept ${KEPT_WHERE}.`;
  return {
    title: `Restore the draft of revision ${kept.revision}?`,
    message: `The draft saved ${when(kept.saved_at)}${by} becomes the draft again. Nothing is published: ${live}.`,
    note,
    confirm: "Restore this draft",
  };
}
