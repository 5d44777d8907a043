"""Admin for calls (read-only, steps inline), the outbox, callbacks, outbound calls,
recordings, directory."""

from django import forms
from django.contrib import admin

from ivr_runtime import auth_guard
from ivr_runtime.models import (
    Agent,
    CallbackRequest,
    CallControl,
    CallSession,
    CallStep,
    Customer,
    OutboundCall,
    OutboundMessage,
    Recording,
    RecoveryOffer,
    Skill,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CallStepInline(ReadOnlyMixin, admin.TabularInline):
    model = CallStep
    fields = ["index", "node_id", "node_type", "input", "exit", "hung_up", "error", "at", "left_at"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    ordering = ["index"]


@admin.register(CallSession)
class CallSessionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "call_sid",
        "flow",
        "flow_version",
        "from_number",
        "to_number",
        "status",
        "current_node",
        "simulated",
        "started_at",
    ]
    list_filter = ["status", "channel", "simulated", "flow"]
    search_fields = ["call_sid", "from_number", "to_number"]
    date_hierarchy = "started_at"
    inlines = [CallStepInline]
    list_select_related = ["flow", "flow_version"]
    exclude = ["draft_definition"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = [
        "to",
        "shown_status",
        "attempts",
        "provider_status",
        "error_code",
        "short_error",
        "simulated",
        "created_at",
        "sent_at",
        "next_attempt_at",
    ]
    list_filter = [
        "status",
        "provider_status",
        "error_code",
        "simulated",
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["to", "body", "provider_sid", "idempotency_key"]
    readonly_fields = [
        "session",
        "step",
        "idempotency_key",
        "provider_sid",
        "provider_status",
        "attempts",
        "last_error",
        "error_code",
        "attempt_log",
        "next_attempt_at",
        "enqueued_at",
        "lease_until",
        "created_at",
        "updated_at",
        "sent_at",
    ]
    raw_id_fields = ["session", "step"]
    actions = ["retry_now"]

    @admin.display(description="last error")
    def short_error(self, obj: OutboundMessage) -> str:
        return obj.last_error[:80]

    @admin.display(description="status", ordering="status")
    def shown_status(self, obj: OutboundMessage) -> str:
        from ivr_runtime.sms.outbox import NOT_CONFIGURED

        if obj.status == OutboundMessage.Status.FAILED and obj.error_code == NOT_CONFIGURED:
            return "not sent (no Twilio account)"
        return obj.get_status_display()

    def changelist_view(self, request, extra_context=None):
        # The outbox's health on top of the list: workers and beat not seen, texts stuck.
        if request.method == "GET":
            from django.contrib import messages

            from ivr_runtime.health import health_check

            levels = {"beat": messages.ERROR, "worker": messages.ERROR}
            for problem in health_check().problems:
                self.message_user(request, problem.text, levels.get(problem.kind, messages.WARNING))
        return super().changelist_view(request, extra_context)

    @admin.action(description="Send again now (queued or failed messages)")
    def retry_now(self, request, queryset):
        from ivr_runtime.sms.outbox import message_publish

        ids = list(
            queryset.filter(
                simulated=False,
                status__in=[OutboundMessage.Status.QUEUED, OutboundMessage.Status.FAILED],
            ).values_list("pk", flat=True)
        )
        OutboundMessage.objects.filter(pk__in=ids).update(
            status=OutboundMessage.Status.QUEUED, next_attempt_at=None
        )
        handed = sum(message_publish(pk) for pk in ids)
        self.message_user(
            request,
            f"{len(ids)} message(s) queued again, {handed} handed to a worker "
            "(the sweep takes the others).",
        )


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "due_at",
        "status",
        "attempts",
        "last_status",
        "short_error",
        "next_attempt_at",
        "completed_at",
        "flow",
        "simulated",
    ]
    list_filter = ["status", "last_status", "simulated", "flow"]
    search_fields = ["number", "provider_sid"]
    readonly_fields = [
        "attempts",
        "last_status",
        "last_error",
        "provider_sid",
        "attempt_log",
        "lease_until",
        "completed_at",
        "created_at",
    ]
    raw_id_fields = ["session"]
    actions = ["cancel"]

    @admin.display(description="last error")
    def short_error(self, obj: CallbackRequest) -> str:
        return obj.last_error[:80]

    @admin.action(description="Cancel (pending callbacks)")
    def cancel(self, request, queryset):
        count = queryset.filter(status=CallbackRequest.Status.PENDING).update(
            status=CallbackRequest.Status.CANCELLED
        )
        self.message_user(request, f"{count} callback(s) cancelled.")


@admin.register(RecoveryOffer)
class RecoveryOfferAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Texts to callers who hung up while queued or ringing, and what they answered."""

    list_display = ["number", "flow", "status", "callback", "sent_at", "expires_at", "answered_at"]
    list_filter = ["status", "callback", "flow"]
    search_fields = ["number"]
    raw_id_fields = ["session", "message", "callback_request"]
    list_select_related = ["flow"]


@admin.register(CallControl)
class CallControlAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Recordings started or stopped and handed-over calls taken back, with their errors."""

    list_display = ["action", "session", "node_id", "status", "attempts", "due_at", "last_error"]
    list_filter = ["action", "status"]
    raw_id_fields = ["session"]


@admin.register(OutboundCall)
class OutboundCallAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Calls placed for the API and `call_out`, with each attempt to place them."""

    list_display = ["to_number", "flow", "status", "attempts", "call_sid", "created_at"]
    list_filter = ["status"]
    search_fields = ["to_number", "call_sid"]
    raw_id_fields = ["flow"]


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = [
        "recording_sid",
        "kind",
        "duration",
        "session",
        "node_id",
        "simulated",
        "created_at",
    ]
    list_filter = ["kind", "simulated"]
    raw_id_fields = ["session"]


class CustomerForm(forms.ModelForm):
    pin = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        min_length=3,
        max_length=12,
        help_text="Digits only. Stored hashed; leave empty to keep the current PIN.",
    )

    class Meta:
        model = Customer
        fields = ["name", "phone", "account_number", "tier", "active"]

    def clean_pin(self):
        pin = self.cleaned_data.get("pin", "")
        if pin and not (pin.isascii() and pin.isdigit()):  # "²" is a digit too
            raise forms.ValidationError("A PIN is digits only.")
        return pin

    def save(self, commit=True):
        customer = super().save(commit=False)
        if self.cleaned_data.get("pin"):
            customer.set_pin(self.cleaned_data["pin"])
        if commit:
            customer.save()
        return customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ["name", "account_number", "phone", "tier", "active", "has_pin", "locked"]
    list_filter = ["tier", "active"]
    search_fields = ["name", "account_number", "phone"]
    readonly_fields = ["locked_until"]
    actions = ["unlock"]

    @admin.display(boolean=True, description="PIN set")
    def has_pin(self, customer):
        return bool(customer.pin_hash)

    @admin.display(boolean=True, description="Locked", ordering="locked_until")
    def locked(self, customer):
        return auth_guard.customer_is_locked(customer)

    @admin.action(description="Unlock (lift a PIN lockout, forget the failed PINs)")
    def unlock(self, request, queryset):
        count = auth_guard.customer_unlock(customers=queryset)
        self.message_user(request, f"{count} account(s) unlocked.")


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["name", "number", "status", "last_call_ended_at"]
    list_filter = ["status", "skills"]
    search_fields = ["name", "number"]
    filter_horizontal = ["skills"]
    raw_id_fields = ["current_session"]
