import { useEffect, useState } from "react";
import { api } from "../api.js";
import { describeTest, parseTests, placeOf } from "../flowtests.js";
import TestForm from "./TestForm.jsx";

const EXAMPLE = [
  {
    name: "after hours gets the booking link",
    at: "2026-12-24T22:00:00",
    caller: "+447700900123",
    steps: [{ expect_say: "closed" }],
    expect: { path: [], sms: [{ contains: "book" }], ends: "hangup" },
  },
];

function Result({ test, onShow }) {
  return (
    <li className={`cf-test ${test.passed ? "cf-test-pass" : "cf-test-fail"}`} data-test-result={test.passed ? "pass" : "fail"}>
      <div className="cf-test-head">
        <span className="cf-test-verdict">{test.passed ? "Passed" : "Failed"}</span>
        <span className="cf-test-name">{test.name}</span>
        {test.steps.length > 0 && (
          <button type="button" className="cf-test-show" title="Light up this test's path on the graph" onClick={() => onShow(test)}>
            Show path
          </button>
        )}
      </div>
      {test.failures.map((f, i) => (
        <p key={i} className="cf-test-failure">{f}</p>
      ))}
    </li>
  );
}

function TestCard({ test, result, canEdit, onEdit, onRemove, onShow }) {
  const words = describeTest(test);
  const verdict = result ? (result.passed ? "pass" : "fail") : null;
  return (
    <li className={`cf-test cf-test-card${verdict ? ` cf-test-${verdict}` : ""}`} data-test-card={test.name} data-test-result={verdict || undefined}>
      <div className="cf-test-head">
        {verdict && <span className="cf-test-verdict">{result.passed ? "Passed" : "Failed"}</span>}
        <span className="cf-test-name">{test.name}</span>
        {result && result.steps.length > 0 && (
          <button type="button" className="cf-test-show" title="Light up this test's path on the graph" onClick={() => onShow(result)}>
            Show path
          </button>
        )}
        {canEdit && (
          <button type="button" className="cf-test-show" onClick={onEdit} data-test-edit>
            Edit
          </button>
        )}
        {canEdit && (
          <button type="button" className="cf-test-show" onClick={onRemove} data-test-delete>
            Delete
          </button>
        )}
      </div>
      <p className="cf-test-call">{words.call}</p>
      {words.steps.length > 0 && (
        <ol className="cf-test-summary">
          {words.steps.map((step, i) => (
            <li key={i}>{step}</li>
          ))}
        </ol>
      )}
      <p className="cf-test-expects">{words.expects.length ? `Expects: ${words.expects.join("; ")}.` : "Expects nothing: it passes if the flow runs."}</p>
      {words.also.length > 0 && <p className="cf-muted">Also: {words.also.join("; ")}.</p>}
      {result && result.failures.map((f, i) => (
        <p key={i} className="cf-test-failure">
          {f}
        </p>
      ))}
    </li>
  );
}

const shown = (tests) => JSON.stringify(tests, null, 2);

/**
 * The flow's tests (callflow-test/1): each one read in words and edited in a form, or all of
 * them as JSON; saved with the flow, run on the saved draft.
 */
