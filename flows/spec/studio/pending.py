"""Widgets whose callflow node types are being written (`record_call`, `redirect`).

Until they exist these widgets become placeholders that keep every exit, so what follows
them in Studio (Call Recording's success and failed paths, a redirect's return) stays part
of the flow. When the node types land, each function here becomes a real conversion and
nothing else changes.
"""

from __future__ import annotations

from .common import placeholder
from .converter import _Converter, _Widget


def record_call(c: _Converter, w: _Widget) -> None:
    placeholder(
        c,
        w,
        "call recording does not convert yet: remove this placeholder (connect what led to "
        "it to its success path) or replace it once call recording is available",
    )


def twiml_redirect(c: _Converter, w: _Widget) -> None:
    placeholder(
        c,
        w,
        f"callflow does not run TwiML from elsewhere ({w.text('url')}): replace this "
        "placeholder with nodes doing what that TwiML does",
    )
