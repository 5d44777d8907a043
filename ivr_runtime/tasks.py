"""Celery tasks: take ids, call one service."""

from celery import shared_task

from . import messaging


@shared_task(name="ivr_runtime.send_outbound_message", ignore_result=True)
def send_outbound_message(message_id: int) -> None:
    messaging.outbound_message_send(message_id=message_id)
