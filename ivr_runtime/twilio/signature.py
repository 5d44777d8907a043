"""X-Twilio-Signature, checked by the twilio library against the URL Twilio requested."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    compare,
    get_signature_algorithm,
)

from ivr_runtime.twilio.forms import form_of


def public_url(request: HttpRequest) -> str:
    """The URL Twilio requested: PUBLIC_BASE_URL + path + query behind a proxy."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def signature_ok(request: HttpRequest) -> bool:
    """X-Twilio-Signature checked by the twilio library against the URL Twilio used.

    The signature of that URL as it is is computed first; only a mismatch asks the library's
    full `validate`, which also tries the URL with and without its default port.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False  # never a request signed with an empty key
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    params = form_of(request)
    url = public_url(request)
    try:
        if compare(validator.compute_signature(url, params, algorithm), signature):
            return True
    except ValueError:  # an algorithm the library does not know: validate() says so
        pass
    return validator.validate(url, params, signature, algorithm=algorithm)
