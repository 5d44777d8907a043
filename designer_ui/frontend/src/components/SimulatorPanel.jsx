import { useState } from "react";
import { api } from "../api.js";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

function describe(event) {
  switch (event.type) {
    case "start": return "Call placed";
    case "digits": return `Pressed ${event.digits}`;
    case "speech": return `Said “${event.speech}”`;
    case "silence": return "Said nothing";
    case "dial": return `Dial: ${event.status}`;
    case "queue": return `Queue: ${event.result}`;
    case "record": return `Recorded ${event.duration} s`;
    case "hangup": return "Hung up";
    default: return event.type;
  }
}

/** A test call through the real runtime: keypad, speech, and answers to dial/queue/record waits. */
export default function SimulatorPanel({ slug, dirty, onPath }) {
  const [session, setSession] = useState(null);
  const [source, setSource] = useState("draft");
  const [from, setFrom] = useState("+447700900123");
  const [reply, setReply] = useState(null);
  const [lines, setLines] = useState([]);
  const [speech, setSpeech] = useState("");
  const [busy, setBusy] = useState(false);
  const [unavailable, setUnavailable] = useState(null);

  async function send(event, fresh = false) {
    setBusy(true);
    const add = [{ kind: "you", text: describe(event) }];
    try {
      const r = await api.simulate(slug, { session: fresh ? null : session, source, from, event });
      for (const p of r.prompts || []) add.push({ kind: "prompt", text: p });
      for (const s of r.sms || []) add.push({ kind: "sms", text: `SMS to ${s.to}: ${s.body}` });
      if (r.ended) add.push({ kind: "system", text: "The call ended." });
      setSession(r.ended ? null : r.session);
      setReply(r);
      onPath(r.path || [], r.ended ? null : r.current_node);
    } catch (e) {
      if (e.status === 404 || e.status === 405) {
        setUnavailable("The simulator is not available on this server.");
      } else {
        add.push({ kind: "error", text: e.message });
      }
    } finally {
      setLines((old) => (fresh ? add : [...old, ...add]));
      setBusy(false);
    }
  }

  const waiting = reply && !reply.ended ? reply.waiting_for : null;
  const input = (reply && reply.input) || {};
  const active = !!session;
  return (
    <div className="cf-simulator" data-panel="simulator">
      <h3>Simulate a call</h3>
      {unavailable && <p className="cf-error" data-sim-unavailable>{unavailable}</p>}
      <div className="cf-sim-setup">
        <label>
          Run{" "}
          <select value={source} onChange={(e) => setSource(e.target.value)} disabled={active} aria-label="Which definition to run">
            <option value="draft">the saved draft</option>
            <option value="published">the published version</option>
          </select>
        </label>
        <label>
          from <input value={from} onChange={(e) => setFrom(e.target.value)} disabled={active} size={14} aria-label="Caller number" />
        </label>
      </div>
      {dirty && source === "draft" && <p className="cf-muted">Unsaved changes are not part of the test call: save first.</p>}
      <div className="cf-sim-actions">
        <button type="button" className="cf-button" title="Place a test call" disabled={busy} onClick={() => send({ type: "start" }, true)} data-sim-start>
          {active ? "Restart call" : "Start call"}
        </button>
        {active && (
          <button type="button" className="cf-button cf-secondary" title="Hang up the test call" disabled={busy} onClick={() => send({ type: "hangup" })}>
            Hang up
          </button>
        )}
      </div>
      {active && (waiting === "input" || waiting === null) && (
        <div className="cf-sim-input">
          {(input.dtmf !== false) && (
            <div className="cf-keypad" role="group" aria-label="Keypad">
              {KEYS.map((k) => (
                <button key={k} type="button" title={`Press ${k}`} disabled={busy} onClick={() => send({ type: "digits", digits: k })} data-key={k}>
                  {k}
                </button>
              ))}
            </div>
          )}
          <form
            className="cf-speech"
            onSubmit={(e) => {
              e.preventDefault();
              if (speech.trim()) send({ type: "speech", speech: speech.trim() });
              setSpeech("");
            }}
          >
            <input value={speech} onChange={(e) => setSpeech(e.target.value)} placeholder="Say something…" aria-label="Speech" />
            <button type="submit" className="cf-button cf-small" title="Send what the caller says" disabled={busy}>Say</button>
            <button type="button" className="cf-button cf-small cf-secondary" title="The caller says nothing" disabled={busy} onClick={() => send({ type: "silence" })}>
              Silence
            </button>
          </form>
        </div>
      )}
      {active && waiting === "dial" && (
        <div className="cf-sim-answers">
          {["completed", "no-answer", "busy", "failed"].map((s) => (
            <button key={s} type="button" className="cf-button cf-small" title={`The dialled party: ${s}`} disabled={busy} onClick={() => send({ type: "dial", status: s })}>{s}</button>
          ))}
        </div>
      )}
      {active && waiting === "queue" && (
        <div className="cf-sim-answers">
          {["bridged", "leave", "hangup"].map((s) => (
            <button key={s} type="button" className="cf-button cf-small" title={`The queue: ${s}`} disabled={busy} onClick={() => send({ type: "queue", result: s })}>{s}</button>
          ))}
        </div>
      )}
      {active && waiting === "record" && (
        <div className="cf-sim-answers">
          <button type="button" className="cf-button cf-small" title="Leave a 12-second message" disabled={busy} onClick={() => send({ type: "record", duration: 12 })}>Leave a message</button>
          <button type="button" className="cf-button cf-small" title="Record nothing" disabled={busy} onClick={() => send({ type: "record", duration: 0 })}>Say nothing</button>
        </div>
      )}
      <ol className="cf-transcript" aria-label="Transcript">
        {lines.map((l, i) => (
          <li key={i} className={`cf-line cf-line-${l.kind}`}>{l.text}</li>
        ))}
      </ol>
    </div>
  );
}
