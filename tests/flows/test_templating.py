"""The template sandbox: what templates render, and every way to make one hang or grow refused.

Each attack must fail with TemplateFailure quickly (the webhook that renders it has a caller
waiting) and leave the session as it was.
"""

import copy
import time
from datetime import UTC, datetime

import pytest

from flows.nodes import templating
from flows.nodes.runtime import CallInfo, FlowSettings, Run
from flows.nodes.templating import TemplateFailure, parse, render_template, turn_allowance

#: seconds an attack may take before it is refused: the render limit is 0.25 s, and a
#: loaded machine notices it a step or two late (a sort of 10,000 items is one step)
FAST = 1.0


def session() -> dict:
    return {
        "caller": {"number": "+447700900123"},
        "call": {"sid": "CA1", "to": "+442079460102", "from": "+447700900123"},
        "vars": {"crm": {"tier": "gold", "name": "Ada"}, "orders": [3, 1, 2], "name": "Ada"},
        "customer": {"name": "Ada Lovelace", "account": "12345678"},
        "nodes": {"menu": {"digits": "1", "speech": ""}},
    }


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Thanks for calling.", "Thanks for calling."),
        (
            "Hello {{ customer.name }}, you are {{ vars.crm.tier }}.",
            "Hello Ada Lovelace, you are gold.",
        ),
        ("{{ nodes.lookup.response.balance }}|{{ nope.deeper }}|", "||"),
        ("{% if vars.crm.tier == 'gold' %}Gold{% else %}Hi{% endif %}", "Gold"),
        (
            "{% for o in vars.orders|sort %}{{ o }}{% if not loop.last %}, {% endif %}{% endfor %}",
            "1, 2, 3",
        ),
        ("{{ vars.orders|join('-') }} {{ vars.orders|sum }} {{ vars.orders|length }}", "3-1-2 6 3"),
        ("{{ customer.name|upper|replace('ADA', 'A.') }}", "A. LOVELACE"),
        ("{{ '%05.1f'|format(3.14159) }} {{ '%s-%s' % ('a', 'b') }}", "003.1 a-b"),
        ("{{ '{:>6}|{:.2f}'.format('ab', 2) }}", "    ab|2.00"),
        ("{{ 'ab'|center(6) }}|{{ customer.account[-4:] }}", "  ab  |5678"),
        ("{{ caller.number ~ '/' ~ call.to }}", "+447700900123/+442079460102"),
        ("{{ 2 ** 10 }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 7 // 2 }}", "1024 ababab [1, 2] 3"),
        ("{% set n = vars.name %}{{ n }}{% set x %}[{{ n }}]{% endset %}{{ x }}", "Ada[Ada]"),
        ("{% macro hi(who) %}Hi {{ who }}{% endmacro %}{{ hi(customer.name) }}", "Hi Ada Lovelace"),
        ("{% for i in range(3) %}{{ i }}{% endfor %}", "012"),
        ("{{ vars.crm|dictsort|map('last')|join(',') }}", "Ada,gold"),
        (
            "{{ 'a  b'|wordwrap(1) }}|{{ 'x'|indent(2, true) }}|{{ [1, 2, 3]|batch(2)|list }}",
            "a\nb|  x|[[1, 2], [3]]",
        ),
        ("{{ vars.crm|tojson }}", '{"name": "Ada", "tier": "gold"}'),
        ("{{ '<b>'|safe }}{{ '<i>'|e }}", "<b>&lt;i&gt;"),
        ("{{ none }}|{{ 1 / 4 }}", "None|0.25"),
    ],
)
def test_ordinary_templates_render(source, expected):
    assert render_template(source, session()) == expected


LOOP = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
DOUBLING_MACRO = (
    "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}"
    "{% endmacro %}{{ d('x', 40) }}"
)

