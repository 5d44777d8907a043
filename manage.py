#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callflow.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    if not any(arg.startswith("--settings") for arg in sys.argv):
        # The settings refuse to load without their secrets: say so, not a traceback
        # (Django would go on without settings and fail later on something else).
        try:
            settings.INSTALLED_APPS  # noqa: B018
        except ImproperlyConfigured as exc:
            sys.exit(f"callflow: {exc}")
    execute_from_command_line(sys.argv)
