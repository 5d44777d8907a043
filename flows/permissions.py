from rest_framework.permissions import IsAuthenticated


class RolePermission(IsAuthenticated):
    pass
