// What the canvas shows on top of the flow: validation problems, the difference between
// versions, the simulator's path and traffic from real calls; and the live validation.
import { useCallback, useEffect, useState } from "react";
import { api } from "../api.js";
import { edgeId, graphToDefinition } from "../graph.js";

const VALIDATE_DELAY_MS = 700;

function groupProblems(problems) {
  const byNode = {};
  for (const p of problems) {
    if (!p.node) continue;
    const entry = byNode[p.node] || { errors: 0, warnings: 0, messages: [] };
    if (p.severity === "error") entry.errors += 1;
    else entry.warnings += 1;
    entry.messages.push(`${p.severity}: ${p.message}`);
    byNode[p.node] = entry;
  }
  return byNode;
}

export function useOverlays({ slug, decorations, flash, problems, start }) {
  const [diff, setDiff] = useState(null);
  const [statsOn, setStatsOn] = useState(false);
  const [simEdges, setSimEdges] = useState(() => new Set());

  useEffect(() => decorations.set("problems", groupProblems(problems)), [problems, decorations]);
  useEffect(() => decorations.set("start", start ? { [start]: true } : {}), [start, decorations]);

  const showDiff = useCallback(
    async (from, to) => {
      try {
        const result = await api.diff(slug, from, to);
        setDiff(result);
        const marks = {};
        for (const id of result.nodes?.added || []) marks[id] = "added";
        for (const c of result.nodes?.changed || []) marks[c.id] = "changed";
        decorations.set("diff", marks);
      } catch (e) {
        flash(`Cannot compare: ${e.message}`, "error");
      }
    },
    [slug, decorations, flash],
  );
  const clearDiff = useCallback(() => {
    setDiff(null);
    decorations.set("diff", {});
  }, [decorations]);
  // scope: {version, since, until} from the analytics page; the toolbar's button has none.
  const toggleStats = useCallback(async (scope) => {
    const linked = scope || null;
    if (statsOn && !linked) {
      setStatsOn(false);
      decorations.set("stats", {});
      return;
    }
    try {
      const stats = await api.stats(slug, linked || {});
      decorations.set("stats", stats.nodes || {});
      setStatsOn(true);
      const on = stats.version ? ` on v${stats.version}` : "";
      const since = linked?.since ? ` from ${linked.since}` : "";
      const until = linked?.until ? ` to ${linked.until}` : "";
      flash(`Traffic from ${stats.calls ?? 0} calls${on}${since}${until}.`);
    } catch (e) {
      flash(e.status === 404 ? "Traffic statistics are not available on this server yet." : `No traffic: ${e.message}`, "error");
    }
  }, [statsOn, slug, decorations, flash]);

  const showPath = useCallback(
    (path, current) => {
      const marks = {};
      const edges = new Set();
      for (const step of path) {
        marks[step.node] = "visited";
        if (step.exit) edges.add(edgeId(step.node, step.exit));
      }
      if (current) marks[current] = "current";
      decorations.set("sim", marks);
      setSimEdges(edges);
    },
    [decorations],
  );

  return { diff, showDiff, clearDiff, statsOn, toggleStats, showPath, simEdges };
}

/** `?call=<sid>` in the editor's URL (the call history's "Open in the editor"): that call's
 * path lit on the graph, as the simulator lights its own. */
export function useCallPath({ ready, showPath, flash }) {
  useEffect(() => {
    const sid = new URLSearchParams(window.location.search).get("call");
    if (!ready || !sid) return undefined;
    let live = true;
    api
      .call(sid)
      .then((call) => {
        if (!live) return;
        const path = (call.steps || []).map((step) => ({ node: step.node, exit: step.exit }));
        showPath(path, call.ended_at ? null : call.current_node);
        flash(`The path of call ${sid} is lit on the graph (${call.steps.length} steps, ${call.outcome.replace("_", " ")}).`);
      })
      .catch((e) => live && flash(`Cannot show call ${sid}: ${e.message}`, "error"));
    return () => {
      live = false;
    };
  }, [ready, showPath, flash]);
}

/** Validate the draft on the server a moment after the last edit; true while checking. */
export function useLiveValidation({ slug, ready, edit, docRef, validatedEdit, setProblems, flash }) {
  const [checking, setChecking] = useState(false);
  useEffect(() => {
    if (!ready || edit === validatedEdit.current) return undefined;
    const timer = setTimeout(async () => {
      const d = docRef.current;
      setChecking(true);
      try {
        const result = await api.validate(slug, graphToDefinition(d.settings, d.nodes, d.edges));
        if (docRef.current.edit === edit) {
          validatedEdit.current = edit;
          setProblems(result.problems || []);
        }
      } catch (e) {
        if (e.status !== 400) flash(`Could not validate: ${e.message}`, "error");
        else setProblems(e.body.problems || []);
      } finally {
        setChecking(false);
      }
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [edit, ready, slug, docRef, validatedEdit, setProblems, flash]);
  return checking;
}
