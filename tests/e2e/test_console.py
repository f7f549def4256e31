"""The staff console over HTTP: login link, scoping, actions told to the chat as from chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, OTHER_HEAD, RESIDENT, STAFF
from tests.e2e.console_world import console_bot, console_url, logged_in, login_link, two_grids, xsrf


@pytest.fixture
async def bot(tmp_path: Path, clock: FakeClock) -> AsyncIterator[OfflineBot]:
    offline = await console_bot(tmp_path, clock)
    try:
        yield offline
    finally:
        await offline.stop()


async def test_a_login_link_works_once(bot: OfflineBot) -> None:
    await two_grids(bot)
    link = await login_link(bot, HEAD)
    async with httpx.AsyncClient(follow_redirects=True) as first:
        page = await first.get(link)
        assert page.status_code == 200 and "幸福里第一网格" in page.text
        cookie = first.cookies.jar
        [session] = [c for c in cookie if c.name == "gridbot_console"]
        assert session.has_nonstandard_attr("HttpOnly")
    async with httpx.AsyncClient(follow_redirects=True) as second:
        again = await second.get(link)
        assert again.status_code == 403 and "已失效" in again.text
        assert "gridbot_console" not in second.cookies


async def test_a_forged_or_missing_session_sees_only_the_login_page(bot: OfflineBot) -> None:
    await two_grids(bot)
    async with httpx.AsyncClient(base_url=console_url(bot)) as client:
        page = await client.get("/tickets/1")
        assert page.status_code == 401 and "/console" in page.text
        client.cookies.set("gridbot_console", f"{STAFF}||9999999999|00")
        forged = await client.get("/")
        assert forged.status_code == 401
        link = await client.get("/login", params={"t": "made-up"})
        assert link.status_code == 403


async def test_a_resident_gets_no_console(bot: OfflineBot) -> None:
    await two_grids(bot)
    exchange = await bot.says_privately(RESIDENT, "/console")
    assert "login" not in exchange.text_in(RESIDENT)
    assert "仅限" in exchange.text_in(RESIDENT)


async def test_the_link_is_never_posted_in_a_group(bot: OfflineBot) -> None:
    chat, _other = await two_grids(bot)
    bot.emulator.private_chat_started(HEAD)
    exchange = await bot.says(chat, HEAD, "/console")
    assert "login?t=" not in exchange.text_in(chat)
    assert "已私聊发送" in exchange.text_in(chat)
    assert "login?t=" in exchange.text_in(HEAD)


async def test_a_head_sees_only_their_grid(bot: OfflineBot) -> None:
    chat, other = await two_grids(bot)
    await bot.says(chat, RESIDENT, "3栋楼道灯坏了好几天了")
    await bot.says(other, RESIDENT, "5栋门口垃圾没人清理")
    async with logged_in(bot, HEAD) as head:
        listing = await head.get("/tickets")
        assert 'data-ticket="1"' in listing.text and 'data-ticket="2"' not in listing.text
        mine = await head.get("/tickets/1")
        assert mine.status_code == 200 and "楼道灯" in mine.text
        theirs = await head.get("/tickets/2")
        assert theirs.status_code == 404 and "垃圾" not in theirs.text
        missing = await head.get("/tickets/99")
        assert missing.status_code == 404
        # Acting on another grid's ticket by hand-made request changes nothing.
        forced = await head.post("/tickets/2/claim", data={"_xsrf": xsrf(head)})
        assert forced.status_code == 404
        assert "幸福里第二网格" not in (await head.get("/")).text
    async with logged_in(bot, STAFF) as staff:
        everything = await staff.get("/tickets")
        assert 'data-ticket="1"' in everything.text and 'data-ticket="2"' in everything.text


async def test_claim_and_resolve_tell_the_group_what_the_commands_tell_it(
    bot: OfflineBot,
) -> None:
    chat, _other = await two_grids(bot)
    await bot.says(chat, RESIDENT, "3栋楼道灯坏了好几天了")
    async with logged_in(bot, HEAD) as head:
        mark = bot.emulator.mark()
        page = await head.post("/tickets/1/claim", data={"_xsrf": xsrf(head)})
        await bot.settle()
        assert "#1 已认领" in page.text
        told = "\n".join(
            m["text"] for m in bot.emulator.bot_messages_since(mark) if m["chat"]["id"] == chat
        )
        assert "已由 王网格长 认领" in told
        mark = bot.emulator.mark()
        page = await head.post(
            "/tickets/1/resolve", data={"_xsrf": xsrf(head), "text": "已更换灯泡"}
        )
        await bot.settle()
        assert "已办结，等待居民确认" in page.text
        asked = [m for m in bot.emulator.bot_messages_since(mark) if m["chat"]["id"] == chat]
        assert "已办结：已更换灯泡" in asked[0]["text"] and asked[0]["reply_markup"]
        # The same event log as the chat's commands.
        rows = await bot.db.fetchall(
            "SELECT kind, actor_id FROM ticket_events WHERE ticket_id = 1 ORDER BY id"
        )
        assert [(r["kind"], r["actor_id"]) for r in rows][-2:] == [
            ("claimed", HEAD),
            ("resolved", HEAD),
        ]
        again = await head.post("/tickets/1/claim", data={"_xsrf": xsrf(head)})
        assert "problem" in str(again.url) or "action-problem" in again.text


async def test_an_action_without_the_xsrf_token_is_refused(bot: OfflineBot) -> None:
    chat, _other = await two_grids(bot)
    await bot.says(chat, RESIDENT, "3栋楼道灯坏了好几天了")
    async with logged_in(bot, HEAD) as head:
        refused = await head.post("/tickets/1/claim")
        assert refused.status_code == 403
    row = await bot.db.fetchone("SELECT status FROM tickets WHERE id = 1")
    assert row is not None and row["status"] == "open"


async def test_english_for_an_english_speaker_and_figures_and_export(bot: OfflineBot) -> None:
    chat, other = await two_grids(bot)
    await bot.says(other, RESIDENT, "5栋门口垃圾没人清理")
    async with logged_in(bot, OTHER_HEAD) as head:
        overview = await head.get("/")
        assert "Grids (worst first)" in overview.text
        figures = await head.get("/figures", params={"period": "7d"})
        assert figures.status_code == 200 and "<svg" in figures.text
        assert "G02" in figures.text and "G01" not in figures.text
        not_theirs = await head.get("/figures", params={"period": "7d", "grid": "1"})
        assert not_theirs.status_code == 403
        export = await head.get("/export", params={"kind": "csv", "period": "7d"})
        assert export.status_code == 200 and "G02" in export.text and "G01" not in export.text
        assert chat != other


async def test_staff_write_a_notice_with_the_same_preview_and_confirmation(
    bot: OfflineBot,
) -> None:
    chat, other = await two_grids(bot)
    async with logged_in(bot, STAFF) as staff:
        bad = await staff.post(
            "/notices/draft", data={"_xsrf": xsrf(staff), "command": "someday", "text": "x"}
        )
        assert bad.status_code == 400 and 'id="notice-problem"' in bad.text
        before = bot.emulator.mark()
        preview = await staff.post(
            "/notices/draft",
            data={
                "_xsrf": xsrf(staff),
                "command": "now all",
                "text": "各位{{ grid.name }}的居民：本周六上午停水 <注意储水>",
            },
        )
        assert preview.status_code == 200
        assert "各位幸福里第一网格的居民：本周六上午停水 &lt;注意储水&gt;" in preview.text
        assert "共 2 个网格" in preview.text
        await bot.settle()
        assert bot.emulator.bot_messages_since(before) == []  # nothing goes out before [确认]
        mark = bot.emulator.mark()
        done = await staff.post("/notices/1/confirm", data={"_xsrf": xsrf(staff)})
        assert done.status_code == 200 and 'id="notice-done"' in done.text
        await bot.settle()
        sent = {m["chat"]["id"]: m["text"] for m in bot.emulator.bot_messages_since(mark)}
        assert "各位幸福里第二网格的居民：本周六上午停水 <注意储水>" in sent[other]
        assert "幸福里第一网格" in sent[chat]
        report = await staff.get("/notices", params={"id": "1"})
        assert "送达 2/2" in report.text and "已结束" in report.text
        again = await staff.post("/notices/1/confirm", data={"_xsrf": xsrf(staff)})
        assert again.status_code == 409
    async with logged_in(bot, HEAD) as head:
        refused = await head.post(
            "/notices/draft", data={"_xsrf": xsrf(head), "command": "now all", "text": "x"}
        )
        assert refused.status_code == 403


async def test_a_tickets_photo_is_shown_to_those_who_may_see_the_ticket(bot: OfflineBot) -> None:
    chat, _other = await two_grids(bot)
    await bot.says(chat, RESIDENT, None, photo=True, caption="2栋后面垃圾堆了一个星期了 臭")
    async with logged_in(bot, HEAD) as head:
        page = await head.get("/tickets/1")
        assert 'src="/tickets/1/files/0"' in page.text
        photo = await head.get("/tickets/1/files/0")
        assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")
        assert len(photo.content) > 0
        assert (await head.get("/tickets/1/files/5")).status_code == 404
    async with logged_in(bot, OTHER_HEAD) as other_head:
        assert (await other_head.get("/tickets/1/files/0")).status_code == 404


DUTY_OFFICER = 4001


async def test_duty_staff_see_what_was_escalated_to_them_and_lose_it_with_the_role(
    bot: OfflineBot,
) -> None:
    chat, other = await two_grids(bot)
    bot.person(DUTY_OFFICER, "社区值班员")
    await bot.says(chat, RESIDENT, "马路上的窨井盖碎了 一个大洞")
    await bot.says(other, RESIDENT, "5栋门口垃圾没人清理")
    async with logged_in(bot, HEAD) as head:
        escalated = await head.post(
            "/tickets/1/escalate", data={"_xsrf": xsrf(head), "text": "需要社区协调维修基金"}
        )
        assert "已上报到社区" in escalated.text
    await bot.says(chat, DUTY_OFFICER, "我今天值班")
    officer_said = bot.last_message_id(chat)
    await bot.says(chat, STAFF, "/duty community", reply_to=officer_said)
    async with logged_in(bot, DUTY_OFFICER) as officer:
        listing = await officer.get("/tickets")
        assert 'data-ticket="1"' in listing.text and 'data-ticket="2"' not in listing.text
        assert (await officer.get("/tickets/2")).status_code == 404
        claimed = await officer.post("/tickets/1/claim", data={"_xsrf": xsrf(officer)})
        assert "#1 已认领" in claimed.text
        # The role goes, and with it the console, at the very next request.
        await bot.says(chat, STAFF, "/unduty community", reply_to=officer_said)
        gone = await officer.get("/tickets")
        assert gone.status_code == 403


async def test_over_https_console_sends_a_mini_app_button(tmp_path: Path) -> None:
    offline = OfflineBot(
        tmp_path / "https.db",
        staff=(STAFF,),
        settings={"web": {"enabled": True, "port": 0, "public_url": "https://console.example.org"}},
    )
    await offline.start()
    try:
        offline.person(STAFF, "街道小李")
        exchange = await offline.says_privately(STAFF, "/console")
        [message] = exchange.in_chat(STAFF)
        assert "https://console.example.org/login?t=" in message["text"]
        [[button]] = message["reply_markup"]["inline_keyboard"]
        assert button["web_app"] == {"url": "https://console.example.org/app"}
        assert button["text"] == "打开工作台"
    finally:
        await offline.stop()
