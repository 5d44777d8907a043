"""Flows, their immutable published versions, the unpublished drafts kept when a rollback or
a restore replaced them, and the phone numbers bound to them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse


def canonical_json(definition: dict[str, Any]) -> str:
    """The definition as stable JSON text: the basis of checksums and no-op detection."""
    return json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_checksum(definition: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(definition).encode()).hexdigest()


class Flow(models.Model):
    """A call flow: its working draft and a pointer to the version calls run on."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    definition = models.JSONField(help_text="The working draft (callflow/1).")
    tests = models.JSONField(
        default=list,
        blank=True,
        help_text="The flow's tests (the `tests` of a callflow-test/1 file); publishing runs "
        "them and is refused when one fails.",
    )
    revision = models.PositiveIntegerField(
        default=1,
        help_text="Bumped on every draft change; a save based on an older one is refused.",
    )
    published_version = models.ForeignKey(
        "FlowVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version new calls start on.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        permissions = [("publish_flow", "Can publish, roll back, import flows and bind numbers")]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def get_absolute_url(self) -> str:
        return reverse("designer:editor", args=[self.slug])

    @property
    def draft_checksum(self) -> str:
        return definition_checksum(self.definition)


class FlowVersion(models.Model):
    """An immutable published definition. Calls keep the version they started on."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    checksum = models.CharField(max_length=64, help_text="sha256 of the canonical JSON definition")
    note = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rolled_back_from = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version number this one restores, for rollbacks."
    )

    class Meta:
        ordering = ["flow", "-number"]
        constraints = [
            # Serves "version N of flow F" (export, rollback, diff) and keeps numbers unique.
            models.UniqueConstraint(fields=["flow", "number"], name="flowversion_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.flow.slug} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("Published versions are immutable.")
        self.checksum = definition_checksum(self.definition)
        super().save(*args, **kwargs)


class KeptDraft(models.Model):
    """Unpublished draft work that a rollback or a restore replaced, kept so that it can be
    restored: nothing saved is ever thrown away without a trace."""

    class Reason(models.TextChoices):
        ROLLBACK = "rollback", "replaced by a rollback"
        RESTORE = "restore", "replaced by restoring a kept draft"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="kept_drafts")
    definition = models.JSONField()
    checksum = models.CharField(max_length=64, help_text="sha256 of the canonical JSON definition")
    revision = models.PositiveIntegerField(help_text="The draft's revision when it was replaced.")
    saved_at = models.DateTimeField(help_text="When that revision was saved.")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kept_at = models.DateTimeField(auto_now_add=True, help_text="When it was replaced.")
    kept_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who replaced it.",
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    rollback_version = models.ForeignKey(
        FlowVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kept_drafts",
        help_text="The version the rollback that replaced it published.",
    )
    replaced_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The kept draft whose restore replaced it.",
    )
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["flow", "-kept_at", "-pk"]
        indexes = [
            # Serves a flow's history of kept drafts, newest first.
            models.Index(fields=["flow", "-kept_at"], name="keptdraft_flow_kept_at"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.flow.slug} draft revision {self.revision} (kept {self.kept_at:%Y-%m-%d %H:%M})"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is None:
            self.checksum = definition_checksum(self.definition)
        super().save(*args, **kwargs)

    @property
    def why(self) -> str:
        """What replaced it, in words (the history shows it)."""
        version = self.rollback_version
        if self.reason == self.Reason.ROLLBACK and version is not None:
            return (
                f"Replaced by the rollback to version {version.rolled_back_from} "
                f"(published again as version {version.number})."
            )
        if self.reason == self.Reason.RESTORE and self.replaced_by is not None:
            return (
                f"Replaced when the kept draft of revision {self.replaced_by.revision} "
                "was restored."
            )
        return f"{self.get_reason_display().capitalize()}."


def validate_e164(value: str) -> None:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            f"{value!r} is not a phone number in E.164 form (+CC...): {exc}"
        ) from exc
    if not phonenumbers.is_valid_number(parsed) or value != phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.E164
    ):
        raise ValidationError(
            f"{value!r} is not a valid phone number in E.164 form, e.g. +442071838750"
        )


class PhoneNumber(models.Model):
    """A phone number whose incoming calls and texts run a flow."""

    number = models.CharField(
        max_length=20, unique=True, validators=[validate_e164]
    )  # the webhook's lookup by To
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="numbers")
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} -> {self.flow.slug}"
