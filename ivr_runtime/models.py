"""Calls, their steps, and what calls leave behind: texts, callbacks, recordings.

Plus the directory the runtime consults: customers (for `authenticate`) and agents (for
routing by skills).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import models

from ivr_runtime.hashers import PIN_HASHER


class CallSession(models.Model):
    """One live or finished call (one per CallSid), pinned to the version it started on."""

    class Status(models.TextChoices):
        ACTIVE = "active", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    call_sid = models.CharField(max_length=64, unique=True)  # every webhook's lookup by CallSid
    # Served by callsession_flow_stats and callsession_version_stats (each key first): no
    # index of their own to keep up.
    flow = models.ForeignKey(
        "flows.Flow", null=True, on_delete=models.SET_NULL, related_name="calls", db_index=False
    )
    flow_version = models.ForeignKey(
        "flows.FlowVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
        db_index=False,
    )
    draft_definition = models.JSONField(
        null=True,
        blank=True,
        help_text="The draft a simulated call runs on (simulations of drafts only).",
    )
    simulated = models.BooleanField(default=False)
    channel = models.CharField(
        max_length=8,
        choices=[("voice", "Voice"), ("sms", "SMS")],
        default="voice",
        help_text="voice: a phone call; sms: a text conversation (one per From+To)",
    )

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    # On an outbound call from_number is the person called (`caller.number`), to_number ours.
    from_number = models.CharField(max_length=64, blank=True)
    to_number = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    answered_by = models.CharField(
        max_length=32, blank=True, help_text="Twilio's AnsweredBy (answering-machine detection)"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    provider_status = models.CharField(
        max_length=32, blank=True, help_text="Twilio's last CallStatus"
    )
    current_node = models.CharField(max_length=64, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    attempts = models.JSONField(default=dict, blank=True)
    state = models.JSONField(
        default=dict, blank=True, help_text="The engine's state (see ivr_runtime.engine.State)"
    )
    # The state's `ended`, where a statement can see it: the status callback of a call whose
    # flow has finished is then one UPDATE, with no read (services.call_status).
    flow_finished = models.BooleanField(default=False, help_text="The flow has reached its end")
    seq = models.PositiveIntegerField(
        default=0, help_text="Sequence number of the wait the call is at"
    )
    last_request_hash = models.CharField(max_length=64, blank=True)
    last_twiml = models.TextField(
        blank=True, help_text="The answer to the last request (for retries)"
    )
    wait_twiml = models.TextField(
        blank=True, help_text="The current wait alone (for stale requests)"
    )
    pending_since = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="seconds: Twilio's CallDuration, from the final status callback",
    )

    class Outcome(models.TextChoices):
        """What the call came to (ivr_runtime.reports.outcomes says how it is decided)."""

        ROUTED = "routed", "Routed to a person"
        SELF_SERVED = "self_served", "Self-served"
        SMS_FALLBACK = "sms_fallback", "Sent an SMS instead"
        VOICEMAIL = "voicemail", "Left a voicemail"
        CALLBACK = "callback", "Callback scheduled"
        ABANDONED = "abandoned", "Abandoned"
        FAILED = "failed", "Failed"
        IN_PROGRESS = "in_progress", "In progress"

    # Written by the turn that ends the flow (the turn loop), with the state: a call whose
    # flow has finished has its outcome before its status callback comes.
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.IN_PROGRESS)
    outcome_node = models.CharField(
        max_length=64, blank=True, help_text="Where the caller hung up (abandoned calls only)"
    )
    reached = models.CharField(
        max_length=16,
        blank=True,
        help_text="The best outcome reached so far (routed, voicemail...): the outcome the "
        "call ends with, unless nothing is reached",
    )
    # No database constraint: a customer deleted while a call runs must not fail its turns.
    # Served by callsession_customer_started (customer first).
    customer = models.ForeignKey(
        "ivr_runtime.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_constraint=False,
        db_index=False,
        help_text="The customer the call identified (authenticate), if any",
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # GET /api/calls/?flow=: a flow's real (or simulated) calls, newest first, id
            # breaking ties. And the analytics of a flow (reports.analytics, Scope.calls):
            # its calls started in a period, counted by outcome, by hour and by day, and the
            # ids its texts, callbacks and voicemails are joined on; the included columns
            # make those index-only scans, the rows holding each turn's state and TwiML.
            models.Index(
                fields=["flow", "simulated", "-started_at", "-id"],
                include=["outcome", "outcome_node"],
                name="callsession_flow_stats",
            ),
            # The analytics of one version of a flow (?version=, ?compare=), as above
            models.Index(
                fields=["flow_version", "simulated", "-started_at", "-id"],
                include=["outcome", "outcome_node"],
                name="callsession_version_stats",
            ),
            # GET /api/calls/?status=: calls in a status, newest first. Also the stale-call
            # sweep (services.call_sweep): active calls started before its cutoff, oldest
            # first. started_at never changes, so no turn's update touches this index
            # (an index on updated_at would be rewritten by every turn).
            models.Index(fields=["status", "-started_at"], name="callsession_status_started"),
            # Each incoming SMS: the sender's latest conversation with the number (its open
            # one, and the stored answer of a duplicate). SMS rows only: calls never pay for it.
            models.Index(
                fields=["from_number", "to_number", "-started_at"],
                name="callsession_sms_conversation",
                condition=models.Q(channel="sms"),
            ),
            # GET /api/calls/ (and its CSV): the first page, newest first, real calls or
            # simulated ones; id breaks ties between calls started in the same instant
            # and is the second half of the page's keyset.
            models.Index(fields=["simulated", "-started_at", "-id"], name="callsession_list"),
            # GET /api/calls/?outcome=: the calls with an outcome, newest first
            models.Index(fields=["outcome", "-started_at"], name="callsession_outcome_started"),
            # GET /api/calls/?search=<number> and GET /api/timeline/?number=: one number's
            # calls and conversations (the caller, or the person an outbound call rang)
            models.Index(fields=["from_number", "-started_at"], name="callsession_from_started"),
            # GET /api/timeline/?customer= and ?search=<name or account>: a customer's calls
            # (identified calls only: the others never pay for it)
            models.Index(
                fields=["customer", "-started_at"],
                name="callsession_customer_started",
                condition=models.Q(customer__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.call_sid


class CallStep(models.Model):
    """One node visit: the node, what the caller did there, the exit taken, when."""

    # Each foreign key is the first column of an index below (the unique (session, index)
    # constraint, the statistics indexes), which serves its lookups: every turn inserts
    # steps, and each index more is one more page written per turn.
    session = models.ForeignKey(
        CallSession, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    index = models.PositiveIntegerField()
    # Denormalised from the session so the statistics need no join.
    flow = models.ForeignKey(
        "flows.Flow", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    flow_version = models.ForeignKey(
        "flows.FlowVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    simulated = models.BooleanField(default=False)
    node_id = models.CharField(max_length=64)
    node_type = models.CharField(max_length=32, blank=True)
    input = models.CharField(max_length=500, blank=True)
    exit = models.CharField(
        max_length=64, blank=True, help_text="Empty while at the node, or when the call ended there"
    )
    hung_up = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "index"]
        constraints = [
            # The steps of a call in order (call detail) and the update of a step by index.
            models.UniqueConstraint(fields=["session", "index"], name="callstep_session_index"),
        ]
        indexes = [
            # Statistics: a flow's real steps since a time, grouped by node and exit
            models.Index(fields=["flow", "simulated", "at"], name="callstep_flow_stats"),
            # Statistics of one version of a flow
            models.Index(fields=["flow_version", "simulated", "at"], name="callstep_version_stats"),
            # Analytics, avg_seconds_to_agent: a flow's route steps since a time, joined to
            # their routed calls. Route steps alone (a tenth of the steps), and only columns
            # no update of a step changes (an index on `exit` would make every completed
            # step rewrite every index)
            models.Index(
                fields=["flow", "simulated", "at"],
                include=["session"],
                condition=models.Q(node_type="route"),
                name="callstep_route_stats",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.index} {self.node_id} -> {self.exit}"


class CallHttpRequest(models.Model):
    """An HTTP request a call's node made (`http`, `self_service`), for the call's history:
    written with the steps of the round its answer moved on."""

    session = models.ForeignKey(
        CallSession, on_delete=models.CASCADE, related_name="http_requests", db_index=False
    )
    step_index = models.PositiveIntegerField(help_text="The index of the step that made it")
    node_id = models.CharField(max_length=64)
    method = models.CharField(max_length=8, default="GET")
    url = models.TextField()
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["session", "step_index", "id"]
        indexes = [
            # GET /api/calls/<sid>/: a call's requests in the order its steps made them
            models.Index(fields=["session", "step_index"], name="callhttp_session_step"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.url[:60]} -> {self.status or self.error}"


class OutboundMessage(models.Model):
    """An SMS to send: written with the step that asked for it, sent by a Celery task.

    The life of a row (ivr_runtime.sms.outbox): queued -> sending (claimed by one worker,
    with a lease) -> sent (the provider took it) -> delivered / undelivered / failed
    (status callbacks). Transient errors put it back to queued with `next_attempt_at`.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        SIMULATED = "simulated", "Simulated (not sent)"

    to = models.CharField(max_length=64)
    from_number = models.CharField(max_length=64, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    idempotency_key = models.CharField(max_length=128, unique=True)  # one message per call step
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_sid = models.CharField(
        max_length=64, blank=True, db_index=True
    )  # status callbacks by MessageSid
    session = models.ForeignKey(
        CallSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    step = models.ForeignKey(
        CallStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    simulated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a queued message may be sent"
    )
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="Last handed over to the broker"
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A sending claim expires then"
    )
    provider_status = models.CharField(
        max_length=32, blank=True, help_text="Twilio's last MessageStatus"
    )
    error_code = models.CharField(max_length=16, blank=True)
    attempt_log = models.JSONField(default=list, blank=True, help_text="One entry per send attempt")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweeper that retries messages still queued or failed, oldest first
            models.Index(fields=["status", "created_at"], name="outbound_status_created"),
            # The sweeper: queued messages due (next_attempt_at), sending ones past their lease
            models.Index(fields=["status", "next_attempt_at"], name="outbound_status_due"),
            models.Index(fields=["status", "lease_until"], name="outbound_status_lease"),
        ]

    def __str__(self) -> str:
        return f"SMS to {self.to} ({self.status})"