ATTACKS = {
    # arithmetic
    "tower of powers": "{{ 10 ** 100 ** 100 ** 100 ** 16 }}",
    "huge power": "{{ 9 ** (9 ** 10) }}",
    "repeated squaring": "{% set x = 10 ** 1000 %}{{ x * x * x * x * x }}",
    "parsed then multiplied": "{{ ('9' * 4000)|int * ('9' * 4000)|int }}",
    # loops and recursion
    "nested range(100000) loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested loops under the range limit": LOOP,
    "one range looped in a loop": "{% set r = range(10000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
    "busy loop body": "{% for i in range(10000) %}{% for j in range(10000) %}{% if 1 + 1 == 2 %}{% endif %}{% endfor %}{% endfor %}",
    "slow comparisons": "{% set l = range(10000)|list %}{% for i in l %}{% if i in l %}{% endif %}{% endfor %}",
    "sorting in a loop": "{% set l = range(10000)|list %}{% for i in range(10000) %}{{ (l|sort|first) and '' }}{% endfor %}",
    "exponential macro": "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "endless macro": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "recursive loop": "{% for i in range(10) recursive %}{{ loop(range(10)) }}{% endfor %}",
    # growing strings and lists
    "namespace doubling": "{% set ns = namespace(s='x') %}{% for i in range(23) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "~ doubling": DOUBLING_MACRO,
    "+ doubling": DOUBLING_MACRO.replace("s ~ s", "s + s"),
    "string times": "{{ 'x' * 100000000 }}",
    "list times": "{{ ([1] * 100000000)|length }}",
    "replace filter": "{{ ('x' * 9000)|replace('x', 'x' * 9000)|length }}",
    "replace method": "{{ ('x' * 9000).replace('x', 'x' * 9000)|length }}",
    "replace on safe text": "{{ (('x' * 9000)|safe).replace('x', 'x' * 9000)|length }}",
    "center filter": "{{ 'x'|center(100000000) }}",
    "center method": "{{ 'x'.center(100000000) }}",
    "ljust": "{{ 'x'.ljust(100000000)|length }}",
    "zfill": "{{ '1'.zfill(100000000)|length }}",
    "expandtabs": "{{ ('\t' * 9000).expandtabs(9000)|length }}",
    "translate": "{{ 'xxxx'.translate({120: 'y' * 9000}) }}",
    "format filter width": "{{ '%099999999d'|format(1) }}",
    "format filter star": "{{ '%*d'|format(99999999, 1) }}",
    "percent width": "{{ '%099999999d' % 1 }}",
    "str.format width": "{{ '{:>99999999}'.format(1) }}",
    "str.format nested width": "{{ '{:>{}}'.format(1, 99999999) }}",
    "join filter": "{% set l = ['x' * 9000] * 1000 %}{{ l|join|length }}",
    "join method": "{% set l = ['x' * 9000] * 1000 %}{{ ''.join(l)|length }}",
    "batch fill": "{{ [1]|batch(100000000, 0)|list|length }}",
    "slice": "{{ [1]|slice(100000000)|list|length }}",
    "indent": "{{ ('x\n' * 5000)|indent(1000)|length }}",
    "wordwrap": "{{ ('x ' * 4000)|wordwrap(1, wrapstring='y' * 9000)|length }}",
    "sum of lists": "{% set l = [[1] * 10000] * 10000 %}{{ l|sum(start=[])|length }}",
    "tojson indent": "{{ vars|tojson(indent=100000) }}",
    "map to a wide center": "{{ ['x']|map('center', 99999999)|list }}",
    "block set": "{% set x %}{% for i in range(10000) %}{{ 'y' * 9000 }}{% endfor %}{% endset %}{{ x|length }}",
    "literal text in a loop": "{% set x %}{% for i in range(10000) %}"
    + "z" * 3000
    + "{% endfor %}{% endset %}{{ x|length }}",
    "huge output": "{% for i in range(10000) %}{{ 'y' * 9000 }}{% endfor %}",
    "lipsum": "{{ lipsum(100000) }}",
    "deep nesting": "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    # changing the session, reaching outside it
    "vars.update": "{{ vars.update({'name': 'Mallory'}) }}",
    "dict setdefault": "{{ vars.crm.setdefault('tier', 'x') }}{{ vars.crm.pop('tier') }}",
    "list.append": "{{ vars.orders.append(4) }}",
    "list.sort": "{{ vars.orders.sort() }}",
    "attribute assignment": "{% set vars.name = 'Mallory' %}",
    "include": "{% include 'secrets.txt' %}",
    "import": "{% import 'macros' as m %}",
}


@pytest.mark.parametrize("source", ATTACKS.values(), ids=ATTACKS.keys())
def test_attacks_are_refused_quickly_and_change_nothing(source):
    context = session()
    before = copy.deepcopy(context)
    started = time.perf_counter()
    with pytest.raises(TemplateFailure):
        render_template(source, context)
    assert time.perf_counter() - started < FAST
    assert context == before


