"""The staff console in a real headless Chromium, against the real bot and the emulator."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.console_auth import sign_init_data
from bot.offline import TOKEN, OfflineBot
from tests.browser.conftest import Browser
from tests.e2e.conftest import HEAD, OTHER_HEAD, RESIDENT, STAFF
from tests.e2e.console_world import console_bot, console_url, login_link, two_grids


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[OfflineBot]:
    # The system clock: the browser, the bot and the timers live in the same real time.
    offline = await console_bot(tmp_path, None)
    try:
        yield offline
    finally:
        await offline.stop()


def group_texts(bot: OfflineBot, chat: int, mark: int) -> list[str]:
    """What the group saw since `mark`, with ticket numbers made alike."""
    return [
        re.sub(r"#\d+", "#N", m["text"])
        for m in bot.emulator.bot_messages_since(mark)
        if m["chat"]["id"] == chat
    ]


async def test_log_in_filter_claim_and_resolve_like_the_chat(
    bot: OfflineBot, browser: Browser
) -> None:
    chat, _other = await two_grids(bot)
    await bot.says(chat, RESIDENT, "3栋楼道灯坏了好几天了")
    await bot.says(chat, RESIDENT, "小区门口垃圾堆了三天没人清理")
    await bot.says(chat, RESIDENT, "5栋楼道灯也坏了")
    await browser.open(await login_link(bot, HEAD))
    await browser.wait_for_text("h1", "各网格情况")
    assert "G01" in await browser.text("table")
    await browser.screenshot("overview")

    # Filter: the lamp category only.
    await browser.open(console_url(bot) + "tickets")
    lamp = await bot.runtime.services.loop.ticket(1)
    assert lamp is not None
    await browser.choose("select[name=category]", lamp.category)
    await browser.click(".filters button[type=submit]")
    await browser.wait_for_text("#ticket-count", "共 2 件")
    assert await browser.texts("tbody th a") == ["#3", "#1"]
    await browser.type("input[name=q]", "3栋")
    await browser.click(".filters button[type=submit]")
    await browser.wait_for_text("#ticket-count", "共 1 件")
    await browser.screenshot("tickets-filtered")

    # Claim and resolve #1 in the console …
    await browser.click("tbody th a")
    await browser.wait_for_text("h1", "工单 #1")
    mark = bot.emulator.mark()
    await browser.click("#do-claim")
    await browser.wait_for_text("#action-done", "#1 已认领")
    await browser.type("#resolve-text", "已更换灯泡")
    await browser.click("#do-resolve")
    await browser.wait_for_text("#action-done", "已办结，等待居民确认")
    await bot.settle()
    from_console = group_texts(bot, chat, mark)
    timeline = await browser.text(".timeline")
    assert "认领" in timeline and "已更换灯泡" in timeline
    await browser.screenshot("ticket")

    # … and #3 from the chat: the group hears the same, less the commands' own replies.
    mark = bot.emulator.mark()
    await bot.says(chat, HEAD, "/claim 3")
    await bot.says(chat, HEAD, "/close 3 已更换灯泡")
    from_chat = [text for text in group_texts(bot, chat, mark) if not text.startswith("✅")]
    assert from_console == from_chat
    assert len(from_console) == 2 and "已更换灯泡" in from_console[1]


async def test_a_head_cannot_open_another_grids_ticket_by_url(
    bot: OfflineBot, browser: Browser
) -> None:
    chat, other = await two_grids(bot)
    await bot.says(other, RESIDENT, "5栋门口垃圾没人清理")
    await browser.open(await login_link(bot, HEAD))
    await browser.wait_for_text("h1", "各网格情况")
    await browser.open(console_url(bot) + "tickets/1")
    await browser.wait_for_text("h1", "出错了")
    body = await browser.text()
    assert "垃圾" not in body and "#1" in body
    await browser.screenshot("not-your-grid")
    await browser.open(console_url(bot) + "tickets")
    assert "5栋" not in await browser.text()
    assert chat != other


async def test_the_overview_updates_live_when_a_resident_reports(
    bot: OfflineBot, browser: Browser
) -> None:
    chat, _other = await two_grids(bot)
    await browser.open(await login_link(bot, STAFF))
    await browser.wait_for_text("tr[data-grid=G01] .open-count", "0")
    # A mark on the page: still there afterwards means the page was never reloaded.
    await browser.script("window.stillTheSamePage = true")
    await bot.says(chat, RESIDENT, "3栋电梯坏了，老人下不了楼")
    await browser.wait_for_text("tr[data-grid=G01] .open-count", "1")
    assert await browser.script("return window.stillTheSamePage") is True
    await browser.screenshot("overview-live")
    await browser.open(console_url(bot) + "figures?period=7d")
    await browser.wait_for_text("h1", "数据")
    assert await browser.script("return document.querySelectorAll('svg.chart rect').length") > 0
    await browser.screenshot("figures")
    await browser.open(console_url(bot) + "notices")
    await browser.wait_for_text("h1", "通知")
    await browser.screenshot("notices")


async def test_the_mini_app_logs_in_with_telegrams_init_data(
    bot: OfflineBot, browser: Browser
) -> None:
    await two_grids(bot)
    user = {"id": OTHER_HEAD, "first_name": "陈", "language_code": "en"}
    signed = sign_init_data({"auth_date": str(int(time.time())), "user": json.dumps(user)}, TOKEN)
    await browser.open(
        console_url(bot) + "app#" + "tgWebAppData=" + _quote(signed) + "&tgWebAppVersion=8.0"
    )
    await browser.wait_for_text("h1", "Grids (worst first)")
    assert "G02" in await browser.text("table") and "G01" not in await browser.text("table")
    await browser.screenshot("mini-app-overview")
    # A phone inside Telegram: the same page, narrow.
    await asyncio.to_thread(browser.driver.set_window_size, 390, 844)
    try:
        await browser.open(console_url(bot) + "tickets")
        await browser.wait_for_text("h1", "Tickets")
        await browser.screenshot("mini-app-phone-tickets")
    finally:
        await asyncio.to_thread(browser.driver.set_window_size, 1280, 900)
    # A forged one does not get in.
    await browser.script("document.cookie = ''")
    browser.driver.delete_all_cookies()
    forged = signed.replace(f"%22id%22%3A+{OTHER_HEAD}", f"%22id%22%3A+{STAFF}")
    assert forged != signed
    await browser.open(console_url(bot) + "app#tgWebAppData=" + _quote(forged))
    await browser.wait_for_text("#app-failed", "Telegram")
    await browser.screenshot("mini-app-refused")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
