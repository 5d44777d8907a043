"""Database snapshots: 'nothing changed' means exactly this is equal before and after."""

from flows.models import Flow, FlowVersion, PhoneNumber


def snapshot() -> dict:
    return {
        "flows": list(
            Flow.objects.order_by("slug").values_list(
                "slug", "name", "revision", "definition", "updated_at", "published_version_id"
            )
        ),
        "versions": list(
            FlowVersion.objects.order_by("flow__slug", "number").values_list(
                "flow__slug", "number", "checksum"
            )
        ),
        "numbers": list(
            PhoneNumber.objects.order_by("number").values_list(
                "number", "flow__slug", "label", "updated_at"
            )
        ),
    }


def counts() -> tuple[int, int, int]:
    return Flow.objects.count(), FlowVersion.objects.count(), PhoneNumber.objects.count()
