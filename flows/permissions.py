"""Who may call which API view: Django model permissions, granted through the role groups.

Views declare what they need instead of naming roles, so an admin can grant a single
permission to a user without a group and the API follows:

    class FlowViewSet(GenericViewSet):
        required_permissions = {"list": VIEW_FLOW, "publish": PUBLISH_FLOW, ...}

Keys are a viewset's `action` or, for plain views, the HTTP method in lower case ("get",
"post"). A value of `SIGNED_IN` lets any authenticated user through (`/api/me/`). A view
that declares nothing needs `view_flow` to read and `publish_flow` to write: forgetting to
declare a permission locks a writer out rather than letting a reader write.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from flows.roles import PUBLISH_PERMISSION

VIEW_FLOW = "flows.view_flow"
ADD_FLOW = "flows.add_flow"
CHANGE_FLOW = "flows.change_flow"
PUBLISH_FLOW = f"flows.{PUBLISH_PERMISSION}"
VIEW_VERSION = "flows.view_flowversion"
VIEW_NUMBER = "flows.view_phonenumber"
#: no model permission, only a signed-in user
SIGNED_IN = ""


def required_permission(request: Request, view: Any) -> str:
    declared: dict[str, str] = getattr(view, "required_permissions", {})
    for key in (getattr(view, "action", None), request.method.lower()):
        if key and key in declared:
            return declared[key]
    return VIEW_FLOW if request.method in SAFE_METHODS else PUBLISH_FLOW


class RolePermission(BasePermission):
    """Authenticated, and holding the permission the view declares for this request."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        needed = required_permission(request, view)
        return needed == SIGNED_IN or user.has_perm(needed)
