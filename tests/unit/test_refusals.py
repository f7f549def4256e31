"""Refusals say why and what would work, in both locales, for every state and action."""

from __future__ import annotations

import pytest

from bot.domain.loop import Action
from bot.domain.tickets import TicketStatus
from bot.render import Renderer


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("status", [*(s.value for s in TicketStatus), "changed"])
@pytest.mark.parametrize("action", [a.value for a in Action])
def test_wrong_state_names_the_state_and_a_way_on(locale: str, status: str, action: str) -> None:
    text = Renderer(locale).render(
        "errors/wrong_state", locale, id=12, status=status, action=action
    )
    assert "#12" in text and "/" in text  # always a command that would help


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("zh-CN", "#12 已由 王网格长 认领，只有认领人或网格长可以办结。"),
        ("en", "#12 has been claimed by 王网格长; only they or a grid head can resolve it."),
    ],
)
def test_claimed_by_someone_else(locale: str, expected: str) -> None:
    text = Renderer(locale).render(
        "errors/claimed_by_other", locale, id=12, by="王网格长", action="resolve"
    )
    assert text == expected
