"""A voicemail's transcription, posted by Twilio when it is ready (`<Record transcribe>`'s
transcribeCallback: voice.webhooks.transcription)."""

from __future__ import annotations

import logging

from django.db import transaction

from ivr_runtime.models import CallSession, Recording
from ivr_runtime.twilio.forms import TranscriptionCallback

log = logging.getLogger(__name__)


def recording_transcribed(*, callback: TranscriptionCallback) -> Recording | None:
    """Keep the transcription with its recording. The same callback twice writes the same
    values; a transcription that comes before the recording's own webhook (never seen, but
    nothing forbids it) makes the row that webhook then completes. None when the call is
    unknown."""
    fields = {
        "transcription": callback.text,
        "transcription_status": callback.status,
        "transcription_sid": callback.transcription_sid,
    }
    with transaction.atomic():
        recording = (
            Recording.objects.select_for_update()
            .filter(recording_sid=callback.recording_sid)
            .first()
        )
        if recording is not None:
            for name, value in fields.items():
                setattr(recording, name, value)
            recording.save(update_fields=list(fields))
            return recording
        session = CallSession.objects.filter(call_sid=callback.call_sid).first()
        if session is None or not callback.recording_url.startswith("https://"):
            log.warning(
                "transcription of %s: no such call %s, or no recording URL",
                callback.recording_sid,
                callback.call_sid or "(none)",
            )
            return None
        return Recording.objects.create(
            session=session,
            kind=Recording.Kind.VOICEMAIL,
            url=callback.recording_url,
            recording_sid=callback.recording_sid,
            transcribe=True,
            simulated=session.simulated,
            **fields,
        )
