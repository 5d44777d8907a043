"""Plays Twilio's part in a call: signs webhooks and follows the TwiML the runtime answers.

It reads the TwiML the way Twilio does: `<Say>`/`<Play>` are heard, `<Redirect>` is
followed at once, `<Gather>` waits for the test to press keys or speak (and posts an empty
result when `actionOnEmptyResult` is set, else runs the next verb), `<Dial>`, `<Enqueue>`
and `<Record>` wait for the test to say how they ended and then post their `action`
(an empty `<Record>` runs the next verb instead, as Twilio does), `<Hangup>` or the end of
the document ends the call.

A `<Redirect>` to another host asks the application the test registered for that origin
(`call.apps[origin]`, a function of the URL and the form that returns a TwiML document, or
None when it cannot be reached); an unreachable one makes Twilio request the number's
fallback URL (`/ivr/fallback`) with `ErrorCode` 11200 and `ErrorUrl`, as Twilio does.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit

from django.test import Client
from twilio.request_validator import RequestValidator

TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://testserver"
_sids = itertools.count(1)


def new_sid() -> str:
    return f"CA{next(_sids):032x}"


@dataclass
class Signer:
    client: Client
    token: str = TOKEN
    base: str = BASE

    def signature(self, url: str, params: dict[str, str]) -> str:
        return RequestValidator(self.token).compute_signature(url, params)

    def post(
        self,
        path_or_url: str,
        params: dict[str, str],
        *,
        signature: str | None = None,
        base: str | None = None,
    ):
        url = urljoin((base or self.base) + "/", path_or_url)
        path = url[len(base or self.base) :] if url.startswith(base or self.base) else url
        headers = {}
        sig = self.signature(url, params) if signature is None else signature
        if sig:
            headers["HTTP_X_TWILIO_SIGNATURE"] = sig
        # urlencoded, as Twilio posts (the test client would send multipart)
        return self.client.post(
            path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
        )


@dataclass
class Call:
    signer: Signer
    to: str
    caller: str = "+447700900123"
    sid: str = field(default_factory=new_sid)
    heard: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    waiting: ET.Element | None = None
    waiting_url: str = ""
    rest: list[ET.Element] = field(default_factory=list)
    ended: bool = False
    requests: int = 0
    apps: dict[str, Callable[[str, dict[str, str]], str | None]] = field(default_factory=dict)
    fallback_path: str = "/ivr/fallback"

    # --- the call's webhooks -------------------------------------------------------------
    def params(self, **extra: str) -> dict[str, str]:
        base = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": self.to,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        base.update(extra)
        return base

    def start(self, path: str = "/ivr/voice") -> Call:
        self._post(path, self.params(CallStatus="ringing"))
        return self

    def _post(self, url: str, params: dict[str, str]) -> None:
        response = self.signer.post(url, params)
        self.requests += 1
        assert response.status_code == 200, (response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
        self.last_response = response.content.decode()
        self._run(self.last_response, url)

    def _run(self, document: str, url: str) -> None:
        self.documents.append(document)
        root = ET.fromstring(document)
        assert root.tag == "Response", document
        self._verbs(list(root), url)

    def _verbs(self, verbs: list[ET.Element], url: str) -> None:
        self.waiting = None
        for i, verb in enumerate(verbs):
            if verb.tag == "Say":
                self.heard.append(verb.text or "")
            elif verb.tag == "Play":
                self.heard.append(f"[play {verb.text}]")
            elif verb.tag == "Pause":
                continue
            elif verb.tag == "Redirect":
                self.follow(urljoin(url, verb.text or url))
                return
            elif verb.tag in ("Hangup", "Reject"):
                self.ended = True
                return
            elif verb.tag in ("Gather", "Dial", "Enqueue", "Record"):
                for child in verb:
                    if child.tag == "Say":
                        self.heard.append(child.text or "")
                self.waiting, self.waiting_url, self.rest = verb, url, verbs[i + 1 :]
                return
            else:
                raise AssertionError(f"unexpected verb {verb.tag}")
        self.ended = True  # the end of the document hangs up

    def follow(self, url: str) -> None:
        """Request `url` for the call's TwiML (ours, or another application's)."""
        parts = urlsplit(url)
        if not parts.scheme or url.startswith(self.signer.base):
            self._post(url, self.params())
            return
        app = self.apps.get(f"{parts.scheme}://{parts.netloc}")
        document = app(url, self.params()) if app is not None else None
        if document is None:
            self._post(self.fallback_path, self.params(ErrorCode="11200", ErrorUrl=url))
            return
        self._run(document, url)

    def _action(self, **params: str) -> None:
        assert self.waiting is not None, "the call is not waiting"
        action = urljoin(self.waiting_url, self.waiting.get("action") or self.waiting_url)
        self.waiting = None
        self._post(action, self.params(**params))

    # --- what the caller (or the far end) does -------------------------------------------
    @property
    def waits_for(self) -> str | None:
        return None if self.waiting is None else self.waiting.tag

    def press(self, digits: str) -> Call:
        assert self.waits_for == "Gather", (self.waits_for, self.documents[-1:])
        self._action(Digits=digits)
        return self

    def speak(self, speech: str, confidence: str = "0.9") -> Call:
        assert self.waits_for == "Gather", self.waits_for
        self._action(SpeechResult=speech, Confidence=confidence)
        return self

    def silence(self) -> Call:
        assert self.waits_for == "Gather", self.waits_for
        if self.waiting.get("actionOnEmptyResult") == "true":
            self._action()
        else:
            rest, url = self.rest, self.waiting_url
            self._verbs(rest, url)
        return self

    def dial_ends(self, status: str, duration: int = 0) -> Call:
        assert self.waits_for == "Dial", self.waits_for
        params = {"DialCallStatus": status, "DialCallSid": "CA" + "d" * 32}
        if status == "completed":
            params["DialCallDuration"] = str(duration)
        self._action(**params)
        return self

    def queue_wait(self, queue_time: int) -> str:
        """Twilio fetching the Enqueue waitUrl; returns that TwiML."""
        assert self.waits_for == "Enqueue", self.waits_for
        url = urljoin(self.waiting_url, self.waiting.get("waitUrl"))
        response = self.signer.post(
            url,
            self.params(
                QueuePosition="1",
                QueueTime=str(queue_time),
                AvgQueueTime="30",
                CurrentQueueSize="1",
            ),
        )
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    def queue_ends(self, result: str, queue_time: int = 10) -> Call:
        assert self.waits_for == "Enqueue", self.waits_for
        self._action(QueueResult=result, QueueTime=str(queue_time))
        return self

    def record(
        self,
        duration: int,
        url: str = "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
    ) -> Call:
        assert self.waits_for == "Record", self.waits_for
        self._action(
            RecordingUrl=url,
            RecordingSid="RE" + "1" * 32,
            RecordingDuration=str(duration),
            Digits="#",
        )
        return self

    def record_nothing(self) -> Call:
        """No audio: Twilio skips the action and runs the next verb."""
        assert self.waits_for == "Record", self.waits_for
        rest, url = self.rest, self.waiting_url
        self._verbs(rest, url)
        return self

    def hang_up(self, status: str = "completed") -> None:
        response = self.signer.post(
            "/ivr/status", self.params(CallStatus=status, CallDuration="30")
        )
        assert response.status_code in (200, 204), response.status_code
        self.ended = True

    @property
    def said(self) -> str:
        return " | ".join(self.heard)
