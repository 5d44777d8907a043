"""Telephony webhooks under /ivr/ (see docs/runtime.md)."""

from django.urls import path

from . import webhooks

app_name = "ivr"
urlpatterns = [
    path("voice", webhooks.voice, name="voice"),
    path("flows/<slug:slug>/voice", webhooks.flow_voice, name="flow-voice"),
    path("continue", webhooks.resume, name="continue"),
    path("status", webhooks.status, name="status"),
    path("queue-wait", webhooks.queue_wait, name="queue-wait"),
    path("ping", webhooks.ping, name="ping"),
]
