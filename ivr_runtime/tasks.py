"""Celery tasks: take ids, call one service."""

from celery import shared_task

from ivr_runtime.callbacks import callbacks
from ivr_runtime.sms import outbox, sms_channel
from ivr_runtime.voice import call_control, call_end, outbound


@shared_task(name="ivr_runtime.send_outbound_message", ignore_result=True)
def send_outbound_message(message_id: int) -> None:
    outbox.outbound_message_send(message_id=message_id)


@shared_task(name="ivr_runtime.sweep_outbox", ignore_result=True)
def sweep_outbox() -> None:
    outbox.outbox_sweep()


@shared_task(name="ivr_runtime.place_callback", ignore_result=True)
def place_callback(callback_id: int) -> None:
    callbacks.callback_place(callback_id=callback_id)


@shared_task(name="ivr_runtime.sweep_callbacks", ignore_result=True)
def sweep_callbacks() -> None:
    callbacks.callback_sweep()


@shared_task(name="ivr_runtime.expire_sms_sessions", ignore_result=True)
def expire_sms_sessions() -> None:
    sms_channel.sessions_expire()


@shared_task(name="ivr_runtime.sweep_stale_calls", ignore_result=True)
def sweep_stale_calls() -> None:
    call_end.call_sweep()


@shared_task(name="ivr_runtime.dispatch_outbound_calls", ignore_result=True)
def dispatch_outbound_calls() -> None:
    outbound.outbound_dispatch()


@shared_task(name="ivr_runtime.sweep_call_controls", ignore_result=True)
def sweep_call_controls() -> None:
    call_control.control_sweep()
