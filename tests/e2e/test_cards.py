"""Every message about a ticket that a handler receives is actionable where it lands.

The private emergency alert, the private reminders, duty-chat cards and alerts and the
digest's items carry the buttons that fit the ticket's state, and a ticket command sent as a
reply to any of them needs no number. Deadlines in words come from the configured SLA.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, RESIDENT, STAFF, WORKER, bound_grid
from tests.e2e.test_loop import (
    DUTY_COMMUNITY,
    DUTY_OFFICER,
    DUTY_STREET,
    button,
    duty_bot,
    reported,
    status_of,
    with_worker,
)

FIRE = "5栋楼道有烟 好像着火了"


def labels(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


def current(bot: OfflineBot, message: dict[str, Any]) -> dict[str, Any]:
    found = bot.emulator.message(message["chat"]["id"], message["message_id"])
    assert found is not None
    return found


async def test_emergency_states_the_configured_claim_limit(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = OfflineBot(
        tmp_path / "sla.db",
        staff=(STAFF,),
        clock=clock,
        settings={
            "sla": {"emergency": {"claim": "30m"}},
            "escalation": {"community": DUTY_COMMUNITY},
        },
    )
    await bot.start()
    try:
        for uid, name in ((STAFF, "小李"), (HEAD, "王网格长"), (RESIDENT, "张阿姨")):
            bot.person(uid, name)
        bot.emulator.create_group("值班群", chat_id=DUTY_COMMUNITY)
        bot.emulator.chat(DUTY_COMMUNITY).bot_status = "member"
        chat = await bound_grid(bot)
        bot.emulator.private_chat_started(HEAD)
        alert = await bot.says(chat, RESIDENT, FIRE)  # the fake clock reads 09:00 Shanghai
        for where in (chat, HEAD, DUTY_COMMUNITY):
            text = alert.text_in(where)
            assert "09:30 前（30分钟内）" in text, (where, text)
            assert "10分钟" not in text
        reminded = await bot.advance(timedelta(minutes=24, seconds=1))
        assert "09:30 前（30分钟内）" in reminded.text_in(HEAD)
    finally:
        await bot.stop()


async def test_private_alert_is_a_card_pressed_and_replied_to(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    bot.emulator.private_chat_started(HEAD)
    filed = await bot.says(chat, RESIDENT, FIRE)
    [alert] = filed.in_chat(HEAD)
    assert labels(alert) == ["认领", "办结", "升级"]
    # A reply with a ticket command needs no number.
    claimed = await bot.says(HEAD, HEAD, "/claim", reply_to=alert["message_id"])
    assert await status_of(bot) == ("claimed", None, "grid", HEAD)
    assert "#1 已认领" in claimed.text_in(HEAD)
    assert "已由 王网格长 认领" in claimed.text_in(chat)
    # Every card of the ticket follows its state: the alert and the group's acknowledgement.
    assert labels(current(bot, alert)) == ["办结", "升级"]
    [ack] = filed.in_chat(chat)
    assert "认领" not in labels(current(bot, ack))
    # [办结] on the private alert asks for the note there, and the next message is it.
    pressed = await bot.presses(HEAD, alert["message_id"], HEAD, button(alert, "办结"))
    asked = pressed.text_in(HEAD)
    assert "请发送 #1 的办结说明" in asked and "30分钟内有效" in asked
    resolved = await bot.says(HEAD, HEAD, "已疏散并关闭燃气总阀")
    assert "已办结：已疏散并关闭燃气总阀" in resolved.text_in(chat)
    assert await status_of(bot) == ("resolved", None, "grid", HEAD)
    assert labels(current(bot, alert)) == []


async def test_a_head_removed_since_the_alert_is_refused_and_told_why(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bound_grid(bot, "G02", "第二网格", head=HEAD)  # still a head, of another grid
    bot.emulator.private_chat_started(HEAD)
    [alert] = (await bot.says(chat, RESIDENT, FIRE)).in_chat(HEAD)
    await bot.says(chat, STAFF, "/unhead @wang_head")
    refused = await bot.presses(HEAD, alert["message_id"], HEAD, button(alert, "认领"))
    assert refused.answer is not None
    assert "#1 不属于您负责的网格" in refused.answer["text"]
    assert "网格长、网格员" in refused.answer["text"]
    replied = await bot.says(HEAD, HEAD, "/claim", reply_to=alert["message_id"])
    assert "#1 不属于您负责的网格" in replied.text_in(HEAD)
    assert await status_of(bot) == ("open", None, "grid", None)


async def test_reminders_are_cards(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    bot.emulator.private_chat_started(HEAD)
    # An emergency: 10 minutes to claim, 2 hours to resolve.
    await bot.says(chat, RESIDENT, "3栋电梯困人了 快来")
    reminded = await bot.advance(timedelta(minutes=8, seconds=1))
    [remind] = reminded.in_chat(HEAD)
    assert "还没有人认领" in remind["text"] and "（10分钟内）" in remind["text"]
    assert labels(remind) == ["认领", "办结", "升级"]
    await bot.says(HEAD, HEAD, "/claim", reply_to=remind["message_id"])
    assert await status_of(bot) == ("claimed", None, "grid", HEAD)
    reminded = await bot.advance(timedelta(hours=1, minutes=28))
    [remind] = reminded.in_chat(HEAD)
    assert "办结时限" in remind["text"] and "2小时" in remind["text"]
    assert labels(remind) == ["办结", "升级"]
    escalated = await bot.says(HEAD, HEAD, "/escalate 需要消防支援", reply_to=remind["message_id"])
    assert "已上报到社区" in escalated.text_in(chat)
    assert await status_of(bot) == ("open", None, "community", None)


async def test_only_the_claimant_or_a_head_may_close_and_the_refusal_says_so(
    bot: OfflineBot,
) -> None:
    chat = await bound_grid(bot)
    await with_worker(bot, chat)
    ack = await reported(bot, chat)
    await bot.says(chat, HEAD, "/claim 1")
    refused = await bot.says(chat, WORKER, "/close 1 修好了")
    assert "#1 已由 王网格长 认领，只有认领人或网格长可以办结。" in refused.text_in(chat)
    pressed = await bot.presses(chat, ack["message_id"], WORKER, button(current(bot, ack), "办结"))
    assert pressed.answer is not None and "只有认领人或网格长可以办结" in pressed.answer["text"]
    assert await status_of(bot) == ("claimed", None, "grid", HEAD)
    # A worker who claimed may close; a head may close what a worker claimed.
    await bot.says(chat, WORKER, "/transfer 1 @赵网格员", text_mentions=[("@赵网格员", WORKER)])
    assert (await status_of(bot))[3] == HEAD  # the worker may not hand on the head's ticket
    await bot.says(chat, HEAD, "/transfer 1 @赵网格员", text_mentions=[("@赵网格员", WORKER)])
    assert (await status_of(bot))[3] == WORKER
    closed = await bot.says(chat, HEAD, "/close 1 网格长代为办结")
    assert "已办结：网格长代为办结" in closed.text_in(chat)


async def test_duty_cards_and_alerts_work_for_duty_staff_only(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await duty_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        await bot.says(DUTY_COMMUNITY, DUTY_OFFICER, "我今天值班")
        await bot.says(
            DUTY_COMMUNITY, STAFF, "/duty community", reply_to=bot.last_message_id(DUTY_COMMUNITY)
        )
        filed = await bot.says(chat, RESIDENT, FIRE)
        [alert] = filed.in_chat(DUTY_COMMUNITY)
        # At grid level it is not the duty chat's to handle yet: no buttons, and a reply is
        # told who acts and when it comes to them.
        assert labels(alert) == []
        early = await bot.says(DUTY_COMMUNITY, DUTY_OFFICER, "/claim", reply_to=alert["message_id"])
        assert "超时未认领会自动上报到社区值班" in early.text_in(DUTY_COMMUNITY)
        # Escalated, the same alert gets the buttons and answers for the ticket.
        await bot.says(chat, HEAD, "/escalate 1 需要社区协调")
        assert await status_of(bot) == ("open", None, "community", None)
        assert labels(current(bot, alert)) == ["认领", "办结", "升级"]
        refused = await bot.says(DUTY_COMMUNITY, RESIDENT, "/claim", reply_to=alert["message_id"])
        assert "仅限网格长、网格员和值班人员" in refused.text_in(DUTY_COMMUNITY)
        claimed = await bot.says(
            DUTY_COMMUNITY, DUTY_OFFICER, "/claim", reply_to=alert["message_id"]
        )
        assert "已由 社区值班员 认领" in claimed.text_in(chat)
        assert "#1 已认领" in claimed.text_in(DUTY_COMMUNITY)
        assert await status_of(bot) == ("claimed", None, "community", DUTY_OFFICER)
        # A normal ticket's duty card, replied to.
        await reported(bot, chat, "马路上的窨井盖碎了 一个大洞")
        escalated = await bot.says(chat, HEAD, "/escalate 2 需要维修基金")
        [card] = escalated.in_chat(DUTY_COMMUNITY)
        assert "⬆️" in card["text"] and "（1小时内）" in card["text"]  # high urgency
        assert labels(card) == ["认领", "办结", "升级"]
        await bot.says(DUTY_COMMUNITY, DUTY_OFFICER, "/claim", reply_to=card["message_id"])
        assert await status_of(bot, 2) == ("claimed", None, "community", DUTY_OFFICER)
        assert labels(current(bot, card)) == ["办结", "升级"]
    finally:
        await bot.stop()


async def test_an_english_speaking_head_reads_the_limit_in_english(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = OfflineBot(
        tmp_path / "en.db",
        staff=(STAFF,),
        clock=clock,
        settings={
            "sla": {"emergency": {"claim": "45m"}},
        },
    )
    await bot.start()
    try:
        bot.person(STAFF, "小李")
        bot.person(HEAD, "Wang", language_code="en")
        bot.person(RESIDENT, "张阿姨")
        chat = await bound_grid(bot)
        bot.emulator.private_chat_started(HEAD)
        filed = await bot.says(chat, RESIDENT, FIRE)
        assert "09:45 前（45分钟内）" in filed.text_in(chat)
        assert "by 09:45 (within 45 min)" in filed.text_in(HEAD)
        reminded = await bot.advance(timedelta(minutes=36, seconds=1))
        assert "claim it by 09:45 (within 45 min)" in reminded.text_in(HEAD)
        digest = await bot.advance(timedelta(hours=23))  # escalations, then 08:30 tomorrow
        assert "Daily digest" in digest.text_in(HEAD) and "overdue" in digest.text_in(HEAD)
    finally:
        await bot.stop()


async def test_unclaimed_emergency_escalates_with_the_same_actionable_card(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await duty_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        await bot.says(DUTY_STREET, DUTY_OFFICER, "街道值班")
        await bot.says(
            DUTY_STREET, STAFF, "/duty street", reply_to=bot.last_message_id(DUTY_STREET)
        )
        bot.emulator.private_chat_started(DUTY_OFFICER)
        await bot.says(chat, RESIDENT, FIRE)
        await bot.advance(timedelta(minutes=10, seconds=1))  # grid → community
        assert (await status_of(bot))[2] == "community"
        escalated = await bot.advance(timedelta(minutes=10, seconds=1))  # community → street
        assert await status_of(bot) == ("open", None, "street", None)
        [card] = escalated.in_chat(DUTY_STREET)
        assert "🚨" in card["text"] and "已上报到街道" in card["text"]
        assert "（10分钟内）" in card["text"] and FIRE in card["text"]
        assert labels(card) == ["认领", "办结", "升级"]
        [private] = escalated.in_chat(DUTY_OFFICER)
        assert "🚨" in private["text"] and labels(private) == ["认领", "办结", "升级"]
        await bot.says(DUTY_OFFICER, DUTY_OFFICER, "/claim", reply_to=private["message_id"])
        assert await status_of(bot) == ("claimed", None, "street", DUTY_OFFICER)
        assert labels(current(bot, card)) == ["办结", "升级"]
        # The community's alert is no longer that chat's to act on.
        alerts = [m for m in bot.emulator.messages_in(DUTY_COMMUNITY) if "🚨" in m["text"]]
        assert alerts and all(labels(m) == [] for m in alerts)
    finally:
        await bot.stop()


async def test_digest_items_are_cards(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    bot.emulator.private_chat_started(HEAD)
    await reported(bot, chat, "小区门口路灯不亮")
    await reported(bot, chat, "7栋下水道堵了 臭死了", who=NEIGHBOUR)
    await reported(bot, chat, "3栋楼道灯坏了好几天了")
    await bot.says(chat, HEAD, "/claim 3")
    digest = await bot.advance(timedelta(hours=23, minutes=31))  # 08:30 next morning
    sent = digest.in_chat(HEAD)  # the day's reminders first, then the digest
    start = next(i for i, m in enumerate(sent) if "每日简报" in m["text"])
    summary, *items = sent[start:]
    assert "每日简报" in summary["text"] and "下面 2 张卡片" in summary["text"]
    assert ["#1" in items[0]["text"], "#2" in items[1]["text"]] == [True, True]
    assert all(labels(item) == ["认领", "办结", "升级"] for item in items)
    await bot.says(HEAD, HEAD, "/claim", reply_to=items[1]["message_id"])
    assert (await status_of(bot, 2))[0] == "claimed"
    await bot.presses(HEAD, items[0]["message_id"], HEAD, button(items[0], "认领"))
    assert (await status_of(bot, 1))[0] == "claimed"
    assert labels(current(bot, items[0])) == ["办结", "升级"]


async def test_news_about_a_ticket_answers_for_it_too(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat)
    [news] = (await bot.says(chat, HEAD, "/claim 1")).in_chat(chat)
    assert "已由 王网格长 认领" in news["text"] and labels(news) == []
    closed = await bot.says(chat, HEAD, "/close 已修好", reply_to=news["message_id"])
    [ask] = closed.in_chat(chat)
    assert "已办结：已修好" in ask["text"]
    # The question keeps its own buttons when the ticket moves on.
    await bot.says(chat, HEAD, "/note 物业已确认", reply_to=ask["message_id"])
    assert "已解决 ✅" in labels(current(bot, ask))
