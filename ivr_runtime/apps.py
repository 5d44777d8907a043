from django.apps import AppConfig


class IvrRuntimeConfig(AppConfig):
    name = "ivr_runtime"
    verbose_name = "IVR runtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from callflow import checks  # noqa: F401 (registers the deployment checks)
        from flows.services import PUBLISH_CHECKS
        from ivr_runtime import tasks  # noqa: F401 (registers the tasks services name, jobs.py)
        from ivr_runtime.flowtests.runner import publish_check

        if publish_check not in PUBLISH_CHECKS:
            PUBLISH_CHECKS.append(publish_check)  # publishing runs the flow's tests
