"""The flows API under /api/ (see docs/api.md)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from flows import api, api_drafts

router = SimpleRouter()
router.register("flows", api.FlowViewSet, basename="flow")
router.register("node-types", api.NodeTypeViewSet, basename="node-type")
router.register("numbers", api.NumberViewSet, basename="number")

urlpatterns = [
    path("import/", api.ImportView.as_view(), name="flow-import"),
    path("format/", api.FormatView.as_view(), name="format"),
    path("me/", api.MeView.as_view(), name="me"),
    path("flows/<slug:slug>/drafts/", api_drafts.KeptDraftListView.as_view(), name="kept-drafts"),
    path(
        "flows/<slug:slug>/drafts/<int:pk>/",
        api_drafts.KeptDraftDetailView.as_view(),
        name="kept-draft",
    ),
    path(
        "flows/<slug:slug>/drafts/<int:pk>/restore/",
        api_drafts.KeptDraftRestoreView.as_view(),
        name="kept-draft-restore",
    ),
    *router.urls,
]
