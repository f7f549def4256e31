"""Issue #7: hostile input to the pure parsers. Whatever people type, each one either
answers or raises only its own user-facing error — never a crash — and notice templates
never reach Python's insides."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import UserError
from bot.domain.intake import IntakeParser
from bot.domain.notices import GridHead, TargetGrid, template_context
from bot.domain.schedule import ScheduleError, parse_duration, parse_targets, parse_when
from bot.notice_templates import NoticeTemplate
from handlers.resident import parse_ticket_id

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
PARSER = IntakeParser()
GRID = TargetGrid(
    id=1,
    code="G01",
    name="幸福里",
    chat_id=-1,
    tags=("幸福社区",),
    heads=(GridHead("王网格长", "wang"),),
    open_tickets=3,
)
CONTEXT = template_context(GRID, date(2026, 11, 23))

# Whatever a phone keyboard, a paste or a malicious client can produce: every code point
# (lone surrogates aside), and the awkward ones more often.
AWKWARD = [
    "\u200d",
    "\u200b",
    "\u202e",
    "\u200f",
    "\ufeff",
    "\x00",
    "\x1b",
    "\r",
    "\t",
    "\u3000",
    "＃",
    "０",
    "１",
    "２",
    "/",
    "#",
    "<b>",
    "&amp;",
    "</a>",
    "栋",
    "单元",
    "楼",
    "室",
    "点",
    "每周一",
    "至",
    "cron ",
    "tag:",
    "all",
    "{{",
    "}}",
    "{%",
    "%}",
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300) | st.lists(
    st.sampled_from(AWKWARD) | st.text(max_size=5), max_size=40
).map("".join)


@FAST
@given(TEXT)
def test_the_intake_parser_never_raises(text: str) -> None:
    intake = PARSER.parse(text)
    assert intake is not None


@FAST
@given(TEXT)
def test_ticket_ids_parse_or_ask_politely(text: str) -> None:
    try:
        ticket_id = parse_ticket_id(text)
    except UserError as error:
        assert error.code == "bad_ticket_id" and len(error.context["given"]) <= 20
    else:
        assert 0 <= ticket_id < 10**12


@FAST
@given(TEXT)
def test_schedules_targets_and_durations_raise_only_schedule_errors(text: str) -> None:
    for parse in (
        lambda: parse_when(text, now=NOW, tz=TZ),
        lambda: parse_targets(text),
        lambda: parse_duration(text),
    ):
        try:
            parse()
        except ScheduleError:
            pass


JINJA_BITS = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    " ",
    "grid",
    ".",
    "name",
    "code",
    "heads",
    "[0]",
    "|",
    "join",
    "map(attribute='name')",
    "(",
    ")",
    "'",
    '"',
    "*",
    "**",
    "9",
    "-",
    "/",
    "~",
    "if",
    "for",
    "in",
    "endfor",
    "endif",
    "set",
    "x",
    "=",
    "open_tickets",
    "today",
    "__class__",
    "loop",
    "&lt;",
    "&amp;",
    "<b>",
    "</b>",
    "\n",
    "字",
]
TEMPLATES = st.lists(st.sampled_from(JINJA_BITS), max_size=25).map("".join) | TEXT


@FAST
@given(TEMPLATES)
def test_notice_templates_raise_only_the_user_facing_error(text: str) -> None:
    try:
        rendered = NoticeTemplate(text).render(CONTEXT, grid="G01")
    except UserError as error:
        assert error.code in (
            "notice_template_syntax",
            "notice_template_error",
            "notice_too_long",
            "notice_template_html",
        )
    else:
        assert "<class" not in rendered and "function" not in rendered


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os }}",
        "{{ namespace }}",
        "{{ lipsum }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ range }}",
        "{{ config }}",
        "{{ self }}",
        "{{ self._TemplateReference__context }}",
        "{{ self.__dict__ }}",
        "{% import os %}",
        "{% import 'os' as os %}{{ os }}",
        "{% from 'os' import system %}",
        "{% extends 'base.html' %}",
        "{% include '/etc/passwd' %}",
        "{{ grid['__class__'] }}",
        "{{ grid.__class__ }}",
        "{{ grid|attr('__class__') }}",
        "{{ heads|map(attribute='__class__')|list }}",
        "{{ heads|map(attribute='__init__.__globals__')|first }}",
        "{{ heads|selectattr('__class__')|list }}",
        "{{ heads|sort(attribute='__class__.__name__')|first }}",
        "{{ heads[0]['__class__'] }}",
        "{{ heads[0]|attr('_asdict') }}",
        "{{ grid.items }}",
        "{{ grid.update({'code': 'X'}) }}",
        "{% set x = grid.__class__ %}{{ x }}",
        "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ (1).__class__ }}",
        "{{ today.__class__ }}",
        "{{ today.replace }}",
        "{{ heads.__getitem__(0) }}",
        "{{ '%s'|format(grid) }}",
        "{{ ''|safe }}",
        "{{ grid.name|e|safe }}",
        "{% raw %}{{ ''.__class__ }}{% endraw %}{{ ''.__class__ }}",
        "{{ 'a'.__add__ }}",
        "{{ loop }}",
        "{{ caller }}",
        "{{ varargs }}",
        "{{ kwargs }}",
    ],
)
def test_sandbox_escapes_are_refused(text: str) -> None:
    with pytest.raises(UserError) as caught:
        NoticeTemplate(text).render(CONTEXT, grid="G01")
    assert caught.value.code in ("notice_template_syntax", "notice_template_error")


def test_numbers_are_ascii_or_full_width_digits_only() -> None:
    from bot.domain.text import whole_number

    assert whole_number("#12") == 12 and whole_number("＃１２") == 12
    assert whole_number("²") is None and whole_number("١٢") is None  # isdigit() says yes
    assert whole_number("1" * 13) is None and whole_number("") is None
