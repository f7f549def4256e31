"""No resident's number or private words outside where they belong.

Rendering knows its audience: in a grid group or a duty chat, phone numbers in every common
format, resident ID numbers and bank-card-like numbers are masked and a private ticket shows
only its category, grid, building and number; privately, handlers see everything.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, RESIDENT, STAFF, bound_grid
from tests.e2e.test_loop import DUTY_COMMUNITY, DUTY_OFFICER, DUTY_STREET, button, status_of

DUTY_DISTRICT = -100_702

# (as a resident types it, the digits that must never reach a public chat together)
HOSTILE = (
    ("138-2468-1357", "13824681357"),
    ("139 2468 1357", "13924681357"),
    ("+8613724681357", "13724681357"),
    ("0086 13624681357", "13624681357"),
    ("010-62345678", "62345678"),
    ("023-61234567", "61234567"),
    ("11010519491231002X", "1101051949123"),
    ("6222021234567890123", "622202123456789"),
)
NUMBERS = " ".join(raw for raw, _digits in HOSTILE)

# Every template the bot renders for a grid group or a duty chat. The scenario below must
# render each of them (so a new group- or duty-facing template has to be added here and is
# then fed the hostile numbers).
PUBLIC_TEMPLATES = {
    "ticket_ack",
    "emergency_alert",
    "emergency_duty",
    "duty_card",
    "overdue_top_level",
    "remind_claim",
    "remind_resolve",
    "digest",
    "digest_item",
    "loop_done",
    "verify_ask",
    "ticket_status",
    "open_list",
    "my_tickets",
    "log_list",
    "resident_claimed",
    "resident_escalated",
    "resident_rejected",
    "resident_confirmed",
    "resident_reopened",
    "resident_transferred",
    "resident_confirmed_by_timeout",
    "ticket_followed",
    "ticket_attached",
}


def leaks(bot: OfflineBot) -> list[tuple[int, str]]:
    """Every public message (as it stands now) that shows a hostile number whole."""
    found = []
    for chat_id in [c for c in bot.emulator.chats if c < 0]:
        for message in bot.emulator.messages_in(chat_id):
            text = message.get("text") or message.get("caption") or ""
            compact = re.sub(r"[\s+\-()]", "", text)
            found += [(chat_id, digits) for _raw, digits in HOSTILE if digits in compact]
    return found


async def newest(bot: OfflineBot) -> int:
    row = await bot.db.fetchone("SELECT MAX(id) FROM tickets")
    assert row is not None
    return int(row[0])


async def duty_chats_bot(tmp_path: Path, clock: FakeClock) -> OfflineBot:
    bot = OfflineBot(
        tmp_path / "privacy.db",
        staff=(STAFF,),
        clock=clock,
        settings={
            "escalation": {
                "community": DUTY_COMMUNITY,
                "street": DUTY_STREET,
                "district": DUTY_DISTRICT,
            },
        },
    )
    await bot.start()
    for uid, name in (
        (STAFF, "小李"),
        (RESIDENT, "张阿姨"),
        (NEIGHBOUR, "刘大爷"),
        (DUTY_OFFICER, "社区值班员"),
    ):
        bot.person(uid, name)
    bot.person(HEAD, "王网格长", username="wang_head")
    for duty_chat in (DUTY_COMMUNITY, DUTY_STREET, DUTY_DISTRICT):
        bot.emulator.create_group("值班群", chat_id=duty_chat)
        bot.emulator.chat(duty_chat).bot_status = "member"
    return bot


async def test_private_emergency_leaves_no_words_in_any_group(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await duty_chats_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        bot.emulator.private_chat_started(HEAD)
        await bot.says_privately(RESIDENT, "/start g_G01")
        words = "我家厨房着火了 快来人 3栋2单元502 电话138-2468-1357"
        filed = await bot.says_privately(RESIDENT, words)
        assert filed.in_chat(chat) == []
        [duty] = filed.in_chat(DUTY_COMMUNITY)
        assert "详情请私聊查看" in duty["text"] and "3栋" in duty["text"]
        assert "厨房" not in duty["text"] and "502" not in duty["text"]
        # The head, privately, reads it all and can call back.
        [alert] = filed.in_chat(HEAD)
        assert "厨房着火了" in alert["text"] and "138-2468-1357" in alert["text"]
        await bot.advance(timedelta(minutes=8, seconds=1))  # reminder
        await bot.advance(timedelta(minutes=2))  # escalated to community
        await bot.says(chat, HEAD, "/open")
        await bot.says(chat, HEAD, "/status 1")
        assert (await status_of(bot))[2] == "community"
        for group in (chat, DUTY_COMMUNITY, DUTY_STREET):
            for message in bot.emulator.messages_in(group):
                assert "厨房" not in message["text"] and "2468" not in message["text"], message
    finally:
        await bot.stop()


async def test_every_public_view_masks_personal_numbers(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.render")
    bot = await duty_chats_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        await bot.says(chat, NEIGHBOUR, "大家好")
        # Heads cannot be reached privately: reminders and the digest come to the group.
        filed = await bot.says(chat, RESIDENT, f"3栋楼道灯坏了好几天了 联系我 {NUMBERS}")
        ack = filed.in_chat(chat)[0]
        await bot.says(chat, NEIGHBOUR, f"5栋电梯困人了 快来 {NUMBERS}")
        await bot.says(chat, NEIGHBOUR, "3栋楼道灯坏了好几天了 我也是", reply_to=ack["message_id"])
        await bot.presses(chat, ack["message_id"], NEIGHBOUR, button(ack, "我也遇到"))
        await bot.says(chat, RESIDENT, None, photo=True, reply_to=ack["message_id"])
        await bot.says(chat, RESIDENT, "/status 1")
        await bot.says(chat, RESIDENT, "/my")
        await bot.says(chat, HEAD, "/open")
        await bot.says(chat, HEAD, f"/log 走访 {NUMBERS}")
        await bot.says(chat, HEAD, "/logs")
        await bot.says(chat, HEAD, f"/note 1 回访 {NUMBERS}")
        await bot.advance(timedelta(minutes=8, seconds=1))  # #2 reminded (in the group)
        await bot.advance(timedelta(minutes=2))  # #2 escalated: community alert
        await bot.says(chat, HEAD, f"/escalate 1 联系 {NUMBERS}")
        await bot.says(chat, HEAD, "/claim 1")
        await bot.says(chat, HEAD, f"/close 1 已修 {NUMBERS}")
        ask = bot.emulator.last_bot_message(chat)
        assert ask is not None
        await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "未解决"))
        await bot.says(chat, HEAD, f"/close 1 再修 {NUMBERS}")
        ask = bot.emulator.last_bot_message(chat)
        assert ask is not None
        await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "已解决"))
        await bot.says(chat, NEIGHBOUR, f"7栋下水道堵了 臭死了 {NUMBERS}")
        await bot.says(chat, HEAD, f"/reject {await newest(bot)} not_ours 水务集团负责 {NUMBERS}")
        await bot.says(chat, RESIDENT, "小区门口路灯不亮")
        lamp = await newest(bot)
        await bot.says(chat, HEAD, f"/transfer {lamp} @wang_head")
        await bot.advance(timedelta(hours=60))  # resolve reminder (in the group)
        await bot.says(chat, HEAD, f"/close {lamp} 换了灯泡")
        await bot.advance(timedelta(hours=48, minutes=1))  # confirmed by timeout, digests
        await bot.advance(timedelta(hours=2))  # #2 reaches district and stays overdue
        assert leaks(bot) == []
        # At the top level a card offers no [升级].
        district = [
            b["text"]
            for m in bot.emulator.messages_in(DUTY_DISTRICT)
            for row in m.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row
        ]
        assert "办结" in district and "升级" not in district
        rendered = {
            r.args[0]
            for r in caplog.records
            if r.name == "bot.render" and r.args and len(r.args) == 2
        }
        assert PUBLIC_TEMPLATES <= rendered, PUBLIC_TEMPLATES - rendered
    finally:
        await bot.stop()


async def test_an_edited_emergency_stays_the_alert_and_stays_masked(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    report = await bot.says(chat, RESIDENT, "5栋楼道有烟 好像着火了")
    [alert] = report.in_chat(chat)
    mine = bot.last_message_id(chat) - 1  # the resident's report, just before the alert
    await bot.edits(chat, mine, "5栋楼道有烟 好像着火了 我电话138-2468-1357")
    edited = bot.emulator.message(chat, alert["message_id"])
    assert edited is not None
    assert "🚨" in edited["text"] and "（10分钟内）" in edited["text"]
    assert "138****1357" in edited["text"] and "2468" not in edited["text"]
    labels = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    assert "认领" in labels
