"""Runtime endpoints under /api/: calls, statistics, the simulator."""

from django.urls import path

from ivr_runtime import analytics_api, api

urlpatterns = [
    path("calls/", api.CallListView.as_view(), name="call-list"),
    path("calls/<str:sid>/", api.CallDetailView.as_view(), name="call-detail"),
    path("flows/<slug:slug>/stats/", analytics_api.FlowStatsView.as_view(), name="flow-stats"),
    path("flows/<slug:slug>/simulate/", api.SimulateView.as_view(), name="flow-simulate"),
    path("flows/<slug:slug>/calls/", api.OutboundCallView.as_view(), name="flow-calls"),
    path(
        "flows/<slug:slug>/calls/<int:id>/",
        api.OutboundCallDetailView.as_view(),
        name="flow-call-detail",
    ),
]
