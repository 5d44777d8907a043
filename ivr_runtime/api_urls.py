"""Runtime endpoints under /api/: calls, statistics, the simulator."""

urlpatterns: list = []
