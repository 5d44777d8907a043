import { useState } from "react";
import { ENDINGS, STEP_KINDS, answerOfRow, rowOfAnswer, rowOfStep, stepOfRow, varText, varValue } from "../flowtests.js";

const KIND = Object.fromEntries(STEP_KINDS.map((k) => [k.kind, k]));

/** "2026-12-01T23:00:00" <-> the value of an <input type="datetime-local"> ("2026-12-01T23:00"). */
const toLocal = (at) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(at || "") ? at.slice(0, 16) : "");
const fromLocal = (value) => (value ? `${value}:00` : undefined);

function without(object, ...keys) {
  const copy = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

function StepRow({ row, index, onChange, onRemove }) {
  const kind = KIND[row.kind];
  const label = `Step ${index + 1}`;
  return (
    <li className="cf-test-step" data-test-step={index}>
      <select
        aria-label={`${label}: what the caller does`}
        value={row.kind}
        onChange={(e) => onChange({ kind: e.target.value, value: KIND[e.target.value].value === "choice" ? KIND[e.target.value].choices[0][0] : "" })}
      >
        {STEP_KINDS.map((k) => (
          <option key={k.kind} value={k.kind}>
            {k.label}
          </option>
        ))}
      </select>
      {kind.value === "choice" && (
        <select aria-label={`${label}: how`} value={row.value || kind.choices[0][0]} onChange={(e) => onChange({ ...row, value: e.target.value })}>
          {kind.choices.map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </select>
      )}
      {(kind.value === "text" || kind.value === "keys" || kind.value === "seconds") && (
        <input
          aria-label={`${label}: ${kind.hint}`}
          placeholder={kind.hint}
          inputMode={kind.value === "text" ? undefined : "numeric"}
          value={row.value}
          onChange={(e) => onChange({ ...row, value: e.target.value })}
        />
      )}
      <button type="button" className="cf-test-remove" title={`Remove step ${index + 1}`} aria-label={`Remove step ${index + 1}`} onClick={onRemove}>
        ×
      </button>
    </li>
  );
}

const METHODS = ["", "GET", "POST", "PUT", "PATCH", "DELETE"];
const varRows = (vars) => Object.entries(vars || {}).map(([name, value]) => ({ name, value: varText(value) }));
const varsOf = (rows) => Object.fromEntries(rows.filter((r) => r.name.trim()).map((r) => [r.name.trim(), varValue(r.value)]));

/** Name = value rows (the vars a call starts with, or those expected at its end). */
function VarRows({ what, rows, onChange }) {
  const set = (i, key, value) => onChange(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r)));
  return (
    <>
      <ul className="cf-test-texts">
        {rows.map((row, i) => (
          <li key={i} className="cf-test-step">
            <input aria-label={`${what} ${i + 1}: name`} placeholder="name" value={row.name} onChange={(e) => set(i, "name", e.target.value)} />
            <input aria-label={`${what} ${i + 1}: value`} placeholder="value" value={row.value} onChange={(e) => set(i, "value", e.target.value)} />
            <button type="button" className="cf-test-remove" aria-label={`Remove ${what.toLowerCase()} ${i + 1}`} title={`Remove ${what.toLowerCase()} ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="cf-button cf-secondary" onClick={() => onChange([...rows, { name: "", value: "" }])} data-test-add-var={what}>
        Add {what.toLowerCase()}
      </button>
    </>
  );
}

/** One answer to the flow's HTTP requests: the URL it answers, then a status and JSON, or an error. */
function AnswerRow({ row, index, onChange, onRemove }) {
  const label = `HTTP answer ${index + 1}`;
  const set = (key, value) => onChange({ ...row, [key]: value });
  return (
    <li className="cf-test-answer" data-test-answer={index}>
      <div className="cf-test-step">
        <select aria-label={`${label}: method`} value={row.method} onChange={(e) => set("method", e.target.value)}>
          {METHODS.map((m) => (
            <option key={m} value={m}>
              {m || "any method"}
            </option>
          ))}
        </select>
        <input aria-label={`${label}: URL`} placeholder="https://crm.example.com/*" value={row.url} onChange={(e) => set("url", e.target.value)} />
        <button type="button" className="cf-test-remove" aria-label={`Remove ${label}`} title={`Remove ${label}`} onClick={onRemove}>
          ×
        </button>
      </div>
      <div className="cf-test-step">
        <select aria-label={`${label}: how`} value={row.fails ? "fails" : "answers"} onChange={(e) => set("fails", e.target.value === "fails")}>
          <option value="answers">answers</option>
          <option value="fails">fails</option>
        </select>
        {row.fails ? (
          <input aria-label={`${label}: error`} placeholder="timed out" value={row.error} onChange={(e) => set("error", e.target.value)} />
        ) : (
          <input aria-label={`${label}: status`} placeholder="200" inputMode="numeric" value={row.status} onChange={(e) => set("status", e.target.value)} />
        )}
      </div>
      {!row.fails && (
        <textarea
          className="cf-test-body"
          aria-label={`${label}: JSON body`}
          placeholder='{"tier": "gold"}'
          rows={2}
          spellCheck={false}
          value={row.body}
          onChange={(e) => set("body", e.target.value)}
        />
      )}
    </li>
  );
}

/**
 * One test as a form: the call (name, time, caller, direction, vars, answers to its HTTP
 * requests), the caller's steps, and what is expected. What the form does not show (a
 * version) is kept, and so is a time it cannot show unless it is changed.
 */
export default function TestForm({ test, nodeIds, onDone, onCancel }) {
  const [name, setName] = useState(test.name || "");
  const [at, setAt] = useState(toLocal(test.at));
  const [atEdited, setAtEdited] = useState(false);
  const [direction, setDirection] = useState(test.direction || "inbound");
  const [caller, setCaller] = useState(test.caller || "");
  const [answeredBy, setAnsweredBy] = useState(test.answered_by || "human");
  const [rows, setRows] = useState((test.steps || []).map(rowOfStep));
  const expect = test.expect || {};
  const [path, setPath] = useState((expect.path || []).join(", "));
  const [texts, setTexts] = useState(expect.sms || []);
  const [noSms, setNoSms] = useState(Boolean(expect.no_sms));
  const [ends, setEnds] = useState(expect.ends || "");
  const [answers, setAnswers] = useState((test.http || []).map(rowOfAnswer));
  const [vars, setVars] = useState(varRows(test.vars));
  const [endVars, setEndVars] = useState(varRows(expect.vars));
  const [error, setError] = useState(null);

  function done() {
    if (!name.trim()) {
      setError("A test needs a name.");
      return;
    }
    const wanted = path.split(/[,›>\s]+/).filter(Boolean);
    const unknown = wanted.filter((id) => !nodeIds.includes(id));
    if (unknown.length) {
      setError(`The path names ${unknown.map((id) => `“${id}”`).join(", ")}, which the flow does not have.`);
      return;
    }
    const http = [];
    for (const [i, row] of answers.entries()) {
      const read = answerOfRow(row);
      if (read.error) {
        setError(`HTTP answer ${i + 1}: ${read.error}.`);
        return;
      }
      http.push(read.answer);
    }
    const next = without(test, "name", "at", "direction", "caller", "answered_by", "vars", "http", "steps", "expect");
    next.name = name.trim();
    const when = atEdited ? fromLocal(at) : test.at; // as written unless changed (an offset, seconds)
    if (when) next.at = when;
    if (direction === "outbound") Object.assign(next, { direction, answered_by: answeredBy });
    if (caller.trim()) next.caller = caller.trim();
    if (vars.some((r) => r.name.trim())) next.vars = varsOf(vars);
    if (http.length) next.http = http;
    if (rows.length) next.steps = rows.map(stepOfRow);
    const expected = without(expect, "path", "sms", "no_sms", "ends", "vars");
    if (wanted.length) expected.path = wanted;
    const sms = texts.map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v))).filter((t) => Object.keys(t).length);
    if (sms.length) expected.sms = sms;
    if (noSms) expected.no_sms = true;
    if (ends) expected.ends = ends;
    if (endVars.some((r) => r.name.trim())) expected.vars = varsOf(endVars);
    if (Object.keys(expected).length) next.expect = expected;
    onDone(next);
  }

  const setRow = (i, row) => setRows(rows.map((r, j) => (j === i ? row : r)));
  const setText = (i, key, value) => setTexts(texts.map((t, j) => (j === i ? { ...t, [key]: value } : t)));
  return (
    <form
      className="cf-test-form"
      data-test-form
      onChange={() => setError(null)}
      onSubmit={(e) => {
        e.preventDefault();
        done();
      }}
    >
      <label className="cf-field">
        <span>Name</span>
        <input value={name} onChange={(e) => setName(e.target.value)} data-test-name autoFocus />
      </label>
      <label className="cf-field">
        <span>When (the flow’s time zone)</span>
        <input
          type="datetime-local"
          value={at}
          onChange={(e) => {
            setAt(e.target.value);
            setAtEdited(true);
          }}
          data-test-at
        />
        {test.at && !atEdited && toLocal(test.at) !== test.at.slice(0, 16) && <span className="cf-muted">Kept as written: {test.at}</span>}
      </label>
      <label className="cf-field">
        <span>Call</span>
        <select value={direction} onChange={(e) => setDirection(e.target.value)} data-test-direction>
          <option value="inbound">A caller rings the flow</option>
          <option value="outbound">The flow calls out</option>
        </select>
      </label>
      <label className="cf-field">
        <span>{direction === "outbound" ? "Number called" : "Caller’s number"}</span>
        <input value={caller} placeholder="+447700900123" onChange={(e) => setCaller(e.target.value)} data-test-caller />
      </label>
      {direction === "outbound" && (
        <label className="cf-field">
          <span>Answered by</span>
          <select value={answeredBy} onChange={(e) => setAnsweredBy(e.target.value)}>
            <option value="human">a person</option>
            <option value="machine_start">an answering machine</option>
            {!["human", "machine_start"].includes(answeredBy) && <option value={answeredBy}>{answeredBy}</option>}
          </select>
        </label>
      )}
      <fieldset className="cf-test-fieldset">
        <legend>Vars the call starts with</legend>
        <VarRows what="Var" rows={vars} onChange={setVars} />
      </fieldset>
      <fieldset className="cf-test-fieldset">
        <legend>Answers to the flow’s HTTP requests</legend>
        {answers.length === 0 && <p className="cf-muted">None: a request the flow makes fails the test.</p>}
        <ol className="cf-test-steps">
          {answers.map((row, i) => (
            <AnswerRow
              key={i}
              row={row}
              index={i}
              onChange={(r) => setAnswers(answers.map((a, j) => (j === i ? r : a)))}
              onRemove={() => setAnswers(answers.filter((_, j) => j !== i))}
            />
          ))}
        </ol>
        <button
          type="button"
          className="cf-button cf-secondary"
          onClick={() => setAnswers([...answers, rowOfAnswer({ url: "" })])}
          data-test-add-answer
        >
          Add an HTTP answer
        </button>
      </fieldset>
      <fieldset className="cf-test-fieldset">
        <legend>The caller’s steps, in order</legend>
        {rows.length === 0 && <p className="cf-muted">No steps: the call only starts.</p>}
        <ol className="cf-test-steps">
          {rows.map((row, i) => (
            <StepRow key={i} row={row} index={i} onChange={(r) => setRow(i, r)} onRemove={() => setRows(rows.filter((_, j) => j !== i))} />
          ))}
        </ol>
        <button type="button" className="cf-button cf-secondary" onClick={() => setRows([...rows, { kind: "press", value: "" }])} data-test-add-step>
          Add a step
        </button>
      </fieldset>
      <fieldset className="cf-test-fieldset">
        <legend>Expected</legend>
        <label className="cf-field">
          <span>Path: nodes passed in this order (others may come between)</span>
          <input
            value={path}
            list="cf-test-node-ids"
            placeholder="greeting, hours, menu"
            onChange={(e) => setPath(e.target.value)}
            data-test-path
          />
          <datalist id="cf-test-node-ids">
            {nodeIds.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
        </label>
        <label className="cf-field">
          <span>The call ends</span>
          <select value={ends} onChange={(e) => setEnds(e.target.value)} data-test-ends>
            {ENDINGS.map(([key, words]) => (
              <option key={key} value={key}>
                {words}
              </option>
            ))}
          </select>
        </label>
        <ul className="cf-test-texts">
          {texts.map((t, i) => (
            <li key={i} className="cf-test-step">
              <input aria-label={`Text ${i + 1}: containing`} placeholder="a text containing…" value={t.contains || ""} onChange={(e) => setText(i, "contains", e.target.value)} />
              <input aria-label={`Text ${i + 1}: to`} placeholder="to (any)" value={t.to || ""} onChange={(e) => setText(i, "to", e.target.value)} />
              <button type="button" className="cf-test-remove" aria-label={`Remove text ${i + 1}`} title={`Remove text ${i + 1}`} onClick={() => setTexts(texts.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="cf-sim-actions">
          <button type="button" className="cf-button cf-secondary" disabled={noSms} onClick={() => setTexts([...texts, { contains: "" }])} data-test-add-text>
            Expect a text
          </button>
          <label className="cf-field-check cf-inline-check">
            <input type="checkbox" checked={noSms} disabled={texts.length > 0} onChange={(e) => setNoSms(e.target.checked)} data-test-no-sms />
            No text is sent
          </label>
        </div>
        <p className="cf-test-subhead">Vars at the end</p>
        <VarRows what="Expected var" rows={endVars} onChange={setEndVars} />
      </fieldset>
      {test.version && <p className="cf-muted">This test runs on version {test.version}: edit that as JSON.</p>}
      {error && (
        <p className="cf-error" role="alert">
          {error}
        </p>
      )}
      <div className="cf-sim-actions">
        <button type="submit" className="cf-button" data-test-done>
          Done
        </button>
        <button type="button" className="cf-button cf-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
