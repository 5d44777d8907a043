# ruff: noqa: F811 (pytest fixtures imported from tests.worker are parameters here)
"""The admin of the outbox, callbacks and outbound calls: status, attempts, errors,
filters, actions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from flows.models import Flow
from ivr_runtime.models import CallbackRequest, OutboundCall, OutboundMessage
from tests.worker import local_broker, published  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def message(n, **fields):
    return OutboundMessage.objects.create(
        to="+447700900123", body=f"m{n}", idempotency_key=f"k{n}", **fields
    )


def test_message_list_shows_status_attempts_and_errors_with_filters(staff):
    message(
        1,
        status="failed",
        attempts=1,
        error_code="21211",
        last_error="21211: The 'To' number is not valid",
    )
    message(2, status="delivered", attempts=3, provider_status="delivered")
    page = staff.get("/admin/ivr_runtime/outboundmessage/").content.decode()
    assert "21211: The &#x27;To&#x27; number is not valid" in page and "delivered" in page
    for query in (
        "status__exact=failed",
        "error_code=21211",
        "provider_status=delivered",
        "simulated__exact=0",
    ):
        response = staff.get(f"/admin/ivr_runtime/outboundmessage/?{query}")
        assert response.status_code == 200, query
    failed = staff.get("/admin/ivr_runtime/outboundmessage/?status__exact=failed")
    assert [m.body for m in failed.context["cl"].result_list] == ["m1"]
    detail = staff.get(
        f"/admin/ivr_runtime/outboundmessage/{OutboundMessage.objects.get(body='m1').pk}/change/"
    )
    assert detail.status_code == 200 and b"Attempt log" in detail.content


def test_send_again_now_requeues_failed_messages_and_hands_them_over(staff, local_broker):
    failed = message(
        1, status="failed", attempts=6, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    sent = message(2, status="sent")
    response = staff.post(
        "/admin/ivr_runtime/outboundmessage/",
        {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert b"1 message(s) queued again, 1 handed to a worker" in response.content
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.next_attempt_at, sent.status) == ("queued", None, "sent")
    assert [args for args, _ in published(local_broker, "ivr_runtime.send_outbound_message")] == [
        (failed.pk,)
    ]


def test_callback_list_and_cancel(staff):
    due = timezone.now()
    pending = CallbackRequest.objects.create(number="+447700900123", due_at=due)
    done = CallbackRequest.objects.create(
        number="+447700900124", due_at=due, status="done", attempts=2, last_status="completed"
    )
    for query in ("", "?status__exact=pending", "?last_status=completed"):
        assert staff.get(f"/admin/ivr_runtime/callbackrequest/{query}").status_code == 200
    response = staff.post(
        "/admin/ivr_runtime/callbackrequest/",
        {"action": "cancel", "_selected_action": [pending.pk, done.pk]},
        follow=True,
    )
    assert b"1 callback(s) cancelled." in response.content
    assert CallbackRequest.objects.get(pk=pending.pk).status == "cancelled"
    assert CallbackRequest.objects.get(pk=done.pk).status == "done"
    assert staff.get(f"/admin/ivr_runtime/callbackrequest/{done.pk}/change/").status_code == 200


def test_sessions_filter_by_channel(staff):
    assert staff.get("/admin/ivr_runtime/callsession/?channel__exact=sms").status_code == 200


def test_outbound_calls_are_listed_with_each_attempt_to_place_them(staff):
    flow = Flow.objects.create(slug="reminders", name="Reminders", definition={})
    call = OutboundCall.objects.create(
        flow=flow,
        to_number="+447700900123",
        from_number="+442079460102",
        not_before=timezone.now(),
        status="failed",
        attempts=2,
        last_error="gave up after 2 attempts, none found at the provider",
        attempt_log=[{"n": 1, "outcome": "unknown", "error": "ReadTimeout"}],
    )
    listed = staff.get("/admin/ivr_runtime/outboundcall/?status__exact=failed").content.decode()
    assert "+447700900123" in listed and "Failed" in listed
    page = staff.get(f"/admin/ivr_runtime/outboundcall/{call.pk}/change/").content.decode()
    assert "none found at the provider" in page and "ReadTimeout" in page
