"""The admin: flows with a link to the designer, read-only versions and kept drafts, phone
numbers."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from flows.models import Flow, FlowVersion, KeptDraft, PhoneNumber


def _pretty(definition) -> str:
    return format_html(
        '<pre style="max-height: 40em; overflow: auto">{}</pre>',
        json.dumps(definition, indent=2, ensure_ascii=False),
    )


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    extra = 0
    fields = ("number", "label", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "status",
        "published_version_number",
        "bound_numbers",
        "updated_at",
        "designer_link",
    )
    search_fields = ("name", "slug", "description", "numbers__number")
    # Name, slug and description live in the definition, which changes through the
    # designer, the API or import_flows (they validate it); here only numbers are edited.
    readonly_fields = (
        "name",
        "slug",
        "description",
        "revision",
        "published_version",
        "updated_at",
        "updated_by",
        "created_at",
        "designer_link",
        "definition_pretty",
    )
    fields = (
        "name",
        "slug",
        "description",
        "designer_link",
        "revision",
        "published_version",
        "updated_at",
        "updated_by",
        "created_at",
        "definition_pretty",
    )
    inlines = [PhoneNumberInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("published_version")
            .prefetch_related("numbers")
        )

    @admin.display(description="status")
    def status(self, obj: Flow) -> str:
        if obj.published_version is None:
            return "draft"
        return "published" if obj.published_version.checksum == obj.draft_checksum else "changed"

    @admin.display(description="published version", ordering="published_version__number")
    def published_version_number(self, obj: Flow):
        return obj.published_version.number if obj.published_version else "-"

    @admin.display(description="numbers")
    def bound_numbers(self, obj: Flow) -> str:
        return ", ".join(n.number for n in obj.numbers.all()) or "-"

    @admin.display(description="designer")
    def designer_link(self, obj: Flow) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Open in designer</a>', reverse("designer:editor", args=[obj.slug])
        )

    @admin.display(description="draft definition")
    def definition_pretty(self, obj: Flow) -> str:
        return _pretty(obj.definition) if obj.pk else "-"

    def has_add_permission(self, request):
        # new flows start in the designer or import_flows, where they are validated
        return False


class ReadOnlyDefinitionAdmin(admin.ModelAdmin):
    """Records kept as they were: viewable, never added, changed or deleted here."""

    @admin.display(description="definition")
    def definition_pretty(self, obj: FlowVersion | KeptDraft) -> str:
        return _pretty(obj.definition)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FlowVersion)
class FlowVersionAdmin(ReadOnlyDefinitionAdmin):
    """Published versions are immutable: viewable, never added, changed or deleted here."""

    list_display = ("flow", "number", "note", "published_at", "published_by", "rolled_back_from")
    list_filter = ("flow",)
    search_fields = ("flow__slug", "flow__name", "note")
    fields = (
        "flow",
        "number",
        "note",
        "checksum",
        "published_at",
        "published_by",
        "rolled_back_from",
        "definition_pretty",
    )
    readonly_fields = fields


@admin.register(KeptDraft)
class KeptDraftAdmin(ReadOnlyDefinitionAdmin):
    """Unpublished drafts a rollback or a restore replaced: viewable here, restored in the
    designer's Versions tab or the API (a restore is a validated draft save)."""

    list_display = ("flow", "revision", "saved_at", "saved_by", "kept_at", "kept_by", "reason")
    list_filter = ("flow", "reason")
    list_select_related = ("flow", "saved_by", "kept_by")
    search_fields = ("flow__slug", "flow__name")
    fields = (
        "flow",
        "revision",
        "saved_at",
        "saved_by",
        "kept_at",
        "kept_by",
        "reason",
        "why",
        "restored_at",
        "restored_by",
        "checksum",
        "definition_pretty",
    )
    readonly_fields = fields


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "flow", "label", "updated_at")
    list_select_related = ("flow",)
    search_fields = ("number", "label", "flow__slug", "flow__name")
    autocomplete_fields = ("flow",)
