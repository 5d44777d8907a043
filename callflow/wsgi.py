"""The WSGI application (gunicorn callflow.wsgi:application).

Once the project is loaded (settings, apps, every view through the URL configuration), what
was loaded is moved out of the garbage collector's sight (`gc.freeze`): it lives as long as
the process. Without this a full collection walks those 130,000 objects, about 65 ms during
which the worker answers nobody; with it a full collection walks what requests leave behind.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callflow.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (imports every view and what it uses)
gc.collect()
gc.freeze()
