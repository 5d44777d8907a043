"""The one seam to Twilio's REST API: the only module that imports twilio.rest.

`TWILIO_API_BASE_URL` points the client at a Twilio-compatible provider or a local fake.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client


class SendError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


def client() -> Client:
    twilio = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN or "unset")
    if settings.TWILIO_API_BASE_URL:
        twilio.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")
    return twilio


def sms_send(*, to: str, from_: str, body: str, status_callback: str | None = None) -> Sent:
    try:
        message = client().messages.create(
            to=to, from_=from_, body=body, **({"status_callback": status_callback} if status_callback else {})
        )
    except TwilioRestException as exc:
        raise SendError(str(exc.msg or exc), status=exc.status, code=exc.code) from exc
    except (TwilioException, OSError) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    return Sent(sid=message.sid or "", status=message.status or "queued")
