"""Notice texts render in jinja2's sandbox: only the data we pass, no Python objects."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.errors import UserError
from bot.domain.notices import GridHead, TargetGrid, template_context
from bot.notice_templates import NoticeTemplate, template_source

GRID = TargetGrid(
    id=1,
    code="G01",
    name="幸福里 <一> & 二",
    chat_id=-1,
    tags=("幸福社区",),
    heads=(GridHead("王网格长", "wang"), GridHead("李网格长")),
    open_tickets=3,
)
CONTEXT = template_context(GRID, date(2026, 11, 23))


def render(text: str) -> str:
    return NoticeTemplate(text).render(CONTEXT, grid="G01")


def refusal(text: str) -> UserError:
    with pytest.raises(UserError) as caught:
        render(text)
    return caught.value


def test_the_variables_render_escaped_for_html() -> None:
    text = (
        "{{ grid.code }} {{ grid.name }}：{{ heads|map(attribute='name')|join('、') }} "
        "@{{ heads[0].username }} {{ open_tickets }} {{ today }} {{ grid.tags|first }}"
    )
    assert render(text) == (
        "G01 幸福里 &lt;一&gt; &amp; 二：王网格长、李网格长 @wang 3 2026-11-23 幸福社区"
    )


def test_the_context_is_plain_data_only() -> None:
    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return isinstance(value, str | int) and not isinstance(value, bool)

    assert plain(CONTEXT)


def test_staff_formatting_stays_and_jinja_blocks_are_unescaped() -> None:
    # As PTB's text_html gives it: bold kept, `>` inside the block escaped by Telegram's HTML.
    text = (
        "<b>停水</b> {% if open_tickets &gt; 2 %}待办 {{ open_tickets }} 件 &lt;多&gt;{% endif %}"
    )
    assert template_source(text) == (
        "<b>停水</b> {% if open_tickets > 2 %}待办 {{ open_tickets }} 件 &lt;多&gt;{% endif %}"
    )
    assert render(text) == "<b>停水</b> 待办 3 件 &lt;多&gt;"


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ grid.__class__.__init__.__globals__ }}",
        "{{ heads[0].__class__ }}",
    ],
)
def test_python_internals_are_out_of_reach(text: str) -> None:
    error = refusal(text)
    assert error.code == "notice_template_error" and "unsafe" in error.context["detail"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{{ nope }}", "'nope' is undefined"),
        ("{{ grid.nope }}", "has no attribute 'nope'"),
        ("{{ range(10) }}", "cannot call"),  # no globals, and no calls at all
        ("{{ grid.items() }}", "cannot call"),
        ("{{ '{:>999999999}'.format(1) }}", "cannot call"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "cannot call"),
        ("{{ 'x' * 100000000 }}", "repetition longer than 1000"),
        ("{{ 9 ** 99999999 }}", "exponent larger than 64"),
        ("{{ heads[5].name }}", "no element 5"),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{% include 'x.html' %}", "no loader"),
        ("   ", "empty text"),
    ],
)
def test_unknown_names_calls_and_huge_values_are_refused(text: str, detail: str) -> None:
    error = refusal(text)
    assert error.code == "notice_template_error" and detail in error.context["detail"]
    assert error.context["grid"] == "G01"


@pytest.mark.parametrize(
    "text",
    [
        "{{ grid.name|safe }}",
        "{{ 'x'|center(999999999) }}",
        "{{ 'x'|format(1) }}",
        "{% if %}",
        "{{ grid.name ",
    ],
)
def test_unsafe_filters_and_bad_syntax_fail_to_compile(text: str) -> None:
    with pytest.raises(UserError) as caught:
        NoticeTemplate(text)
    assert caught.value.code == "notice_template_syntax" and caught.value.context["line"] == 1


def test_a_notice_longer_than_telegram_allows_is_refused() -> None:
    error = refusal("{{ grid.code }}" + "字" * 4095)
    assert error.code == "notice_too_long" and error.context["length"] == 4098
