import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlow, Background, Controls, MiniMap, applyEdgeChanges, applyNodeChanges, useReactFlow } from "@xyflow/react";
import { api } from "../api.js";
import { createDecorations } from "../decorations.js";
import { definitionToGraph, graphToDefinition, makeEdge } from "../graph.js";
import { layoutGraph } from "../layout.js";
import { styleFor } from "../summary.js";
import FlowNode from "../components/FlowNode.jsx";
import { EditorContext } from "../components/context.js";
import Palette, { DRAG_TYPE } from "../components/Palette.jsx";
import Toolbar from "../components/Toolbar.jsx";
import Sidebar from "./Sidebar.jsx";
import { ConfirmDialog, ConflictDialog, PublishDialog } from "../components/Dialogs.jsx";
import { useFlowDocument } from "./useFlowDocument.js";
import { useDraftHistory } from "./useDraftHistory.js";
import { useEditActions } from "./useEditActions.js";
import { useKeyboard } from "./useKeyboard.js";
import { useCallPath, useLiveValidation, useOverlays } from "./useOverlays.js";

const NODE_TYPES = { flow: FlowNode };
const FIT_VIEW_LIMIT = 150; // above this, open at the start node instead of fitting everything
// Off-screen nodes are never rendered, so fitting uses their known sizes, not measurements.
const FIT_OPTIONS = { includeHiddenNodes: true, maxZoom: 1, padding: 0.08 };

function trafficFromUrl() {
  const params = new URLSearchParams(window.location.search);
  if (params.get("traffic") !== "1") return null;
  return Object.fromEntries(["version", "since", "until"].map((k) => [k, params.get(k) || ""]));
}

function flowInfo(flow) {
  const { definition, problems, ...info } = flow;
  return info;
}

function openingViewport(nodes, start) {
  const anchor = nodes.find((n) => n.id === start) || nodes[0];
  if (!anchor) return { x: 0, y: 0, zoom: 1 };
  const zoom = 0.8;
  return { x: -anchor.position.x * zoom + 80, y: -anchor.position.y * zoom + 160, zoom };
}