def test_the_tower_of_powers_is_refused_at_once_and_nothing_runs_while_compiling():
    # Compiling evaluates nothing (Jinja's constant folding would run outside the bounds).
    started = time.perf_counter()
    template = templating._env.from_string(
        "{{ 'x'|center(100000000) }}{{ 10 ** 100 ** 100 ** 100 ** 16 }}"
    )
    assert time.perf_counter() - started < FAST
    with pytest.raises(Exception, match="render_template"):
        template.render({})  # outside render_template nothing is evaluated at all


def test_unsafe_attributes_render_as_nothing():
    assert render_template("{{ ''.__class__.__mro__ }}{{ vars.update }}", session()) == ""


def test_run_render_leaves_the_session_alone():
    run = Run(
        call=CallInfo(sid="CA1", caller="+447700900123", to="+442079460102"),
        now=datetime(2026, 1, 1, tzinfo=UTC),
        flow=FlowSettings(),
        seq=0,
        vars={"name": "Ada", "orders": [1]},
        nodes={"menu": {"digits": "1"}},
        customer={"name": "Ada"},
        scratch={},
        attempts={},
    )
    for source in (
        "{{ vars.update({'name': 'Mallory'}) }}",
        "{{ vars.orders.append(2) }}",
        "{{ nodes.clear() }}",
    ):
        with pytest.raises(TemplateFailure):
            run.render(source)
    assert run.vars == {"name": "Ada", "orders": [1]}
    assert run.nodes == {"menu": {"digits": "1"}}
    assert run.render("{{ vars.name }}") == "Ada"


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("{{ caller.number", 1),
        ("Hello\n\n{{ caller.number }\n", 3),
        ("{% for i in x recursive %}{% endfor %}", 1),
    ],
)
def test_a_template_that_cannot_be_read_fails_with_its_line(source, line):
    with pytest.raises(TemplateFailure) as failure:
        render_template(source, session())
    assert failure.value.lineno == line
    with pytest.raises(TemplateFailure) as failure:
        parse(source)
    assert failure.value.lineno == line


def test_renders_in_one_turn_share_an_allowance():
    slow = "{% for i in range(9000) %}{% endfor %}"  # 9000 steps: fine alone
    assert render_template(slow, session()) == ""
    with turn_allowance(0.0):
        # a few steps and small values: no check of the time, so a fallback's text still renders
        assert render_template("Hi {{ vars.name ~ '!' }}", session()) == "Hi Ada!"
        with pytest.raises(TemplateFailure, match="too long"):
            render_template(slow, session())
    assert render_template(slow, session()) == ""


def test_ordinary_templates_stay_fast():
    source = "{% if vars.crm.tier == 'gold' %}Gold {{ customer.name|upper }}{% endif %} {{ nodes.menu.digits }}"
    render_template(source, session())
    best = min(_timed(source) for _ in range(5))
    assert best < 0.2e-3, f"{best * 1e6:.0f} us per render"


def _timed(source: str, n: int = 200) -> float:
    context = session()
    started = time.perf_counter()
    for _ in range(n):
        render_template(source, context)
    return (time.perf_counter() - started) / n


# --- URLs ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "https://crm.example.com/c?phone={{ caller.number }}&name={{ customer.name }}",
            "https://crm.example.com/c?phone=%2B447700900123&name=Ada%20Lovelace",
        ),
        (
            "https://x.example/a/{{ vars.path }}/b?q=1+2",
            "https://x.example/a/..%2F..%2Fadmin%3Fx%3D1%26y%3D%23/b?q=1+2",
        ),
        (
            "https://x.example/{% if vars.crm.tier %}{{ vars.crm.tier }}{% endif %}",
            "https://x.example/gold",
        ),
        (
            "https://x.example/?n={{ caller.number|replace('+', '00') }}",
            "https://x.example/?n=00447700900123",
        ),
        # a value that starts the URL stands for its base and is kept as it is
        (
            "{{ vars.base }}/c?phone={{ caller.number }}",
            "https://api.example.com/v1/c?phone=%2B447700900123",
        ),
        ("https://x.example/?q={{ nothing }}", "https://x.example/?q="),
    ],
)
def test_url_values_are_url_encoded_and_the_literal_text_is_not(source, expected):
    context = session()
    context["vars"].update(path="../../admin?x=1&y=#", base="https://api.example.com/v1")
    assert render_template(source, context, url=True) == expected


def test_plain_rendering_of_the_same_text_is_not_encoded():
    source = "https://x.example/?p={{ caller.number }}"
    assert render_template(source, session(), url=True) == "https://x.example/?p=%2B447700900123"
    assert render_template(source, session()) == "https://x.example/?p=+447700900123"
