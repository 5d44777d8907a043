function Status({ info }) {
  if (!info) return null;
  const live = info.published_version;
  let text = "draft";
  if (info.status === "published") text = `published v${live}`;
  else if (info.status === "changed") text = `changed since v${live}`;
  return (
    <span className={`cf-status cf-status-${info.status}`} data-status={info.status} title={`Revision ${info.revision}`}>
      {text}
    </span>
  );
}

const Button = ({ title, children, ...props }) => (
  <button type="button" className="cf-button" title={title} aria-label={title} {...props}>
    {children}
  </button>
);

/** The editor's top bar: where you are, what state the draft is in, and the main actions. */
export default function Toolbar(props) {
  const { name, info, dirty, saving, perms, canUndo, canRedo, statsOn, listUrl, analyticsUrl, exportUrl } = props;
  return (
    <header className="cf-toolbar">
      <a className="cf-back" href={listUrl} title="Back to the list of flows">← Flows</a>
      <h1 className="cf-title">{name}</h1>
      <Status info={info} />
      {dirty && <span className="cf-dirty" data-dirty title="There are unsaved changes">● Unsaved changes</span>}
      {!perms.can_edit && <span className="cf-readonly" data-readonly>Read only</span>}
      <span className="cf-spacer" />
      {perms.can_edit && (
        <>
          <Button title="Undo (Ctrl+Z)" disabled={!canUndo} onClick={props.onUndo} data-action="undo">↶</Button>
          <Button title="Redo (Ctrl+Shift+Z)" disabled={!canRedo} onClick={props.onRedo} data-action="redo">↷</Button>
          <Button title="Tidy up: lay the graph out again" onClick={props.onTidy} data-action="tidy">Tidy up</Button>
        </>
      )}
      <Button title="Show traffic from real calls on the graph" aria-pressed={statsOn} onClick={() => props.onToggleStats()} data-action="stats" className={`cf-button${statsOn ? " cf-on" : ""}`}>
        Traffic
      </Button>
      {analyticsUrl && (
        <a className="cf-button cf-secondary" href={analyticsUrl} title="KPIs, charts and drop-off of this flow's calls" data-action="analytics">
          Analytics
        </a>
      )}
      <a className="cf-button cf-secondary" href={exportUrl} title="Download the draft as callflow/1 JSON" download>
        Export
      </a>
      {perms.can_edit && (
        <Button title="Save the draft (Ctrl+S)" disabled={saving} onClick={props.onSave} data-action="save" className="cf-button cf-primary">
          {saving ? "Saving…" : "Save"}
        </Button>
      )}
      {perms.can_publish && (
        <Button title="Publish the draft so new calls run it" onClick={props.onPublish} data-action="publish" className="cf-button cf-primary">
          Publish
        </Button>
      )}
    </header>
  );
}
