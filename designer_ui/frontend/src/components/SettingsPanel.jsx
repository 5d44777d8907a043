/** The flow's own settings: name, description, start node, time zone, language, voice,
 * whether it is used as a sub-flow, fallback. */
export default function SettingsPanel({ settings, nodeIds, readOnly, onChange }) {
  const set = (key, value) => onChange({ ...settings, [key]: value });
  const fallback = settings.fallback || {};
  const setFallback = (key, value) => onChange({ ...settings, fallback: { ...fallback, [key]: value } });
  const text = (key, label, props = {}) => (
    <div className="cf-field">
      <label htmlFor={`cf-flow-${key}`}>{label}</label>
      <input id={`cf-flow-${key}`} value={settings[key] || ""} readOnly={readOnly} onChange={(e) => set(key, e.target.value)} {...props} />
    </div>
  );
  return (
    <div className="cf-settings" data-panel="settings">
      <h3>Flow settings</h3>
      <div className="cf-field">
        <label>Slug</label>
        <input value={settings.slug || ""} readOnly title="The slug is the flow's permanent name" />
      </div>
      {text("name", "Name")}
      <div className="cf-field">
        <label htmlFor="cf-flow-description">Description</label>
        <textarea id="cf-flow-description" rows={3} value={settings.description || ""} readOnly={readOnly} onChange={(e) => set("description", e.target.value)} />
      </div>
      <div className="cf-field">
        <label htmlFor="cf-flow-start">Start node</label>
        <select id="cf-flow-start" value={settings.start || ""} disabled={readOnly} onChange={(e) => set("start", e.target.value)}>
          {!nodeIds.includes(settings.start) && <option value={settings.start || ""}>{settings.start || "(none)"}</option>}
          {nodeIds.map((id) => <option key={id} value={id}>{id}</option>)}
        </select>
      </div>
      {text("timezone", "Time zone", { placeholder: "Europe/London" })}
      {text("language", "Language", { placeholder: "en-GB" })}
      {text("voice", "Voice", { placeholder: "Polly.Amy" })}
      <div className="cf-field cf-field-check">
        <label htmlFor="cf-flow-subflow">
          <input
            id="cf-flow-subflow"
            type="checkbox"
            checked={settings.subflow === true}
            disabled={readOnly}
            onChange={(e) => {
              const { subflow, ...rest } = settings;
              onChange(e.target.checked ? { ...rest, subflow: true } : rest);
            }}
          />{" "}
          Used as a sub-flow (an unconnected exit returns to the calling flow)
        </label>
      </div>
      <fieldset className="cf-fieldset">
        <legend>When the flow fails</legend>
        <div className="cf-field">
          <label htmlFor="cf-flow-fallback">Fallback node</label>
          <select id="cf-flow-fallback" value={fallback.node || ""} disabled={readOnly} onChange={(e) => setFallback("node", e.target.value)}>
            <option value="">(none)</option>
            {nodeIds.map((id) => <option key={id} value={id}>{id}</option>)}
          </select>
        </div>
        <div className="cf-field">
          <label htmlFor="cf-flow-fallback-sms">SMS to the caller</label>
          <textarea id="cf-flow-fallback-sms" rows={2} value={fallback.sms || ""} readOnly={readOnly} onChange={(e) => setFallback("sms", e.target.value)} />
        </div>
      </fieldset>
    </div>
  );
}
