"""The test suite's settings: the project's own, with the two secrets a production start
requires set to test values (tests sign webhooks with `twilio_driver.TOKEN`)."""

import os

os.environ.setdefault("SECRET_KEY", "callflow-test-suite-secret-key-not-for-production")
os.environ.setdefault("TWILIO_AUTH_TOKEN", "test-auth-token-0123456789abcdef")
# the fake Twilio (tests/fakes) stands in for the REST API
os.environ.setdefault("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)

from callflow.settings import *  # noqa: E402,F403
