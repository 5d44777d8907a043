// Delete, Ctrl+C/V/D, Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y), Ctrl+S. Typing in a field is left alone,
// except Ctrl+S which saves from anywhere.
import { useEffect, useRef } from "react";

const typing = (target) => !!(target && target.closest && target.closest("input, textarea, select, [contenteditable=true]"));

export function useKeyboard(handlers) {
  const ref = useRef(handlers);
  ref.current = handlers;
  useEffect(() => {
    function onKey(e) {
      const h = ref.current;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === "s") {
        e.preventDefault();
        if (h.canEdit) h.save();
        return;
      }
      if (!h.canEdit || typing(e.target) || document.querySelector(".cf-modal")) return;
      if (!mod && (e.key === "Delete" || e.key === "Backspace")) {
        e.preventDefault();
        h.remove();
      } else if (mod && key === "c") h.copy();
      else if (mod && key === "v") h.paste();
      else if (mod && key === "d") {
        e.preventDefault();
        h.duplicate();
      } else if (mod && key === "z") {
        e.preventDefault();
        if (e.shiftKey) h.redo();
        else h.undo();
      } else if (mod && key === "y") {
        e.preventDefault();
        h.redo();
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