class CallbackRequest(models.Model):
    """A caller asked to be called back before `due_at` (ivr_runtime.callbacks.callbacks places it).

    pending -> dialling (claimed, the call is being created) -> placed (ringing) -> done
    (answered), or back to pending for another attempt (no-answer, busy, failed), or
    failed once the attempts are used up.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DIALLING = "dialling", "Dialling"
        PLACED = "placed", "Placed"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    target = models.JSONField(null=True, blank=True)
    node_id = models.CharField(max_length=64, blank=True)
    session = models.ForeignKey(
        CallSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    flow = models.ForeignKey(
        "flows.Flow", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    simulated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    from_number = models.CharField(
        max_length=64, blank=True, help_text="The caller ID of the call back"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A dialling claim expires then"
    )
    provider_sid = models.CharField(
        max_length=64, blank=True, db_index=True
    )  # status callbacks by CallSid
    last_status = models.CharField(max_length=32, blank=True, help_text="The last call's outcome")
    last_error = models.TextField(blank=True)
    attempt_log = models.JSONField(default=list, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            # GET /api/timeline/?number=: the callbacks asked for a number, newest first
            models.Index(fields=["number", "-created_at"], name="callback_number_created"),
            # The dialler: pending callbacks by due time
            models.Index(fields=["status", "due_at"], name="callback_status_due"),
            # The dialler: pending callbacks whose next attempt is due
            models.Index(fields=["status", "next_attempt_at"], name="callback_status_next"),
        ]

    def __str__(self) -> str:
        return f"call back {self.number} by {self.due_at:%Y-%m-%d %H:%M}"


class RecoveryOffer(models.Model):
    """The text sent to a caller who hung up while queued or ringing at a `route` with
    `on_abandon` (written with the call's last step; ivr_runtime.callbacks.recovery reads
    the replies). One per number and flow within the node's `period_hours`.

    With a callback offered: offered -> booked (a reply of yes: `callback_request`),
    declined (no), or expired (no answer within the period, or a second reply that was
    neither). Without: `texted`, and nothing more.
    """

    class Status(models.TextChoices):
        TEXTED = "texted", "Texted (no callback offered)"
        OFFERED = "offered", "Callback offered"
        BOOKED = "booked", "Callback booked"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"

    number = models.CharField(max_length=64, help_text="The caller who hung up (E.164)")
    from_number = models.CharField(max_length=64, help_text="Our number the text came from")
    # Served by recoveryoffer_flow_sent (flow first): no index of its own to keep up.
    flow = models.ForeignKey(
        "flows.Flow", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    session = models.ForeignKey(
        CallSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    node_id = models.CharField(max_length=64, blank=True)
    callback = models.BooleanField(help_text="A callback was offered")
    target = models.JSONField(null=True, blank=True, help_text="The route's target, called back")
    status = models.CharField(max_length=16, choices=Status.choices)
    message = models.ForeignKey(
        OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    callback_request = models.ForeignKey(
        CallbackRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replies = models.PositiveSmallIntegerField(
        default=0, help_text="Replies that were neither yes nor no"
    )
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="A reply after this goes to the SMS channel")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [
            # Each abandoned call: was this number texted for this flow within the period?
            models.Index(fields=["number", "flow", "-sent_at"], name="recoveryoffer_number_flow"),
            # Each incoming SMS: the sender's latest offer from the number it texts
            models.Index(fields=["number", "from_number", "-sent_at"], name="recoveryoffer_reply"),
            # The analytics: a flow's texts sent within a time range (reports.recovery_counts)
            models.Index(fields=["flow", "sent_at"], name="recoveryoffer_flow_sent"),
        ]

    def __str__(self) -> str:
        return f"recovery text to {self.number} ({self.status})"


class Recording(models.Model):
    """A recording of a call: a voicemail, or the whole call (`record_call`)."""

    class Kind(models.TextChoices):
        VOICEMAIL = "voicemail", "Voicemail"
        CALL = "call", "Whole call"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VOICEMAIL)
    channels = models.PositiveSmallIntegerField(default=1)
    session = models.ForeignKey(
        CallSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings"
    )
    node_id = models.CharField(max_length=64, blank=True)
    url = models.URLField(max_length=1000)
    recording_sid = models.CharField(max_length=64, blank=True)
    duration = models.PositiveIntegerField(default=0, help_text="seconds")
    transcribe = models.BooleanField(default=False)

    class TranscriptionStatus(models.TextChoices):
        NONE = "", "Not asked for"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    transcription = models.TextField(blank=True)
    transcription_status = models.CharField(
        max_length=16, choices=TranscriptionStatus.choices, blank=True, default=""
    )
    transcription_sid = models.CharField(max_length=64, blank=True)
    simulated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The transcription callback and the recording status callback, by RecordingSid
            models.Index(fields=["recording_sid"], name="recording_sid"),
        ]

    def __str__(self) -> str:
        return f"{self.recording_sid or self.url} ({self.duration}s)"


class Customer(models.Model):
    """A known customer: identified by caller ID, account number and PIN."""

    name = models.CharField(max_length=200)
    phone = models.CharField(
        max_length=32, unique=True, null=True, blank=True
    )  # authenticate by caller ID
    account_number = models.CharField(max_length=32, unique=True)  # authenticate by account number
    pin_hash = models.CharField(
        max_length=200, blank=True, help_text="Django password hash of the PIN"
    )
    tier = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    locked_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Too many wrong PINs: no PIN is accepted for this account until then",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"

    def set_pin(self, pin: str) -> None:
        self.pin_hash = make_password(pin, hasher=PIN_HASHER)

    def check_pin(self, pin: str) -> bool:
        if not self.pin_hash:
            return False
        if self.pin_hash.startswith(PIN_HASHER.algorithm + "$"):
            return PIN_HASHER.verify(pin, self.pin_hash)
        return check_password(pin, self.pin_hash)  # a PIN hashed as a password

    def public(self) -> dict[str, Any]:
        """What flows see as `{{ customer.* }}` (never the PIN)."""
        return {
            "id": self.pk,
            "name": self.name,
            "first_name": self.name.split(" ")[0] if self.name else "",
            "account": self.account_number,
            "phone": self.phone or "",
            "tier": self.tier,
        }


class PinFailure(models.Model):
    """One PIN check that did not let the caller in (ivr_runtime/auth_guard.py).

    Written before the PIN is checked and deleted, with the account's others, when it
    matches: a row is a failure, or a check under way. Counted by account (the lock) and by
    calling number (the rate limit) within AUTH_LOCKOUT_WINDOW_MINUTES; older rows are
    pruned as new ones come. Simulated calls' rows are counted apart from real calls'.
    """

    # Served by pinfailure_customer_at (customer first): no index of its own to keep up.
    customer = models.ForeignKey(
        Customer,
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        help_text="The account tried (none: an account number that is not ours)",
    )
    caller = models.CharField(max_length=64, help_text="The calling number (From) as given")
    simulated = models.BooleanField(default=False)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # the account's failures in the window; a success deletes them (auth_guard)
            models.Index(fields=["customer", "simulated", "at"], name="pinfailure_customer_at"),
            # the calling number's failures in the window, whatever accounts it tried
            models.Index(fields=["caller", "simulated", "at"], name="pinfailure_caller_at"),
            # pruning the rows older than the window, oldest first
            models.Index(fields=["at"], name="pinfailure_at"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} at {self.at:%Y-%m-%d %H:%M:%S}"


class Skill(models.Model):
    name = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    """A person calls are routed to by skills; reserved (busy) while a call rings or talks."""

    class Status(models.TextChoices):
        AVAILABLE = "available", "Available"
        BUSY = "busy", "Busy"
        OFFLINE = "offline", "Offline"

    name = models.CharField(max_length=200)
    number = models.CharField(max_length=64, help_text="E.164 number or sip: address")
    skills = models.ManyToManyField(Skill, related_name="agents", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    last_call_ended_at = models.DateTimeField(null=True, blank=True)
    current_session = models.ForeignKey(
        CallSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        indexes = [
            # Routing: available agents, longest idle first
            models.Index(fields=["status", "last_call_ended_at"], name="agent_status_idle"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class Heartbeat(models.Model):
    """The last sign of life of each kind of background process (the worker, beat): one row
    a kind, written by whichever process of that kind was last alive, on any host."""

    kind = models.CharField(max_length=16, primary_key=True)
    seen_at = models.DateTimeField()
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.kind} seen at {self.seen_at:%Y-%m-%d %H:%M:%S} on {self.host}"


class OutboundCall(models.Model):
    """An outbound call asked for (API, `call_out`): queued until its slot under
    OUTBOUND_CALLS_PER_SECOND, then placed (ivr_runtime.voice.outbound). Once placed, the call
    itself is the CallSession with the same CallSid.

    queued -> dialling (claimed, with a lease) -> placed, or failed (Twilio refused it).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DIALLING = "dialling", "Dialling"
        PLACED = "placed", "Placed"
        FAILED = "failed", "Failed"

    flow = models.ForeignKey("flows.Flow", on_delete=models.CASCADE, related_name="outbound_calls")
    to_number = models.CharField(max_length=64, help_text="The person called (E.164)")
    from_number = models.CharField(max_length=64, help_text="Our number the call comes from")
    variables = models.JSONField(default=dict, blank=True, help_text="`vars` the flow starts with")
    machine_detection = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    not_before = models.DateTimeField(help_text="Its slot under OUTBOUND_CALLS_PER_SECOND")
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A dialling claim expires then"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    call_sid = models.CharField(max_length=64, blank=True, help_text="Twilio's CallSid once placed")
    last_error = models.TextField(blank=True)
    attempt_log = models.JSONField(
        default=list, blank=True, help_text="One entry per attempt to place the call"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    placed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep: queued calls whose slot has come, dialling ones past their lease
            models.Index(fields=["status", "not_before"], name="outboundcall_status_slot"),
        ]

    def __str__(self) -> str:
        return f"call to {self.to_number} ({self.status})"


