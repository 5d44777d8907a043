"""The flows API under /api/ (see docs/api.md)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from flows import api

router = SimpleRouter()
router.register("flows", api.FlowViewSet, basename="flow")
router.register("node-types", api.NodeTypeViewSet, basename="node-type")
router.register("numbers", api.NumberViewSet, basename="number")

urlpatterns = [
    path("import/", api.ImportView.as_view(), name="flow-import"),
    path("format/", api.FormatView.as_view(), name="format"),
    path("me/", api.MeView.as_view(), name="me"),
    *router.urls,
]
