import { useEffect, useState } from "react";
import { api } from "../api.js";
import { parseTests, placeOf } from "../flowtests.js";

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

/** The flow's tests (callflow-test/1): edited as JSON, saved with the flow, run on the saved draft. */
export default function TestsPanel({ slug, dirty, canEdit, onPath }) {
  const [text, setText] = useState("");
  const [saved, setSaved] = useState("");
  const [problems, setProblems] = useState([]);
  const [message, setMessage] = useState(null);
  const [results, setResults] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    api.tests(slug).then(
      (doc) => {
        if (!live) return;
        const shown = JSON.stringify(doc.tests, null, 2);
        setText(shown);
        setSaved(shown);
      },
      (e) => live && setMessage({ error: true, text: e.message }),
    );
    return () => {
      live = false;
    };
  }, [slug]);

  const changed = text !== saved;

  async function act(what) {
    const { tests, error } = parseTests(text);
    setProblems([]);
    if (error) {
      setMessage({ error: true, text: error });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      if (what === "save") {
        const doc = await api.saveTests(slug, tests);
        const shown = JSON.stringify(doc.tests, null, 2);
        setText(shown);
        setSaved(shown);
        setMessage({ text: `${doc.tests.length} test(s) saved: publishing runs them.` });
      } else {
        const r = await api.runTests(slug, changed ? tests : null);
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

  return (
    <div className="cf-tests" data-panel="tests">
      <h3>Tests</h3>
      <p className="cf-help">
        Each test places a call at a given time, takes the caller’s steps and checks the path, the texts and how the call ends.
        Nothing is sent. Publishing runs the saved tests and is refused while one fails.
      </p>
      {dirty && <p className="cf-muted">Tests run on the saved draft: save your changes first.</p>}
      <label className="cf-field cf-tests-json">
        <span>Tests (callflow-test/1, JSON)</span>
        <textarea
          value={text}
          spellCheck={false}
          readOnly={!canEdit}
          rows={14}
          onChange={(e) => setText(e.target.value)}
          data-tests-json
        />
      </label>
      <div className="cf-sim-actions">
        <button type="button" className="cf-button" disabled={busy || !canEdit} onClick={() => act("run")} data-tests-run title="Run the tests on the saved draft">
          Run tests
        </button>
        {canEdit && (
          <button type="button" className="cf-button cf-secondary" disabled={busy || !changed} onClick={() => act("save")} data-tests-save title="Keep these tests with the flow">
            Save tests
          </button>
        )}
        {canEdit && !text.trim().replace(/^\[\s*\]$/, "") && (
          <button type="button" className="cf-button cf-secondary" onClick={() => setText(JSON.stringify(EXAMPLE, null, 2))}>
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
      {results && (
        <ol className="cf-test-results" aria-label="Test results">
          {results.tests.map((t) => (
            <Result key={t.name} test={t} onShow={(test) => onPath(test.steps, null)} />
          ))}
        </ol>
      )}
    </div>
  );
}
