from django.apps import AppConfig


class IvrRuntimeConfig(AppConfig):
    name = "ivr_runtime"
    verbose_name = "IVR runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from callflow import checks  # noqa: F401 (registers the deployment checks)
        from ivr_runtime import tasks  # noqa: F401 (registers the tasks services name, jobs.py)
