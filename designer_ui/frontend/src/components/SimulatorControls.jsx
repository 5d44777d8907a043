import { useState } from "react";
import { ANSWERED_BY, KEYS, backspace, pressKey, typeKeys, waitHint } from "../simulator.js";

/** How the test call is placed: an incoming call from a number, or an outbound call to one. */
export function CallSetup({ setup, onChange, disabled, problem }) {
  const set = (name) => (e) => onChange({ ...setup, [name]: e.target.value });
  const outbound = setup.direction === "outbound";
  return (
    <div className="cf-sim-setup">
      <label>
        Run{" "}
        <select value={setup.source} onChange={set("source")} disabled={disabled} aria-label="Which definition to run">
          <option value="draft">the saved draft</option>
          <option value="published">the published version</option>
        </select>
      </label>
      <div className="cf-sim-row">
        <select value={setup.direction} onChange={set("direction")} disabled={disabled} aria-label="Kind of call" data-sim-direction>
          <option value="inbound">Incoming call from</option>
          <option value="outbound">Outbound call to</option>
        </select>
        <input
          value={outbound ? setup.to : setup.from}
          onChange={set(outbound ? "to" : "from")}
          disabled={disabled}
          size={14}
          placeholder="+447700900123"
          aria-label={outbound ? "Number to call" : "Caller number"}
          aria-invalid={!!problem.number}
          data-sim-number
        />
      </div>
      {problem.number && <p className="cf-error" data-sim-problem>{problem.number}</p>}
      {outbound && (
        <>
          <label>
            answered by{" "}
            <select value={setup.answeredBy} onChange={set("answeredBy")} disabled={disabled} aria-label="Who answers" data-sim-answered-by>
              {ANSWERED_BY.map((a) => (
                <option key={a.value} value={a.value}>{a.label}</option>
              ))}
            </select>
          </label>
          <label className="cf-sim-vars">
            Variables of the call, one NAME=VALUE a line (optional)
            <textarea value={setup.vars} onChange={set("vars")} disabled={disabled} rows={2} placeholder="name=Ann" aria-label="Variables" data-sim-vars />
          </label>
          {problem.vars && <p className="cf-error" data-sim-problem>{problem.vars}</p>}
        </>
      )}
    </div>
  );
}

/** Keys collected in an entry field and sent as one answer, as Twilio's <Gather> does. */
export function KeyEntry({ wait, busy, onSend }) {
  const [entry, setEntry] = useState("");
  const apply = ({ entry: next, send }) => {
    setEntry(next);
    if (send !== null) onSend(send);
  };
  return (
    <div className="cf-key-entry">
      <div className="cf-sim-row">
        <input
          className="cf-entry"
          value={entry}
          onChange={(e) => apply(typeKeys(entry, e.target.value, wait))}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              if (entry) apply({ entry: "", send: entry });
            }
          }}
          disabled={busy}
          placeholder="Keys pressed…"
          aria-label="Keys pressed"
          inputMode="tel"
          data-sim-entry
        />
        <button type="button" className="cf-button cf-small cf-secondary" title="Remove the last key" aria-label="Remove the last key" disabled={busy || !entry} onClick={() => setEntry(backspace(entry))} data-sim-backspace>
          ⌫
        </button>
        <button type="button" className="cf-button cf-small cf-secondary" title="Remove all the keys" disabled={busy || !entry} onClick={() => setEntry("")} data-sim-clear>
          Clear
        </button>
        <button type="button" className="cf-button cf-small cf-primary" title="Send the keys pressed as the answer" disabled={busy || !entry} onClick={() => apply({ entry: "", send: entry })} data-sim-send>
          Send
        </button>
      </div>
      <div className="cf-keypad" role="group" aria-label="Keypad">
        {KEYS.map((k) => (
          <button key={k} type="button" title={`Press ${k}`} disabled={busy} onClick={() => apply(pressKey(entry, k, wait))} data-key={k}>
            {k}
          </button>
        ))}
      </div>
    </div>
  );
}

/** The answers the current wait takes: keys and/or speech, or silence. */
export function InputAnswers({ wait, busy, send }) {
  const [speech, setSpeech] = useState("");
  return (
    <div className="cf-sim-input" data-sim-wait={wait.input}>
      <p className="cf-muted cf-sim-hint" data-sim-hint>{waitHint(wait)}</p>
      {wait.dtmf && (
        <KeyEntry
          wait={wait}
          busy={busy}
          onSend={(keys) => send(keys ? { type: "digits", digits: keys } : { type: "silence" })}
        />
      )}
      {wait.speech && (
        <form
          className="cf-speech"
          data-sim-speech
          onSubmit={(e) => {
            e.preventDefault();
            if (speech.trim()) send({ type: "speech", speech: speech.trim() });
            setSpeech("");
          }}
        >
          <input value={speech} onChange={(e) => setSpeech(e.target.value)} placeholder="Say something…" aria-label="Speech" />
          <button type="submit" className="cf-button cf-small" title="Send what the caller says" disabled={busy}>Say</button>
        </form>
      )}
      <button type="button" className="cf-button cf-small cf-secondary" title="The caller does nothing until the wait times out" disabled={busy} onClick={() => send({ type: "silence" })} data-sim-silence>
        No input
      </button>
    </div>
  );
}

const CHOICES = {
  dial: { field: "status", values: ["completed", "no-answer", "busy", "failed"], title: "The dialled party" },
  queue: { field: "result", values: ["bridged", "leave", "hangup"], title: "The queue" },
  redirect: {
    field: "result",
    values: ["return", "timeout", "unreachable"],
    labels: { return: "Sent back", timeout: "Kept too long", unreachable: "Not reached" },
    title: "The application the call was handed to",
  },
};

/** The buttons that answer a dial, queue, record or hand-over wait. */
export function OtherAnswers({ wait, busy, send }) {
  const kind = wait.kind;
  if (kind === "record") {
    return (
      <div className="cf-sim-answers">
        <button type="button" className="cf-button cf-small" title="Leave a 12-second message" disabled={busy} onClick={() => send({ type: "record", duration: 12 })}>Leave a message</button>
        <button type="button" className="cf-button cf-small" title="Record nothing" disabled={busy} onClick={() => send({ type: "record", duration: 0 })}>Say nothing</button>
      </div>
    );
  }
  const choice = CHOICES[kind];
  if (!choice) {
    return (
      <p className="cf-muted" data-sim-unanswerable>
        The call waits for {kind}: a test call cannot answer that. Hang up or restart the call.
      </p>
    );
  }
  return (
    <div className="cf-sim-answers">
      {kind === "redirect" && (
        <p className="cf-muted cf-sim-hint" data-sim-hint>Handed to {wait.url}. How does the call come back?</p>
      )}
      {choice.values.map((v) => (
        <button key={v} type="button" className="cf-button cf-small" title={`${choice.title}: ${v}`} disabled={busy} onClick={() => send({ type: kind, [choice.field]: v })} data-sim-answer={v}>
          {(choice.labels && choice.labels[v]) || v}
        </button>
      ))}
    </div>
  );
}
