from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    # Twilio's webhooks first: every live call's every step is resolved here.
    path("ivr/", include("ivr_runtime.urls")),
    path("", RedirectView.as_view(url="/designer/", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI, served from our own static files: people log in first (the schema
    # itself answers 401/403 to anonymous clients)
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/", include("flows.urls")),
    path("api/", include("ivr_runtime.api_urls")),
    path("designer/", include("designer_ui.urls")),
]
