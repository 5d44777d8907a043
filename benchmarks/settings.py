"""The bench servers' settings: the project's own, with the bench's URLs (benchmarks/urls.py)
in front of the project's."""

from callflow.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
