"""A local fake of the parts of Twilio's REST API that Callflow uses.

It listens on 127.0.0.1 (a free port), accepts `POST /2010-04-01/Accounts/{sid}/Messages.json`
and `.../Calls.json` the way Twilio does (form-encoded, HTTP basic auth), lists what it
created on `GET` of the same paths (filtered by `To`, `From`, `DateSent>`, `StartTime>`, as
Twilio does, by day), records every request, and can be told to misbehave:

- `fake.fail_next(500, times=2)` answers the next two POSTs with a 500 before succeeding;
- `fake.hold_next(accept=True)` holds the next POST open until `fake.release()`: with
  `accept=True` the message or call is created first (the provider took it, the answer is
  lost), with `accept=False` it is dropped. `fake.held.wait()` tells when it arrived.
- `fake.garble_next()` takes the next POST (the message or call is created) and answers
  201 with a body that is not JSON;
- `fake.set_status(sid, "delivered")` changes what the list says of a message (as the
  statuses posted by `deliver` do);
- `fake.fail_list_next(500)` answers the next list (`GET`) with that status;
  `fail_list_next("not-json")` with a 200 whose body is not JSON, `fail_list_next("drop")`
  closes the connection without an answer (`times=` as above);
- `fake.clock_behind = 3` stamps what it creates three seconds before our clock says.

With `fake.deliver(["sent", "delivered"], token=...)`, each message created with a
`StatusCallback` gets those statuses posted back to it, signed with `token` as Twilio signs
webhooks (`X-Twilio-Signature`), a moment after it was created. With
`fake.answer_calls("completed", token=...)` each call created fetches its `Url` (the TwiML
lands in `fake.answers`) and then reports `completed` to its `StatusCallback`; with
`"no-answer"` (or `"busy"`) it only reports that.

Live calls: `POST .../Calls/{CallSid}/Recordings.json` starts a recording (listed by `GET`
of the same path, in `fake.recordings`), `POST .../Calls/{CallSid}/Recordings/Twilio.CURRENT.json`
with `Status=stopped` stops the one under way (404 when there is none), and
`POST .../Calls/{CallSid}.json` with `Url` redirects the call (kept in `fake.redirects`).

Point the app at it with `TWILIO_API_BASE_URL=fake.base_url`. It is shared by a test
process and worker subprocesses, so everything it knows is kept under one lock.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: an answer that is not JSON (a proxy's error page, a truncated body)
GARBLED = b"<html><body>502 Bad Gateway</body></html>\n"


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict[str, str]
    auth: str | None
    status: int


@dataclass
class FakeTwilio:
    requests: list[RecordedRequest] = field(default_factory=list)
    created: list[dict] = field(default_factory=list)
    _faults: list[tuple[int, dict]] = field(default_factory=list)
    _list_faults: list[int | str] = field(default_factory=list)
    _garble: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _hold: dict | None = None
    held: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    _delivery: tuple[list[str], str] | None = None
    _answering: tuple[str, str] | None = None
    callbacks: list[tuple[str, dict, int]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    recordings: list[dict] = field(default_factory=list)
    redirects: list[dict] = field(default_factory=list)
    #: how many seconds the provider's clock runs behind ours (its records' times)
    clock_behind: float = 0.0

    # --- control -------------------------------------------------------------------------
    def fail_next(
        self, status: int, *, times: int = 1, code: int | None = None, message: str = ""
    ) -> None:
        body = {
            "status": status,
            "code": code or (20500 if status >= 500 else 21211),
            "message": message or "fake failure",
        }
        with self._lock:
            self._faults.extend([(status, body)] * times)

    def fail_list_next(self, fault: int | str, *, times: int = 1) -> None:
        if not (isinstance(fault, int) or fault in ("not-json", "drop")):
            raise ValueError(f"unknown list fault {fault!r}: a status, 'not-json' or 'drop'")
        with self._lock:
            self._list_faults.extend([fault] * times)

    def garble_next(self) -> None:
        with self._lock:
            self._garble = True

    def set_status(self, sid: str, status: str) -> None:
        with self._lock:
            for created in self.created:
                if created["sid"] == sid:
                    created["status"] = status

    def lists(self) -> list[RecordedRequest]:
        """Every list (lookup) request, answered or not."""
        return [r for r in self.requests if r.method == "GET"]

    def hold_next(self, *, accept: bool) -> None:
        with self._lock:
            self._hold = {"accept": accept}
            self.held.clear()
            self._released.clear()

    def deliver(self, statuses: list[str], *, token: str) -> None:
        self._delivery = (list(statuses), token)

    def answer_calls(self, outcome: str, *, token: str) -> None:
        """Each call created from now on is "answered": its Url is fetched (signed) as
        Twilio does when the callee picks up, then its StatusCallback gets `outcome`."""
        self._answering = (outcome, token)

    def _signed_post(self, url: str, params: dict[str, str], token: str) -> tuple[int, str]:
        import urllib.error
        import urllib.request
        from urllib.parse import urlencode

        from twilio.request_validator import RequestValidator

        signature = RequestValidator(token).compute_signature(url, params)
        request = urllib.request.Request(
            url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                code, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            code, text = exc.code, ""
        except OSError:
            code, text = 0, ""
        with self._lock:
            self.callbacks.append((url, params, code))
        return code, text

    def _post_statuses(self, url: str, sid: str, account: str) -> None:
        import time

        statuses, token = self._delivery or ([], "")
        for status in statuses:
            time.sleep(0.05)
            self.set_status(sid, status)
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": account,
                "ApiVersion": "2010-04-01",
            }
            self._signed_post(url, params, token)

    def _answer_call(self, call: dict, form: dict[str, str]) -> None:
        import time

        outcome, token = self._answering or ("", "")
        base = {
            "CallSid": call["sid"],
            "AccountSid": call["account_sid"],
            "From": form.get("From", ""),
            "To": form.get("To", ""),
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        time.sleep(0.05)
        if outcome == "completed" and form.get("Url"):
            _, twiml = self._signed_post(form["Url"], {**base, "CallStatus": "in-progress"}, token)
            with self._lock:
                self.answers.append(twiml)
        if form.get("StatusCallback"):
            params = {**base, "CallStatus": outcome, "CallDuration": "12"}
            self._signed_post(form["StatusCallback"], params, token)

    def release(self) -> None:
        self._released.set()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.created.clear()
            self._faults.clear()
            self._list_faults.clear()
            self._garble = False
            self.callbacks.clear()
            self._hold = None
            self._delivery = None
            self._answering = None
            self.answers.clear()
            self.recordings.clear()
            self.redirects.clear()
        self.held.clear()
        self._released.set()

    def messages(self) -> list[RecordedRequest]:
        """Every attempt to create a message (failed ones too)."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def delivered_messages(self) -> list[RecordedRequest]:
        return [r for r in self.messages() if r.status == 201]

    def created_messages(self) -> list[dict]:
        """The messages the provider took (including one whose answer never reached the app)."""
        with self._lock:
            return [m for m in self.created if m["sid"].startswith("SM")]

    def calls(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Calls.json")]

    def created_calls(self) -> list[dict]:
        with self._lock:
            return [c for c in self.created if c["sid"].startswith("CA")]

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- serving -------------------------------------------------------------------------
    def _record(
        self, method: str, path: str, form: dict[str, str], auth: str | None, status: int
    ) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, form, auth, status))

    def _create(self, path: str, form: dict[str, str]) -> tuple[int, dict]:
        account = path.split("/Accounts/")[1].split("/")[0] if "/Accounts/" in path else "AC"
        n = next(self._sids)
        now = datetime.now(UTC) - timedelta(seconds=self.clock_behind)
        stamp = format_datetime(now, usegmt=True)
        if path.endswith("/Messages.json"):
            body = {
                "sid": f"SMfa4e{n:028x}",
                "account_sid": account,
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"{path[:-5]}/SMfa4e{n:028x}.json",
                "date_created": stamp,
                "date_updated": stamp,
                "date_sent": stamp,
                "status_callback": form.get("StatusCallback"),
            }
        else:
            body = {
                "sid": f"CAfa4e{n:028x}",
                "account_sid": account,
                "to": form.get("To"),
                "from": form.get("From"),
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"{path[:-5]}/CAfa4e{n:028x}.json",
                "date_created": stamp,
                "start_time": stamp,
                "url": form.get("Url"),
                "status_callback": form.get("StatusCallback"),
            }
        with self._lock:
            self.created.append({**body, "_at": now})
        if self._answering and body["sid"].startswith("CA"):
            threading.Thread(target=self._answer_call, args=(body, form), daemon=True).start()
        if self._delivery and body["sid"].startswith("SM") and form.get("StatusCallback"):
            threading.Thread(
                target=self._post_statuses,
                args=(form["StatusCallback"], body["sid"], account),
                daemon=True,
            ).start()
        return 201, {k: v for k, v in body.items() if k != "status_callback"}

    def _live_call(self, path: str, form: dict[str, str]) -> tuple[int, dict]:
        """A request on one call: start or stop its recording, or redirect it."""
        call_sid = path.split("/Calls/")[1].split("/")[0].removesuffix(".json")
        not_found = 404, {"status": 404, "code": 20404, "message": "not found"}
        with self._lock:
            if path.endswith("/Recordings.json"):
                recording = {
                    "sid": f"REfa4e{next(self._sids):028x}",
                    "call_sid": call_sid,
                    "status": "in-progress",
                    "channels": 2 if form.get("RecordingChannels") == "dual" else 1,
                    "form": form,
                }
                self.recordings.append(recording)
                return 201, {k: v for k, v in recording.items() if k != "form"}
            if "/Recordings/" in path:
                wanted = path.rsplit("/", 1)[1].removesuffix(".json")
                for recording in reversed(self.recordings):
                    under_way = recording["status"] == "in-progress"
                    if (
                        recording["call_sid"] == call_sid
                        and under_way
                        and wanted
                        in (
                            "Twilio.CURRENT",
                            recording["sid"],
                        )
                    ):
                        recording["status"] = form.get("Status", "stopped")
                        return 200, {k: v for k, v in recording.items() if k != "form"}
                return not_found
            self.redirects.append({"call_sid": call_sid, **form})
            return 200, {"sid": call_sid, "status": "in-progress", "url": form.get("Url")}

    def _post(
        self, path: str, form: dict[str, str], auth: str | None
    ) -> tuple[int, dict | bytes] | None:
        if "/Calls/" in path:
            with self._lock:
                fault = self._faults.pop(0) if self._faults else None
            answer = fault or self._live_call(path, form)
            self._record("POST", path, form, auth, answer[0])
            return answer
        if not path.endswith(("/Messages.json", "/Calls.json")):
            self._record("POST", path, form, auth, 404)
            return 404, {"status": 404, "code": 20404, "message": "not found"}
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
            hold, self._hold = (self._hold, None) if fault is None else (None, self._hold)
        if fault is not None:
            self._record("POST", path, form, auth, fault[0])
            return fault
        with self._lock:
            garble, self._garble = self._garble, False
        if garble:
            self._create(path, form)
            self._record("POST", path, form, auth, 201)
            return 201, GARBLED
        if hold is not None:
            answer = self._create(path, form) if hold["accept"] else None
            self._record("POST", path, form, auth, 201 if answer else 0)
            self.held.set()
            self._released.wait(timeout=60)
            return answer  # None: the connection is dropped without an answer
        status, body = self._create(path, form)
        self._record("POST", path, form, auth, status)
        return status, body

    def _list(self, path: str, query: dict[str, str]) -> tuple[int, dict]:
        kind, prefix = ("messages", "SM") if path.endswith("/Messages.json") else ("calls", "CA")
        since = query.get("DateSent>") or query.get("StartTime>")
        day = date.fromisoformat(since[:10]) if since else None
        with self._lock:
            found = [
                {k: v for k, v in c.items() if not k.startswith("_") and k != "status_callback"}
                for c in reversed(self.created)
                if c["sid"].startswith(prefix)
                and ("To" not in query or c["to"] == query["To"])
                and ("From" not in query or c["from"] == query["From"])
                and (day is None or c["_at"].date() >= day)
            ]
        return 200, {kind: found, "next_page_uri": None, "page": 0, "page_size": 50, "uri": path}

    def _list_recordings(self, path: str) -> tuple[int, dict]:
        call_sid = path.split("/Calls/")[1].split("/")[0]
        with self._lock:
            found = [
                {k: v for k, v in r.items() if k != "form"}
                for r in self.recordings
                if r["call_sid"] == call_sid
            ]
        return 200, {"recordings": found, "next_page_uri": None, "page": 0, "page_size": 50}

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, answer: tuple[int, dict | bytes] | None) -> None:
                if answer is None:
                    self.close_connection = True
                    return
                status, body = answer
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                kind = "text/html" if isinstance(body, bytes) else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                self._send(fake._post(self.path, form, self.headers.get("Authorization")))

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fault = fake._list_faults.pop(0) if fake._list_faults else None
                status = fault if isinstance(fault, int) else (0 if fault == "drop" else 200)
                fake._record("GET", parts.path, query, self.headers.get("Authorization"), status)
                if fault == "drop":
                    self._send(None)
                    return
                if fault == "not-json":
                    self._send((200, GARBLED))
                    return
                if isinstance(fault, int):
                    body = {"status": fault, "code": 20500, "message": "fake list failure"}
                    self._send((fault, body))
                    return
                if parts.path.endswith("/Recordings.json") and "/Calls/" in parts.path:
                    self._send(fake._list_recordings(parts.path))
                    return
                if not parts.path.endswith(("/Messages.json", "/Calls.json")):
                    self._send((404, {"status": 404, "code": 20404, "message": "not found"}))
                    return
                self._send(fake._list(parts.path, query))

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
