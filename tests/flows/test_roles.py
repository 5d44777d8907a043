from django.contrib.auth.models import Group


def test_roles_are_groups_with_growing_permissions(db):
    perms = {
        g.name: {p.codename for p in g.permissions.all()} for g in Group.objects.all()
    }
    assert perms["viewer"] < perms["editor"] < perms["publisher"]
    assert "publish_flow" in perms["publisher"] and "publish_flow" not in perms["editor"]
