// Roll back and restore a kept draft, each after a confirmation that says what is kept.
//
// Nothing is lost: the server keeps a draft with unpublished changes when a roll back or a
// restore replaces it; unsaved changes in the editor are saved first so they are kept too.
import { useCallback } from "react";
import { api } from "../api.js";
import { restoreConfirmation, rollbackConfirmation } from "../components/Dialogs.jsx";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

function keptSentence(kept, what) {
  if (!kept) return "";
  return ` ${what} (revision ${kept.revision}, saved ${when(kept.saved_at)}) is kept under Versions, Kept drafts.`;
}

function refusal(e) {
  if (e.status === 409) {
    const who = e.body.updated_by || "someone";
    const at = e.body.updated_at ? ` at ${when(e.body.updated_at)}` : "";
    return `the draft was changed by ${who}${at}. Reload, then try again.`;
  }
  const problem = (e.body.problems || []).find((p) => p.severity === "error");
  return problem ? `${e.message} ${problem.message}` : e.message;
}

export function useDraftHistory({ slug, dirty, infoRef, save, reload, flash, setConfirm }) {
  const savedFirst = useCallback(
    async (what) => {
      if (!dirty || (await save())) return true;
      flash(`Not ${what}: your unsaved changes could not be saved. Undo them or reload the page, then try again.`, "error");
      return false;
    },
    [dirty, save, flash],
  );

  const rollback = useCallback(
    (number) => {
      const info = infoRef.current || {};
      setConfirm({
        ...rollbackConfirmation({ number, unpublished: info.status === "changed", dirty }),
        run: async () => {
          if (!(await savedFirst("rolled back"))) return;
          try {
            const version = await api.rollback(slug, number, `Rolled back to v${number}`);
            await reload();
            flash(`Version ${number} is live again as v${version.number}.${keptSentence(version.kept_draft, "Your unpublished draft")}`);
          } catch (e) {
            flash(`Roll back failed: ${refusal(e)}`, "error");
          }
        },
      });
    },
    [dirty, infoRef, savedFirst, slug, reload, flash, setConfirm],
  );

  const restore = useCallback(
    (kept) => {
      const info = infoRef.current || {};
      setConfirm({
        ...restoreConfirmation({
          kept,
          publishedVersion: info.published_version,
          unpublished: info.status !== "published",
          dirty,
        }),
        run: async () => {
          if (!(await savedFirst("restored"))) return;
          try {
            const flow = await api.restoreDraft(slug, kept.id, infoRef.current.revision);
            await reload();
            flash(
              `The draft of revision ${kept.revision} is the draft again (now revision ${flow.revision}); nothing was published.` +
                keptSentence(flow.kept_draft, "The draft it replaced"),
            );
          } catch (e) {
            flash(`Not restored: ${refusal(e)}`, "error");
          }
        },
      });
    },
    [dirty, infoRef, savedFirst, slug, reload, flash, setConfirm],
  );

  return { rollback, restore };
}
