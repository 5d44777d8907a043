"""Runtime endpoints under /api/: calls, timelines, statistics, the simulator."""

from django.urls import path

from ivr_runtime import analytics_api, api, api_history

urlpatterns = [
    path("calls/", api_history.CallListView.as_view(), name="call-list"),
    path("calls/export.csv", api_history.CallExportView.as_view(), name="call-export"),
    path("calls/<str:sid>/", api_history.CallDetailView.as_view(), name="call-detail"),
    path("timeline/", api_history.TimelineView.as_view(), name="timeline"),
    path("flows/<slug:slug>/stats/", analytics_api.FlowStatsView.as_view(), name="flow-stats"),
    path("flows/<slug:slug>/simulate/", api.SimulateView.as_view(), name="flow-simulate"),
    path("flows/<slug:slug>/tests/run/", api.FlowTestsRunView.as_view(), name="flow-tests-run"),
    path("flows/<slug:slug>/calls/", api.OutboundCallView.as_view(), name="flow-calls"),
    path(
        "flows/<slug:slug>/calls/<int:id>/",
        api.OutboundCallDetailView.as_view(),
        name="flow-call-detail",
    ),
]
