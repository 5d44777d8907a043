"""The three roles, as Django groups with model permissions (managed in the admin)."""

VIEWER = "viewer"
EDITOR = "editor"
PUBLISHER = "publisher"

#: custom permissions on Flow beyond Django's add/change/delete/view
PUBLISH_PERMISSION = "publish_flow"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWER: ["flows.view_flow", "flows.view_flowversion", "flows.view_phonenumber"],
    EDITOR: [
        "flows.view_flow",
        "flows.view_flowversion",
        "flows.view_phonenumber",
        "flows.add_flow",
        "flows.change_flow",
    ],
    PUBLISHER: [
        "flows.view_flow",
        "flows.view_flowversion",
        "flows.view_phonenumber",
        "flows.add_flow",
        "flows.change_flow",
        f"flows.{PUBLISH_PERMISSION}",
        "flows.add_phonenumber",
        "flows.change_phonenumber",
        "flows.delete_phonenumber",
    ],
}


def sync_roles(group_model, permission_model) -> dict:
    """Create the role groups with their permissions (idempotent). Takes the models so the
    data migration can pass its historical ones; returns {role: group}."""
    groups = {}
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        groups[role] = group
    return groups
