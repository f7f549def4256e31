"""Each message's own answer, recorded with its effect: what a re-delivered message gets.

Intake on a real SQLite file, through the services as the handlers call them. A message
handled before gets its answer again only while that answer has not been marked sent
(the bot was killed in between); once it has, nothing — exactly one answer per message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_services
from bot.config import config_from_mapping
from bot.domain.clock import FakeClock
from bot.domain.models import Grid, Person
from bot.domain.tickets import Source
from bot.services.container import Services
from bot.services.grids import ChatRef
from bot.services.tickets import IncomingReport, IntakeResult

STAFF = 9001
CHAT = -4_000_001
RESIDENT = Person(3001, "张阿姨")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    config = config_from_mapping(
        {
            "database": {"path": str(tmp_path / "answers.db")},
            "roles": {"staff": [STAFF]},
            "intake": {"max_tickets_per_hour": 1},
        }
    )
    built = await build_services(config, FakeClock())
    yield built
    await built.notices.close()
    await built.storage.close()


async def grid(services: Services) -> Grid:
    return (await services.grids.bind(STAFF, ChatRef(CHAT, "一群", "group"), "G01", "一网格")).grid


def report(grid: Grid, message_id: int, text: str, *, private: bool = False) -> IncomingReport:
    return IncomingReport(
        grid=grid,
        chat_id=RESIDENT.telegram_id if private else CHAT,
        message_id=message_id,
        sender=RESIDENT,
        text=text,
        source=Source.PRIVATE if private else Source.GROUP,
        private=private,
    )


async def test_an_acknowledgement_not_yet_sent_is_owed_again_then_never(
    services: Services,
) -> None:
    g = await grid(services)
    first = await services.tickets.intake(report(g, 10, "3栋电梯坏了"))
    assert first.result is IntakeResult.CREATED and first.ticket is not None
    again = await services.tickets.intake(report(g, 10, "3栋电梯坏了"))  # killed before the ack
    assert again.result is IntakeResult.CREATED and again.ticket == first.ticket
    await services.tickets.acknowledged(first.ticket.id, CHAT, 11, (CHAT, 10))
    done = await services.tickets.intake(report(g, 10, "3栋电梯坏了"))
    assert done.result is IntakeResult.ALREADY and done.acknowledged


async def test_the_rate_limit_notice_is_owed_once_and_the_silent_refusals_nothing(
    services: Services,
) -> None:
    g = await grid(services)
    await services.tickets.intake(report(g, 10, "3栋电梯坏了"))
    refused = await services.tickets.intake(report(g, 12, "5栋楼道灯坏了"))
    assert refused.result is IntakeResult.RATE_LIMITED and refused.tell_sender
    again = await services.tickets.intake(report(g, 12, "5栋楼道灯坏了"))
    assert again.result is IntakeResult.RATE_LIMITED  # its notice never went out: owed
    await services.tickets.answered(CHAT, 12, CHAT, 13)
    assert (
        await services.tickets.intake(report(g, 12, "5栋楼道灯坏了"))
    ).result is IntakeResult.ALREADY
    silent = await services.tickets.intake(report(g, 14, "7栋门口垃圾没人清"))
    assert silent.result is IntakeResult.RATE_LIMITED and not silent.tell_sender
    assert (
        await services.tickets.intake(report(g, 14, "7栋门口垃圾没人清"))
    ).result is IntakeResult.ALREADY  # told nothing the first time: nothing after a restart


async def test_a_private_report_s_reply_is_owed_until_sent(services: Services) -> None:
    g = await grid(services)
    first = await services.tickets.intake(report(g, 20, "我家楼上漏水了", private=True))
    assert first.result is IntakeResult.CREATED and first.ticket is not None
    again = await services.tickets.intake(report(g, 20, "我家楼上漏水了", private=True))
    assert again.result is IntakeResult.CREATED and again.ticket == first.ticket
    await services.tickets.acknowledged(
        first.ticket.id, RESIDENT.telegram_id, 21, (RESIDENT.telegram_id, 20)
    )
    assert (
        await services.tickets.intake(report(g, 20, "我家楼上漏水了", private=True))
    ).result is IntakeResult.ALREADY
