"""The project's URLs and `/bench/write`: the write floor.

The write floor is the least a runtime that keeps its calls in the database does for a
webhook: the signed webhook as the runtime's own are received (form, signature, the same
edge), one statement that writes the call's state (an upsert of one row, committed on its
own), and static TwiML. No flow, no engine, no read. Measured beside `/ivr/ping` (the
floor, no database) and whole calls, it shows how much of the floor's rate the database's
round trip alone leaves on this machine.
"""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from ivr_runtime.edge import twilio_webhook, xml_response
from ivr_runtime.twilio import twiml

#: the bench's own table, made by `benchmarks.server.prepare`
TABLE = """CREATE TABLE IF NOT EXISTS bench_write_floor (
    call_sid varchar(64) PRIMARY KEY, seq integer NOT NULL, state text NOT NULL)"""
UPSERT = """INSERT INTO bench_write_floor (call_sid, seq, state) VALUES (%s, 1, %s)
    ON CONFLICT (call_sid) DO UPDATE SET seq = bench_write_floor.seq + 1, state = excluded.state
    RETURNING seq"""


@twilio_webhook
def write_floor(request: HttpRequest) -> HttpResponse:
    form = request.POST
    state = {key: form.get(key) for key in ("From", "To", "CallStatus", "Digits")}
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [form["CallSid"], json.dumps(state)])
        cursor.fetchone()
    return xml_response(twiml.PING)


urlpatterns = [path("bench/write", write_floor), path("", include("callflow.urls"))]
