"""End-to-end fixtures: the real Application over HTTP against the local emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot

STAFF = 9001  # 街道小李, listed in [roles] staff
HEAD = 2001  # 王网格长
WORKER = 2002  # 赵网格员
RESIDENT = 3001  # 张阿姨
NEIGHBOUR = 3002  # 刘大爷
OTHER_HEAD = 2101  # head of another grid


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def bot(database: dict[str, str], clock: FakeClock) -> AsyncIterator[OfflineBot]:
    """The bot on a fresh database: SQLite, and PostgreSQL too in modules marked both_backends."""
    offline = OfflineBot(database, staff=(STAFF,), clock=clock)
    await offline.start()
    offline.person(STAFF, "街道小李", username="xiaoli")
    offline.person(HEAD, "王网格长", username="wang_head")
    offline.person(WORKER, "赵网格员")
    offline.person(RESIDENT, "张阿姨", username="zhang_ayi")
    offline.person(NEIGHBOUR, "刘大爷")
    offline.person(OTHER_HEAD, "陈网格长", username="chen_head", language_code="en")
    try:
        yield offline
    finally:
        await offline.stop()


async def bound_grid(
    bot: OfflineBot, code: str = "G01", name: str = "幸福里第一网格", *, head: int | None = HEAD
) -> int:
    """A group chat bound to a grid by staff, optionally with a head appointed."""
    chat = await bot.group(f"{name}群", added_by=STAFF)
    exchange = await bot.says(chat, STAFF, f"/bind {code} {name}")
    assert "已绑定" in exchange.text_in(chat)
    if head is not None:
        await bot.says(chat, head, "大家好，我是网格长")
        exchange = await bot.says(chat, STAFF, "/head", reply_to=bot.last_message_id(chat))
        assert "网格长" in exchange.text_in(chat)
    return chat