class DialSlot(models.Model):
    """The next free moment to place a call (one row per rate, locked to take a slot): every
    process placing calls (the API, the workers) shares OUTBOUND_CALLS_PER_SECOND."""

    name = models.CharField(max_length=32, unique=True)
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: next at {self.next_at:%H:%M:%S.%f}"


class CallControl(models.Model):
    """An action on a live call through the provider's REST API, asked for by a turn and
    done by the worker after the turn is answered (ivr_runtime.voice.call_control): start or
    stop recording it, or take back a call handed to another application that did not
    send it back in time (`due_at`).

    queued -> working (claimed, with a lease) -> done, failed or skipped (the call had
    moved on or ended); simulated calls' actions are `simulated` and never sent.
    """

    class Action(models.TextChoices):
        START_RECORDING = "start_recording", "Start recording"
        STOP_RECORDING = "stop_recording", "Stop recording"
        TAKE_BACK = "take_back", "Take the call back"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        WORKING = "working", "Working"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        SIMULATED = "simulated", "Simulated"

    session = models.ForeignKey(CallSession, on_delete=models.CASCADE, related_name="controls")
    node_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    channels = models.CharField(max_length=8, blank=True, help_text="mono or dual (recordings)")
    seq = models.PositiveIntegerField(null=True, blank=True, help_text="The wait a take-back ends")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            # The sweep: queued actions that are due, working ones past their lease
            models.Index(fields=["status", "due_at"], name="callcontrol_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on {self.session_id} ({self.status})"
