from django.apps import AppConfig


class IvrRuntimeConfig(AppConfig):
    name = "ivr_runtime"
    verbose_name = "IVR runtime"
    default_auto_field = "django.db.models.BigAutoField"