export default function Editor({ slug, listUrl, analyticsUrl, fallbackPerms }) {
  const rf = useReactFlow();
  const { doc, docRef, replace, load, commit, undo, redo, canUndo, canRedo } = useFlowDocument();
  const decorations = useMemo(createDecorations, []);
  const [types, setTypes] = useState(null);
  const [perms, setPerms] = useState(fallbackPerms);
  const [info, setInfo] = useState(null);
  const infoRef = useRef(null);
  infoRef.current = info;
  const [savedEdit, setSavedEdit] = useState(-1);
  const [problems, setProblems] = useState([]);
  const [tab, setTab] = useState("flow");
  const [notice, setNotice] = useState(null);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState(null);
  const [publishing, setPublishing] = useState(null);
  const [confirm, setConfirm] = useState(null);
  const [versionsKey, setVersionsKey] = useState(0);
  const [loadError, setLoadError] = useState(null);
  const [viewport, setViewport] = useState(null);
  const validatedEdit = useRef(-1);
  const canvasRef = useRef(null);

  const canEdit = !!perms.can_edit;
  const dirty = doc.edit !== savedEdit;
  const typesByName = types ? types.byName : {};

  const flash = useCallback((text, kind = "info") => {
    setNotice({ text, kind, at: Date.now() });
  }, []);
  useEffect(() => {
    if (!notice || notice.kind === "error") return undefined;
    const t = setTimeout(() => setNotice(null), 4000);
    return () => clearTimeout(t);
  }, [notice]);

  const applyFlow = useCallback(
    (flow, byName, editable) => {
      const graph = definitionToGraph(flow.definition, byName);
      const nodes = graph.needsLayout ? layoutGraph(graph.nodes, graph.edges, graph.settings.start) : graph.nodes;
      const edit = load({ nodes, edges: graph.edges, settings: graph.settings });
      // a fresh layout is worth saving, by someone who can save it
      setSavedEdit(graph.needsLayout && editable ? -1 : edit);
      validatedEdit.current = edit;
      setInfo(flowInfo(flow));
      setProblems(flow.problems || []);
      return nodes;
    },
    [load],
  );

  // Load the user's permissions, the node types and the flow.
  useEffect(() => {
    let live = true;
    Promise.all([api.me().catch(() => null), api.nodeTypes(), api.getFlow(slug)])
      .then(([me, nodeTypes, flow]) => {
        if (!live) return;
        if (me) setPerms({ can_edit: !!me.can_edit, can_publish: !!me.can_publish, username: me.username });
        const list = Array.isArray(nodeTypes) ? nodeTypes : nodeTypes.results || [];
        const byName = Object.fromEntries(list.map((t) => [t.type, t]));
        setTypes({ list, byName });
        const nodes = applyFlow(flow, byName, !!me?.can_edit);
        setViewport(nodes.length > FIT_VIEW_LIMIT ? openingViewport(nodes, flow.definition.start) : "fit");
      })
      .catch((e) => live && setLoadError(e.message));
    return () => {
      live = false;
    };
  }, [slug, applyFlow]);

  const { diff, showDiff, clearDiff, statsOn, toggleStats, showPath, simEdges } = useOverlays({
    slug,
    decorations,
    flash,
    problems,
    start: doc.settings.start,
  });
  // The analytics page links here with ?traffic=1 (and its version and period): the
  // overlay opens on, counting that scope's calls.
  const trafficLink = useRef(trafficFromUrl());
  useEffect(() => {
    if (!types || !trafficLink.current) return;
    const scope = trafficLink.current;
    trafficLink.current = null;
    toggleStats(scope);
  }, [types, toggleStats]);
  const checking = useLiveValidation({ slug, ready: !!types, edit: doc.edit, docRef, validatedEdit, setProblems, flash });
  useCallPath({ ready: !!types && doc.nodes.length > 0, showPath, flash });

  const reload = useCallback(async () => {
    const flow = await api.getFlow(slug);
    applyFlow(flow, typesByName, canEdit);
    setConflict(null);
    clearDiff();
    setVersionsKey((k) => k + 1);
  }, [slug, applyFlow, typesByName, canEdit, clearDiff]);



  // Unsaved changes survive neither a reload nor closing the tab without a warning.
  useEffect(() => {
    if (!dirty) return undefined;
    const guard = (e) => {
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [dirty]);

  const save = useCallback(
    async (force = false) => {
      if (!canEdit || !infoRef.current) return false;
      const d = docRef.current;
      setSaving(true);
      try {
        const flow = await api.saveFlow(slug, graphToDefinition(d.settings, d.nodes, d.edges), infoRef.current.revision, force);
        infoRef.current = flowInfo(flow); // a publish right after needs the new revision now
        setInfo(infoRef.current);
        setSavedEdit(d.edit);
        if (flow.problems) {
          validatedEdit.current = d.edit;
          setProblems(flow.problems);
        }
        setConflict(null);
        flash(`Saved (revision ${flow.revision}).`);
        return true;
      } catch (e) {
        if (e.status === 409) setConflict(e.body);
        else if (e.status === 400) {
          setProblems(e.body.problems || []);
          setTab("problems");
          flash(`Not saved: ${e.message}`, "error");
        } else flash(`Not saved: ${e.message}`, "error");
        return false;
      } finally {
        setSaving(false);
      }
    },
    [canEdit, slug, docRef, flash],
  );

  const refreshInfo = useCallback(async () => {
    const flow = await api.getFlow(slug);
    setInfo(flowInfo(flow));
  }, [slug]);

  const publish = useCallback(
    async (note, { allowPlaceholders = false } = {}) => {
      if (dirty && !(await save())) {
        setPublishing(null);
        return;
      }
      setPublishing({ busy: true });
      try {
        const version = await api.publish(slug, note, infoRef.current.revision, allowPlaceholders);
        setPublishing(null);
        flash(`Published version ${version.number}.`);
        setVersionsKey((k) => k + 1);
        await refreshInfo();
      } catch (e) {
        const body = e.status === 400 ? e.body : { detail: e.message, problems: [] };
        const problems = body.problems || [];
        // refused only for the placeholders an import left: the supervisor may publish anyway
        const placeholders = new Set(docRef.current.nodes.filter((n) => n.data?.type === "placeholder").map((n) => n.id));
        const blocking = problems.filter((p) => p.severity !== "warning");
        const onlyPlaceholders = blocking.length > 0 && blocking.every((p) => placeholders.has(p.node));
        setPublishing({ refused: { detail: body.detail || "Publishing was refused.", problems, onlyPlaceholders, note } });
        if (body.problems) setProblems(body.problems);
      }
    },
    [dirty, save, slug, flash, refreshInfo],
  );

  const { rollback, restore } = useDraftHistory({ slug, dirty, infoRef, save, reload, flash, setConfirm });




  const selectNode = useCallback(
    (id) => {
      const d = docRef.current;
      const node = d.nodes.find((n) => n.id === id);
      if (!node) return;
      replace({
        ...d,
        nodes: d.nodes.map((n) => (!!n.selected !== (n.id === id) ? { ...n, selected: n.id === id } : n)),
        edges: d.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
      });
      setTab("node");
      rf.setCenter(node.position.x + 100, node.position.y + 50, { zoom: Math.max(rf.getZoom(), 0.8), duration: 300 });
    },
    [docRef, replace, rf],
  );

  const actions = useEditActions({ docRef, commit, typesByName, rf, canvasRef, flash });

  useKeyboard({
    canEdit,
    save: () => save(),
    undo,
    redo,
    remove: actions.removeSelected,
    copy: actions.copy,
    paste: actions.paste,
    duplicate: actions.duplicate,
  });

  const tidy = useCallback(() => {
    commit((d) => ({ ...d, nodes: layoutGraph(d.nodes, d.edges, d.settings.start) }));
    setTimeout(() => rf.fitView({ ...FIT_OPTIONS, duration: 300 }), 50);
  }, [commit, rf]);

  // React Flow callbacks: selection, measuring and drag frames are not undo steps; a drag is
  // one step (recorded when it starts), and so is a move with the arrow keys.
  const dragging = useRef(false);
  const onNodesChange = useCallback(
    (changes) => {
      const allowed = changes.filter((c) => c.type !== "remove" && (canEdit || c.type !== "position"));
      if (!allowed.length) return;
      const apply = (d) => ({ ...d, nodes: applyNodeChanges(allowed, d.nodes) });
      const moved = allowed.some((c) => c.type === "position" && c.position);
      if (moved && !dragging.current) commit(apply, "keyboard-move");
      else replace(apply(docRef.current));
    },
    [canEdit, docRef, replace, commit],
  );
  const onEdgesChange = useCallback(
    (changes) => {
      const allowed = changes.filter((c) => c.type === "select");
      if (!allowed.length) return;
      const d = docRef.current;
      replace({ ...d, edges: applyEdgeChanges(allowed, d.edges) });
    },
    [docRef, replace],
  );
  const onNodeDragStart = useCallback(() => {
    dragging.current = true;
    commit((d) => ({ ...d }));
  }, [commit]);
  const onNodeDragStop = useCallback(() => {
    dragging.current = false;
  }, []);
  const onConnect = useCallback(
    (c) =>
      commit((d) => ({
        ...d,
        edges: [
          ...d.edges.filter((e) => !(e.source === c.source && e.sourceHandle === c.sourceHandle)),
          makeEdge(c.source, c.sourceHandle, c.target),
        ],
      })),
    [commit],
  );
  const onDrop = useCallback(
    (e) => {
      const type = e.dataTransfer.getData(DRAG_TYPE);
      if (!type || !canEdit) return;
      e.preventDefault();
      actions.add(type, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [actions, canEdit, rf],
  );
  const onDragOver = useCallback((e) => {
    if (e.dataTransfer.types.includes(DRAG_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
    }
  }, []);

  const selected = useMemo(() => doc.nodes.filter((n) => n.selected), [doc.nodes]);
  const selectedNode = selected.length === 1 ? selected[0] : null;
  const selectedId = selectedNode ? selectedNode.id : null;
  useEffect(() => {
    if (selectedId) setTab("node");
  }, [selectedId]);

  const shownEdges = useMemo(
    () => (simEdges.size ? doc.edges.map((e) => (simEdges.has(e.id) ? { ...e, className: "cf-edge-sim", animated: true } : e)) : doc.edges),
    [doc.edges, simEdges],
  );
  const context = useMemo(() => ({ decorations, typesByName }), [decorations, typesByName]);
  const minimapColor = useCallback((n) => styleFor(typesByName[n.data.type]).color, [typesByName]);

  if (loadError) return <div className="cf-load-error" role="alert">Cannot open this flow: {loadError}</div>;
  if (!types || !viewport) return <div className="cf-loading">Loading…</div>;

  return (
    <EditorContext.Provider value={context}>
      <div className={`cf-editor${canEdit ? "" : " cf-viewer"}`} data-ready={doc.nodes.length}>
        <Toolbar
          name={doc.settings.name || slug}
          info={info}
          dirty={dirty}
          saving={saving}
          perms={perms}
          canUndo={canUndo}
          canRedo={canRedo}
          statsOn={statsOn}
          listUrl={listUrl}
          analyticsUrl={analyticsUrl}
          exportUrl={api.exportUrl(slug)}
          onUndo={undo}
          onRedo={redo}
          onTidy={tidy}
          onSave={() => save()}
          onPublish={() => setPublishing({})}
          onToggleStats={toggleStats}
        />
        {notice && (
          <div className={`cf-notice cf-notice-${notice.kind}`} role="status" data-notice>
            {notice.text}
            <button type="button" className="cf-link" title="Dismiss" onClick={() => setNotice(null)}>×</button>
          </div>
        )}
        <div className="cf-body">
          {canEdit && <Palette nodeTypes={types.list} onAdd={actions.addAtCentre} />}
          <div className="cf-canvas" ref={canvasRef} onDrop={onDrop} onDragOver={onDragOver}>
            <ReactFlow
              nodes={doc.nodes}
              edges={shownEdges}
              nodeTypes={NODE_TYPES}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onNodeDragStart={onNodeDragStart}
              onNodeDragStop={onNodeDragStop}
              nodesDraggable={canEdit}
              nodesConnectable={canEdit}
              edgesReconnectable={false}
              deleteKeyCode={null}
              multiSelectionKeyCode={["Meta", "Control"]}
              onlyRenderVisibleElements
              fitView={viewport === "fit"}
              fitViewOptions={FIT_OPTIONS}
              defaultViewport={viewport === "fit" ? undefined : viewport}
              minZoom={0.05}
              maxZoom={2}
              connectionRadius={30}
            >
              <Background gap={20} />
              <Controls showInteractive={false} fitViewOptions={FIT_OPTIONS} />
              <MiniMap pannable zoomable nodeColor={minimapColor} style={{ width: 160, height: 110 }} />
            </ReactFlow>
          </div>
          <Sidebar
            tab={tab}
            setTab={setTab}
            slug={slug}
            doc={doc}
            selectedNode={selectedNode}
            selectedCount={selected.length}
            typesByName={typesByName}
            problems={problems}
            checking={checking}
            perms={perms}
            dirty={dirty}
            diff={diff}
            versionsKey={versionsKey}
            actions={actions}
            onPick={selectNode}
            onDiff={showDiff}
            onClearDiff={clearDiff}
            onRollback={rollback}
            onRestore={restore}
            onPath={showPath}
          />
        </div>
        {conflict && (
          <ConflictDialog
            conflict={conflict}
            onReload={() => reload().then(() => flash("Reloaded their version."))}
            onOverwrite={() => save(true)}
            onClose={() => setConflict(null)}
          />
        )}
        {publishing && (
          <PublishDialog
            dirty={dirty}
            busy={publishing.busy}
            refused={publishing.refused}
            onPublish={publish}
            onClose={() => setPublishing(null)}
            onPick={(id) => {
              setPublishing(null);
              selectNode(id);
            }}
          />
        )}
        {confirm && (
          <ConfirmDialog
            title={confirm.title}
            message={confirm.message}
            note={confirm.note}
            confirm={confirm.confirm}
            onConfirm={() => {
              setConfirm(null);
              confirm.run();
            }}
            onClose={() => setConfirm(null)}
          />
        )}
      </div>
    </EditorContext.Provider>
  );
}
