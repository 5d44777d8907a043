"""Studio's Liquid in imported texts: every variable and filter real flows use, and the tags,
as callflow templates that render what Studio would have said."""

import pytest

from flows.nodes.templating import render_template
from flows.spec.studio import convert_studio
from tests.flows.test_studio import export, node_of, widget

#: widgets of every kind whose variables a text can read (named as in the expressions below)
SOURCES = [
    widget("menu", "gather-input-on-call", {"say": "?"}),
    widget("ask", "send-and-wait-for-reply", {"body": "?"}),
    widget("crm", "make-http-request", {"url": "https://crm.example.com"}),
    widget("fn", "run-function", {"url": "https://x-1234.twil.io/f"}),
    widget("vm", "record-voicemail", {}),
    widget("desk", "connect-call-to", {"noun": "number", "to": "+442079460599"}),
    widget("queue", "enqueue-call", {"queue_name": "sales"}),
    widget("flex", "send-to-flex", {"workflow": "WW1"}),
    widget("out", "make-outgoing-call-v2", {"to": "{{contact.channel.address}}"}),
]
CONTEXT = {
    "caller": {"number": "+447700900123"},
    "call": {"sid": "CA1", "to": "+442079460500", "from": "+447700900123", "answered_by": "human"},
    "vars": {
        "name": "ada lovelace",
        "tier": "gold",
        "items": "a,b,c",
        "count": "4",
        "when": "2026-12-03",
    },
    "customer": {},
    "nodes": {
        "menu": {"digits": "42", "speech": "Sales please"},
        "ask": {"value": "  Yes  "},
        "crm": {
            "response": {"name": "Ada", "orders": [{"id": "A1"}, {"id": "B2"}, {"id": "C3"}]},
            "status": 200,
        },
        "fn": {"response": {"ok": True}, "status": 201},
        "vm": {"recording_url": "https://api.twilio.com/RE1", "duration": "12"},
        "desk": {"dial_status": "busy"},
        "queue": {"queue_result": "hangup"},
        "flex": {"queue_result": "bridged"},
    },
}

CASES = [
    # variables
    ("{{widgets.menu.Digits}}", "42"),
    ("{{widgets.menu.SpeechResult}}", "Sales please"),
    ("{{widgets.ask.inbound.Body}}", "  Yes  "),
    ("{{widgets.crm.parsed.name}}", "Ada"),
    ("{{widgets.crm.parsed.orders[1].id}}", "B2"),
    ("{{widgets.crm.status_code}}", "200"),
    ("{{widgets.fn.parsed.ok}}", "True"),
    (
        "{{widgets.vm.RecordingUrl}} {{widgets.vm.RecordingDuration}}",
        "https://api.twilio.com/RE1 12",
    ),
    ("{{widgets.desk.DialCallStatus}}", "busy"),
    ("{{widgets.queue.QueueResult}} {{widgets.flex.QueueResult}}", "hangup bridged"),
    ("{{widgets.out.AnsweredBy}}", "human"),
    (
        "{{flow.variables.tier}} {{flow.data.name}} {{trigger.request.parameters.count}}",
        "gold ada lovelace 4",
    ),
    (
        "{{trigger.call.From}} {{trigger.call.To}} {{trigger.call.CallSid}}",
        "+447700900123 +442079460500 CA1",
    ),
    (
        "{{trigger.message.From}} {{contact.channel.address}} {{flow.channel.address}}",
        "+447700900123 +447700900123 +442079460500",
    ),
    ("{{ flow.variables.tier }}", "gold"),
    # filters
    ("{{flow.variables.name | upcase}}", "ADA LOVELACE"),
    ("{{widgets.menu.SpeechResult | downcase}}", "sales please"),
    ("{{flow.variables.name | capitalize}}", "Ada lovelace"),
    ("{{flow.variables.missing | default: 'friend'}}", "friend"),
    ("{{flow.variables.missing | default: flow.variables.tier}}", "gold"),
    ("{{widgets.menu.Digits | size}} {{widgets.crm.parsed.orders | size}}", "2 3"),
    ("{{flow.variables.items | split: ',' | last}}", "c"),
    ("{{flow.variables.items | split: ',' | join: ' and '}}", "a and b and c"),
    ("{{flow.variables.name | replace: 'ada', 'Lady Ada'}}", "Lady Ada lovelace"),
    ("[{{widgets.ask.inbound.Body | strip}}]", "[Yes]"),
    ("[{{widgets.ask.inbound.Body | lstrip}}]", "[Yes  ]"),
    ("{{flow.variables.when | date: '%d %B %Y'}}", "03 December 2026"),
    ("{{flow.variables.tier | append: ' member'}}", "gold member"),
    ("{{flow.variables.tier | prepend: 'a '}}", "a gold"),
    ("{{flow.variables.name | truncate: 8}}", "ada l..."),
    (
        "{{flow.variables.count | plus: 1}} {{flow.variables.count | minus: 1}} {{flow.variables.count | times: 2}} {{flow.variables.count | divided_by: 3}}",
        "5 3 8 1",
    ),
    ("{{flow.variables.name | remove: 'a'}}", "d lovelce"),
    ("{{widgets.crm.parsed.orders | map: 'id' | join: ', '}}", "A1, B2, C3"),
    ("{{trigger.call.From | url_encode}}", "%2B447700900123"),
    ("{{widgets.menu.Digits | plus: 0.5 | round}}", "42"),
    # tags
    ("{% if widgets.menu.Digits == '42' %}yes{% else %}no{% endif %}", "yes"),
    (
        "{% if flow.variables.tier == 'silver' %}s{% elsif flow.variables.tier == 'gold' %}g{% endif %}",
        "g",
    ),
    ("{% unless flow.variables.missing %}none{% endunless %}", "none"),
    ("{% if widgets.menu.SpeechResult contains 'Sales' %}sales{% endif %}", "sales"),
    ("{% if flow.variables.count > 3 and flow.variables.tier != blank %}many{% endif %}", "many"),
    (
        "{% if flow.variables.missing == nil %}nil{% endif %}{% if flow.variables.tier == empty %}x{% endif %}",
        "nil",
    ),
    (
        "{% case flow.variables.tier %}{% when 'silver' %}S{% when 'gold', 'platinum' %}G{% else %}?{% endcase %}",
        "G",
    ),
    ("{% assign who = flow.variables.name | upcase %}Hi {{who}}", "Hi ADA LOVELACE"),
    ("{% capture line %}{{flow.variables.tier}}!{% endcapture %}{{line}}{{line}}", "gold!gold!"),
    (
        "{% for o in widgets.crm.parsed.orders limit:2 %}{{forloop.index}}={{o.id}} {% endfor %}",
        "1=A1 2=B2 ",
    ),
    ("{% for o in widgets.crm.parsed.orders offset:1 %}{{o.id}}{% endfor %}", "B2C3"),
    ("a{% comment %}{{ secret }}{% endcomment %}b", "ab"),
    ("{% raw %}{{ kept }}{% endraw %}", "{{ kept }}"),
    ("{{- flow.variables.tier -}} !", "gold!"),
]


