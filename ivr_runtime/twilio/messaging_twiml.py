"""Texts -> TwiML for messaging. The only module that imports twilio.twiml.messaging_response."""

from __future__ import annotations

from collections.abc import Iterable

from twilio.twiml.messaging_response import MessagingResponse

#: Twilio's limit for one message body; longer texts become several <Message> elements
MAX_BODY = 1600

UNBOUND_NUMBER = "Sorry, this number does not take text messages."
UNAVAILABLE = "Sorry, we cannot answer your message right now. Please try again later."
BUSY = (
    "One moment please: we are still working on your last message. Please send this again shortly."
)


def split(text: str, limit: int = MAX_BODY) -> list[str]:
    """A text cut into parts of at most `limit` characters, at line or word ends if possible."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def to_xml(texts: Iterable[str]) -> str:
    """One <Message> per text (split at MAX_BODY); no text, no message (an empty answer)."""
    response = MessagingResponse()
    for text in texts:
        for part in split(text):
            response.message(part)
    return response.to_xml(xml_declaration=True)


def static(text: str) -> str:
    return to_xml([text])