export default function TestsPanel({ slug, dirty, canEdit, onPath, nodeIds }) {
  const [tests, setTests] = useState(null);
  const [saved, setSaved] = useState("");
  const [view, setView] = useState("cards");
  const [text, setText] = useState("");
  const [editing, setEditing] = useState(null);
  const [problems, setProblems] = useState([]);
  const [message, setMessage] = useState(null);
  const [results, setResults] = useState(null);
  const [busy, setBusy] = useState(false);

  function keep(list) {
    setTests(list);
    setText(shown(list));
  }

  useEffect(() => {
    let live = true;
    api.tests(slug).then(
      (doc) => {
        if (!live) return;
        keep(doc.tests);
        setSaved(shown(doc.tests));
      },
      (e) => live && setMessage({ error: true, text: e.message }),
    );
    return () => {
      live = false;
    };
  }, [slug]);

  /** The tests as the view on screen has them, or the problem that stops them being read. */
  const current = () => (view === "json" ? parseTests(text) : { tests });
  const now = current();
  const changed = now.error ? true : shown(now.tests) !== saved;

  function switchTo(next) {
    if (next === view) return;
    if (next === "cards") {
      const { tests: read, error } = parseTests(text);
      if (error) {
        setMessage({ error: true, text: error });
        return;
      }
      setTests(read);
    } else {
      setText(shown(tests));
      setEditing(null);
    }
    setMessage(null);
    setView(next);
  }

  async function act(what) {
    const { tests: list, error } = current();
    setProblems([]);
    if (error) {
      setMessage({ error: true, text: error });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      if (what === "save") {
        const doc = await api.saveTests(slug, list);
        keep(doc.tests);
        setSaved(shown(doc.tests));
        setMessage({ text: `${doc.tests.length} test(s) saved: publishing runs them.` });
      } else {
        const r = await api.runTests(slug, changed ? list : null);
        setResults(r);
        setMessage({ error: !r.passed, text: r.total ? `${r.total - r.failed} of ${r.total} test(s) passed.` : "There are no tests to run." });
      }
    } catch (e) {
      setMessage({ error: true, text: e.message });
      setProblems((e.body && e.body.problems) || []);
    } finally {
      setBusy(false);
    }
  }

  function edited(index, test) {
    const clash = tests.some((t, i) => i !== index && t.name === test.name);
    if (clash) {
      setMessage({ error: true, text: `Another test is named “${test.name}”: each test needs a name of its own.` });
      return;
    }
    const list = [...tests];
    list[index] = test;
    keep(list);
    setEditing(null);
    setMessage(null);
  }

  const resultOf = (name) => results && results.tests.find((t) => t.name === name);
  const empty = tests !== null && (view === "json" ? !text.trim().replace(/^\[\s*\]$/, "") : tests.length === 0);
  return (
    <div className="cf-tests" data-panel="tests">
      <h3>Tests</h3>
      <p className="cf-help">
        Each test places a call at a given time, takes the caller’s steps and checks the path, the texts and how the call ends.
        Nothing is sent. Publishing runs the saved tests and is refused while one fails.
      </p>
      {dirty && <p className="cf-muted">Tests run on the saved draft: save your changes first.</p>}
      <div className="cf-test-views" role="group" aria-label="Show the tests">
        {[
          ["cards", "In words"],
          ["json", "As JSON"],
        ].map(([key, words]) => (
          <button key={key} type="button" className={`cf-test-view${view === key ? " cf-test-view-on" : ""}`} aria-pressed={view === key} disabled={tests === null} onClick={() => switchTo(key)} data-tests-view={key}>
            {words}
          </button>
        ))}
      </div>
      {view === "json" && (
        <label className="cf-field cf-tests-json">
          <span>Tests (callflow-test/1, JSON)</span>
          <textarea value={text} spellCheck={false} readOnly={!canEdit} rows={14} onChange={(e) => setText(e.target.value)} data-tests-json />
        </label>
      )}
      {view === "cards" && tests !== null && (
        <ol className="cf-test-results" aria-label="The flow's tests">
          {tests.map((test, i) =>
            editing === i ? (
              <li key={i} className="cf-test-editing">
                <TestForm test={test} nodeIds={nodeIds} onDone={(t) => edited(i, t)} onCancel={() => setEditing(null)} />
              </li>
            ) : (
              <TestCard
                key={i}
                test={test}
                result={resultOf(test.name)}
                canEdit={canEdit && editing === null}
                onEdit={() => setEditing(i)}
                onRemove={() => keep(tests.filter((_, j) => j !== i))}
                onShow={(r) => onPath(r.steps, null)}
              />
            ),
          )}
          {editing === tests.length && (
            <li className="cf-test-editing">
              <TestForm test={{ name: "" }} nodeIds={nodeIds} onDone={(t) => edited(tests.length, t)} onCancel={() => setEditing(null)} />
            </li>
          )}
          {tests.length === 0 && editing === null && <li className="cf-muted">No tests yet.</li>}
        </ol>
      )}
      <div className="cf-sim-actions">
        {canEdit && view === "cards" && (
          <button type="button" className="cf-button cf-secondary" disabled={editing !== null || tests === null} onClick={() => setEditing(tests.length)} data-tests-add>
            Add a test
          </button>
        )}
        <button type="button" className="cf-button" disabled={busy || !canEdit || editing !== null} onClick={() => act("run")} data-tests-run title="Run the tests on the saved draft">
          Run tests
        </button>
        {canEdit && (
          <button type="button" className="cf-button cf-secondary" disabled={busy || !changed || editing !== null} onClick={() => act("save")} data-tests-save title="Keep these tests with the flow">
            Save tests
          </button>
        )}
        {canEdit && empty && editing === null && (
          <button type="button" className="cf-button cf-secondary" onClick={() => keep(EXAMPLE)}>
            Start from an example
          </button>
        )}
      </div>
      {message && <p className={message.error ? "cf-error" : "cf-muted"} data-tests-message>{message.text}</p>}
      {problems.length > 0 && (
        <ul className="cf-inline-problems">
          {problems.map((p, i) => (
            <li key={i} className="cf-problem-error">
              {placeOf(p.path)}: {p.message}
            </li>
          ))}
        </ul>
      )}
      {results && view === "json" && (
        <ol className="cf-test-results" aria-label="Test results">
          {results.tests.map((t) => (
            <Result key={t.name} test={t} onShow={(test) => onPath(test.steps, null)} />
          ))}
        </ol>
      )}
    </div>
  );
}