def converted(text: str):
    data = export(widget("say", "say-play", {"say": text}), *SOURCES)
    return convert_studio(data, source_name="liquid.json")


@pytest.mark.parametrize(("liquid", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_liquid_renders_as_in_studio(liquid, expected):
    result = converted(liquid)
    template = node_of(result, "say")["config"]["text"]
    assert render_template(template, CONTEXT) == expected, template
    assert not any(n.startswith("widget 'say'") for n in result.notes), result.notes


@pytest.mark.parametrize(
    ("liquid", "template", "note"),
    [
        (
            "Hi {{flow.variables.name | truncatewords: 2}}",
            "Hi {{ vars.name }}",
            "the Liquid filter 'truncatewords' has no callflow equivalent and was left out.",
        ),
        (
            "From {{trigger.call.FromCity}}.",
            "From {{ trigger.call.FromCity }}.",
            "{{trigger.call.FromCity}} has no callflow equivalent and was kept as written",
        ),
        (
            "A{% cycle 'x', 'y' %}B",
            "AB",
            "{% cycle 'x', 'y' %} was left out: the Liquid tag 'cycle' has no callflow equivalent.",
        ),
        (
            "{% if flow.variables.a %}unclosed",
            "unclosed",
            "its Liquid tags do not pair up",
        ),
        (
            "{{ 'a' | }}",
            "",
            "{{ 'a' | }} was left out: a filter without a name.",
        ),
    ],
)
def test_liquid_without_an_equivalent_is_noted(liquid, template, note):
    result = converted(liquid)
    assert node_of(result, "say")["config"]["text"] == template
    notes = [n for n in result.notes if n.startswith("widget 'say' (say-play): ")]
    assert any(note in n for n in notes), notes
    render_template(template, CONTEXT)  # renders, never fails


def test_the_date_filter_reads_now_and_unix_times_and_hands_back_anything_else():
    assert render_template('{{ 0 | date("%Y-%m-%d %H:%M") }}', {}) == "1970-01-01 00:00"
    assert len(render_template('{{ "now" | date("%H:%M") }}', {})) == 5
    assert render_template('{{ "soon" | date("%Y") }}', {}) == "soon"
    with pytest.raises(Exception, match="no widths"):
        render_template('{{ "now" | date("%10000Y") }}', {})
