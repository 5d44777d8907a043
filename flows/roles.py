"""The three roles, as Django groups with model permissions (managed in the admin)."""

VIEWER = "viewer"
EDITOR = "editor"
PUBLISHER = "publisher"

#: custom permissions on Flow beyond Django's add/change/delete/view
PUBLISH_PERMISSION = "publish_flow"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWER: ["flows.view_flow", "flows.view_flowversion", "flows.view_phonenumber"],
    EDITOR: [
        "flows.view_flow", "flows.view_flowversion", "flows.view_phonenumber",
        "flows.add_flow", "flows.change_flow",
    ],
    PUBLISHER: [
        "flows.view_flow", "flows.view_flowversion", "flows.view_phonenumber",
        "flows.add_flow", "flows.change_flow", f"flows.{PUBLISH_PERMISSION}",
        "flows.add_phonenumber", "flows.change_phonenumber", "flows.delete_phonenumber",
    ],
}
