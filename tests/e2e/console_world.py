"""A bot with the staff console on, two grids, and people logged in over HTTP (httpx)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bot.domain.clock import Clock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, OTHER_HEAD, RESIDENT, STAFF, WORKER, bound_grid

LINK = re.compile(r"https?://\S+/login\?t=[\w-]+")


async def console_bot(tmp_path: Path, clock: Clock | None) -> OfflineBot:
    bot = OfflineBot(
        tmp_path / "gridbot.db",
        staff=(STAFF,),
        clock=clock,
        settings={"web": {"enabled": True, "port": 0}},
    )
    await bot.start()
    bot.person(STAFF, "街道小李", username="xiaoli")
    bot.person(HEAD, "王网格长", username="wang_head")
    bot.person(WORKER, "赵网格员")
    bot.person(RESIDENT, "张阿姨", username="zhang_ayi")
    bot.person(NEIGHBOUR, "刘大爷")
    bot.person(OTHER_HEAD, "陈网格长", username="chen_head", language_code="en")
    return bot


async def two_grids(bot: OfflineBot) -> tuple[int, int]:
    """G01 with 王网格长 as head, G02 with 陈网格长."""
    first = await bound_grid(bot)
    second = await bound_grid(bot, "G02", "幸福里第二网格", head=OTHER_HEAD)
    return first, second


async def login_link(bot: OfflineBot, who: int) -> str:
    """What /console sends privately: the one-time link."""
    exchange = await bot.says_privately(who, "/console")
    found = LINK.search(exchange.text_in(who))
    assert found, exchange.texts
    return found.group(0)


def console_url(bot: OfflineBot) -> str:
    return str(bot.runtime.console.base_url)


@asynccontextmanager
async def logged_in(bot: OfflineBot, who: int) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that followed the /console link `who` received."""
    async with httpx.AsyncClient(base_url=console_url(bot), follow_redirects=True) as client:
        response = await client.get(await login_link(bot, who))
        assert response.status_code == 200, response.text
        yield client


def xsrf(client: httpx.AsyncClient) -> str:
    return str(client.cookies["_xsrf"])
