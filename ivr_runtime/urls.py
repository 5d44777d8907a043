"""Telephony webhooks under /ivr/ (see docs/runtime.md)."""

from django.urls import path

from ivr_runtime.callbacks import webhooks as callback_webhooks
from ivr_runtime.sms import sms_webhooks
from ivr_runtime.voice import outbound_webhooks, webhooks

app_name = "ivr"
urlpatterns = [
    path("voice", webhooks.voice, name="voice"),
    path("flows/<slug:slug>/voice", webhooks.flow_voice, name="flow-voice"),
    path("continue", webhooks.resume, name="continue"),
    path("status", webhooks.status, name="status"),
    path("fallback", webhooks.fallback, name="fallback"),
    path("recordings/status", webhooks.recording_status, name="recording-status"),
    path("recordings/transcription", webhooks.transcription, name="recording-transcription"),
    path("queue-wait", webhooks.queue_wait, name="queue-wait"),
    path("ping", webhooks.ping, name="ping"),
    path("sms", sms_webhooks.sms, name="sms"),
    path("messages/status", sms_webhooks.message_status, name="message-status"),
    path("callbacks/<int:pk>/voice", callback_webhooks.callback_voice, name="callback-voice"),
    path("callbacks/<int:pk>/status", callback_webhooks.callback_status, name="callback-status"),
    path("outbound/<int:pk>/voice", outbound_webhooks.answer, name="outbound-voice"),
    path("outbound/<int:pk>/status", outbound_webhooks.status, name="outbound-status"),
]
