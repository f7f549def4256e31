"""The privacy rules by audience: masking formats and private-ticket redaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.domain.intake_location import Location
from bot.domain.models import Urgency
from bot.domain.privacy import Audience, mask_personal, redact_context
from bot.domain.tickets import Source, Ticket, TicketStatus
from bot.render import Renderer, mask_outside_tags


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("13812345678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("0086-138-1234-5678", "0086 138****5678"),
        ("010-62345678", "010-****5678"),
        ("023-61234567", "023-****4567"),
        ("(010)62345678", "(010)-****5678"),
        ("0571 8765 4321", "0571-****4321"),
        ("11010519491231002X", "110***********002X"),
        ("110105194912310021", "110***********0021"),
        ("6222021234567890123", "**** 0123"),
        ("6222 0212 3456 7890", "**** 7890"),
    ],
)
def test_every_common_format_is_masked(typed: str, shown: str) -> None:
    assert mask_personal(f"电话{typed}，谢谢") == f"电话{shown}，谢谢"


@pytest.mark.parametrize(
    "harmless",
    [
        "#12 已登记",
        "2026-12-05 13:59",
        "3栋2单元502",
        "G01 幸福里",
        "共 120 件",
        "认领时限 30分钟",
    ],
)
def test_ordinary_numbers_stay(harmless: str) -> None:
    assert mask_personal(harmless) == harmless


def test_links_inside_tags_are_left_alone() -> None:
    html = '<a href="tg://user?id=13812345678">张阿姨</a> 13812345678'
    assert mask_outside_tags(html) == '<a href="tg://user?id=13812345678">张阿姨</a> 138****5678'


def _ticket(private: bool) -> Ticket:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    return Ticket(
        id=7,
        grid_id=1,
        reporter_id=3001,
        chat_id=3001,
        message_id=1,
        text="我家502着火了 电话13812345678",
        category="safety",
        urgency=Urgency.EMERGENCY,
        location=Location(building="3", unit="2", room="502"),
        status=TicketStatus.OPEN,
        source=Source.PRIVATE,
        private=private,
        created_at=now,
        updated_at=now,
    )


def test_a_private_ticket_shows_only_its_building_in_public() -> None:
    context = {"ticket": _ticket(True), "tickets": [_ticket(True), _ticket(False)]}
    redacted = redact_context(context, "详情请私聊查看")
    assert redacted["ticket"].text == "详情请私聊查看"
    assert redacted["ticket"].location == Location(building="3")
    assert redacted["tickets"][0].text == "详情请私聊查看"
    assert redacted["tickets"][1] == _ticket(False)


def test_render_for_applies_the_rules_by_audience() -> None:
    renderer = Renderer("zh-CN")
    renderer.add_global("category_label", lambda code, locale: code)
    ticket = replace(_ticket(True), created_at=datetime(2026, 12, 5, tzinfo=UTC))
    for audience in Audience:
        text = renderer.render_for(audience, "ticket_status", "zh-CN", ticket=ticket)
        if audience.is_public:
            assert "详情请私聊查看" in text and "着火" not in text and "502" not in text
        else:
            assert "电话13812345678" in text and "502" in text
