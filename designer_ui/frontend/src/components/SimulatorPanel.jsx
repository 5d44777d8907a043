import { useState } from "react";
import { api } from "../api.js";
import { testFromCall } from "../flowtests.js";
import { ANSWERED_BY, numberProblem, parseVars } from "../simulator.js";
import { CallSetup, InputAnswers, OtherAnswers } from "./SimulatorControls.jsx";

const WHO = Object.fromEntries(ANSWERED_BY.map((a) => [a.value, a.label]));

function describe(event, setup) {
  switch (event.type) {
    case "start":
      if (setup.direction !== "outbound") return `Call placed from ${setup.from.trim()}`;
      return `Outbound call to ${setup.to.trim()}${setup.answeredBy ? `, answered by ${WHO[setup.answeredBy]}` : ""}`;
    case "digits": return `Pressed ${event.digits}`;
    case "speech": return `Said “${event.speech}”`;
    case "silence": return "Did nothing (no input)";
    case "dial": return `Dial: ${event.status}`;
    case "queue": return `Queue: ${event.result}`;
    case "record": return `Recorded ${event.duration} s`;
    case "redirect": return `Handed-over call: ${event.result}`;
    case "hangup": return "Hung up";
    default: return event.type;
  }
}

/** The request body of an event; a start carries the call's setup. -> {body} or {problem} */
function requestOf(event, setup, session) {
  const body = { session: event.type === "start" ? null : session, source: setup.source, event };
  if (event.type !== "start") return { body };
  if (setup.direction !== "outbound") {
    const caller = numberProblem(setup.from, "the caller's number");
    return caller ? { problem: { number: caller } } : { body: { ...body, from: setup.from.trim() } };
  }
  const number = numberProblem(setup.to);
  const { vars, error } = parseVars(setup.vars);
  if (number || error) return { problem: { number, vars: error } };
  return { body: { ...body, outbound: { to: setup.to.trim(), answered_by: setup.answeredBy, vars } } };
}

const INITIAL = { source: "draft", direction: "inbound", from: "+447700900123", to: "", answeredBy: "human", vars: "" };

/** A test call through the real runtime: keypad, speech, and answers to dial/queue/record waits. */
export default function SimulatorPanel({ slug, dirty, onPath }) {
  const [session, setSession] = useState(null);
  const [setup, setSetup] = useState(INITIAL);
  const [problem, setProblem] = useState({});
  const [reply, setReply] = useState(null);
  const [turn, setTurn] = useState(0);
  const [lines, setLines] = useState([]);
  const [busy, setBusy] = useState(false);
  const [unavailable, setUnavailable] = useState(null);
  // the call so far, to keep as a flow test: {at, setup, events, sms, http, vars}
  const [record, setRecord] = useState(null);

  async function send(event) {
    const fresh = event.type === "start";
    const { body, problem: wrong } = requestOf(event, setup, session);
    setProblem(wrong || {});
    if (wrong) return;
    setBusy(true);
    const add = [{ kind: "you", text: describe(event, setup) }];
    try {
      const r = await api.simulate(slug, body);
      for (const p of r.prompts || []) add.push({ kind: "prompt", text: p });
      for (const s of r.sms || []) add.push({ kind: "sms", text: `SMS to ${s.to}: ${s.body}` });
      if (r.ended) add.push({ kind: "system", text: "The call ended." });
      setSession(r.ended ? null : r.session);
      setReply(r);
      setRecord((old) =>
        fresh
          ? { at: new Date().toISOString(), setup, events: [], sms: r.sms || [], http: r.http || [], vars: body.outbound ? body.outbound.vars : {} }
          : old && { ...old, events: [...old.events, event], sms: [...old.sms, ...(r.sms || [])], http: [...old.http, ...(r.http || [])] },
      );
      onPath(r.path || [], r.ended ? null : r.current_node);
    } catch (e) {
      if (e.status === 404 || e.status === 405) {
        setUnavailable("The simulator is not available on this server.");
      } else {
        add.push({ kind: "error", text: e.message });
      }
    } finally {
      setLines((old) => (fresh ? add : [...old, ...add]));
      setTurn((n) => n + 1);
      setBusy(false);
    }
  }

  const wait = session && reply && !reply.ended ? reply.wait : null;
  const call = reply && reply.call;
  return (
    <div className="cf-simulator" data-panel="simulator">
      <h3>Simulate a call</h3>
      {unavailable && <p className="cf-error" data-sim-unavailable>{unavailable}</p>}
      <CallSetup setup={setup} onChange={setSetup} disabled={!!session} problem={problem} />
      {dirty && setup.source === "draft" && <p className="cf-muted">Unsaved changes are not part of the test call: save first.</p>}
      <div className="cf-sim-actions">
        <button type="button" className="cf-button" title="Place a test call" disabled={busy} onClick={() => send({ type: "start" })} data-sim-start>
          {session ? "Restart call" : "Start call"}
        </button>
        {session && (
          <button type="button" className="cf-button cf-secondary" title="Hang up the test call" disabled={busy} onClick={() => send({ type: "hangup" })}>
            Hang up
          </button>
        )}
      </div>
      {session && call && (
        <p className="cf-muted cf-sim-call" data-sim-call>
          caller.number {call.caller} · call.direction {call.direction}
          {call.answered_by ? ` · call.answered_by ${call.answered_by}` : ""}
        </p>
      )}
      {wait && wait.kind === "input" && <InputAnswers key={turn} wait={wait} busy={busy} send={send} />}
      {wait && wait.kind !== "input" && <OtherAnswers wait={wait} busy={busy} send={send} />}
      <ol className="cf-transcript" aria-label="Transcript">
        {lines.map((l, i) => (
          <li key={i} className={`cf-line cf-line-${l.kind}`}>{l.text}</li>
        ))}
      </ol>
      {record && reply && record.setup.source === "draft" && <KeepAsTest slug={slug} record={record} reply={reply} />}
    </div>
  );
}

/** This call as a flow test expecting what it did, added to the flow's tests. */
function KeepAsTest({ slug, record, reply }) {
  const [name, setName] = useState("");
  const [message, setMessage] = useState(null);
  const [busy, setBusy] = useState(false);

  async function keep(e) {
    e.preventDefault();
    const wanted = name.trim();
    if (!wanted) {
      setMessage({ error: true, text: "Name the test first." });
      return;
    }
    setBusy(true);
    try {
      const doc = await api.tests(slug);
      if (doc.tests.some((t) => t.name === wanted)) {
        setMessage({ error: true, text: `A test is already named “${wanted}”: choose another name.` });
        return;
      }
      const test = testFromCall({ name: wanted, ...record, reply });
      await api.saveTests(slug, [...doc.tests, test]);
      setMessage({ text: `Kept as the test “${wanted}”: the Tests tab runs it, and publishing too.` });
      setName("");
    } catch (err) {
      setMessage({ error: true, text: err.message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="cf-keep-test" onSubmit={keep} data-keep-test>
      <label className="cf-field">
        <span>Keep this call as a test</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="What it checks, e.g. after hours gets the link" aria-label="Test name" />
      </label>
      <button type="submit" className="cf-button cf-secondary" disabled={busy} title="Add a test that expects what this call did">
        Keep as test
      </button>
      {message && <p className={message.error ? "cf-error" : "cf-muted"} data-keep-test-message>{message.text}</p>}
    </form>
  );
}
