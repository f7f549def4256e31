"""Grid heads close the loop: claim, resolve, verify with the resident, on time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import (
    HEAD,
    NEIGHBOUR,
    OTHER_HEAD,
    RESIDENT,
    STAFF,
    WORKER,
    bound_grid,
)

# The storage conformance suite: these run on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

DUTY_COMMUNITY = -100_700
DUTY_STREET = -100_701
DUTY_OFFICER = 4001


async def status_of(bot: OfflineBot, ticket_id: int = 1) -> tuple[str, str | None, str, int | None]:
    row = await bot.db.fetchone(
        "SELECT status, closure, level, handler_id FROM tickets WHERE id = ?", (ticket_id,)
    )
    assert row is not None
    return row["status"], row["closure"], row["level"], row["handler_id"]


async def events_of(bot: OfflineBot, ticket_id: int = 1) -> list[str]:
    rows = await bot.db.fetchall(
        "SELECT kind FROM ticket_events WHERE ticket_id = ? ORDER BY id", (ticket_id,)
    )
    return [r["kind"] for r in rows]


async def reported(
    bot: OfflineBot, chat: int, text: str = "3栋楼道灯坏了好几天了", who: int = RESIDENT
) -> dict:  # type: ignore[type-arg]
    return (await bot.says(chat, who, text)).in_chat(chat)[0]


def button(message: dict, label: str) -> str:  # type: ignore[type-arg]
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"].startswith(label):
                return str(b["callback_data"])
    raise AssertionError(f"no button {label!r} in {message['reply_markup']}")


async def with_worker(bot: OfflineBot, chat: int) -> None:
    await bot.says(chat, WORKER, "我是网格员")
    await bot.says(chat, STAFF, "/worker", reply_to=bot.last_message_id(chat))


async def test_claim_close_and_the_resident_confirms(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, NEIGHBOUR, "嗯")  # a follower needs to have been seen
    ack = await reported(bot, chat)
    await bot.presses(chat, ack["message_id"], NEIGHBOUR, button(ack, "我也遇到"))
    reply = await bot.says(chat, HEAD, "/claim 1")
    # One group message per action: the residents' news is the head's confirmation.
    [claimed] = reply.in_chat(chat)
    assert "已由 王网格长 认领" in claimed["text"]
    assert await status_of(bot) == ("claimed", None, "grid", HEAD)
    card = bot.emulator.message(chat, ack["message_id"])
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert "认领" not in labels and "办结" in labels  # buttons follow the state
    reply = await bot.says(chat, HEAD, "/close 1 已更换灯泡")
    [ask] = reply.in_chat(chat)
    assert "已办结：已更换灯泡" in ask["text"]
    assert "张阿姨" in ask["text"] and "刘大爷" in ask["text"]
    assert await status_of(bot) == ("resolved", None, "grid", HEAD)
    # A bystander cannot answer; the reporter can.
    bystander = await bot.presses(chat, ask["message_id"], WORKER, button(ask, "已解决"))
    assert bystander.answer is not None and "不是问您的" in bystander.answer["text"]
    await bot.presses(chat, ask["message_id"], NEIGHBOUR, button(ask, "4"))
    done = await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "已解决"))
    assert "居民已确认解决" in done.text_in(chat)
    await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "5"))
    assert await status_of(bot) == ("closed", "confirmed", "grid", HEAD)
    row = await bot.db.fetchone("SELECT satisfaction FROM tickets WHERE id = 1")
    assert row is not None and row[0] == 4.5
    assert await events_of(bot) == ["created", "followed", "claimed", "resolved", "closed"]


async def test_not_solved_reopens_to_the_same_handler(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat)
    await bot.says(chat, HEAD, "/claim 1")
    bot.emulator.private_chat_started(HEAD)
    ask = (await bot.says(chat, HEAD, "/close 1 修好了")).in_chat(chat)[-1]
    reply = await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "未解决"))
    assert reply.answer is not None and "重新打开" in reply.answer["text"]
    assert "已重新打开，继续由 王网格长 处理" in reply.text_in(chat)
    assert "被重新打开" in reply.text_in(HEAD)
    assert await status_of(bot) == ("reopened", None, "grid", HEAD)
    # The old question is over.
    late = await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "已解决"))
    assert late.answer is not None and "已经结束" in late.answer["text"]
    # Second round: resolved again, confirmed.
    ask = (await bot.says(chat, HEAD, "/close 1 这次换了线路")).in_chat(chat)[-1]
    await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "已解决"))
    assert await status_of(bot) == ("closed", "confirmed", "grid", HEAD)


async def test_two_heads_press_claim_at_once_exactly_one_wins(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await with_worker(bot, chat)
    ack = await reported(bot, chat)
    data = button(ack, "认领")
    first = bot.emulator.press_button(chat, ack["message_id"], HEAD, data)
    second = bot.emulator.press_button(chat, ack["message_id"], WORKER, data)
    await bot.settle()
    answers = [bot.emulator.callback_answer(first), bot.emulator.callback_answer(second)]
    assert answers[0] is not None and "#1 已认领" in answers[0]["text"]
    assert answers[1] is not None and "已被 王网格长 认领" in answers[1]["text"]
    assert await status_of(bot) == ("claimed", None, "grid", HEAD)
    assert (await events_of(bot)).count("claimed") == 1


async def test_close_button_asks_for_the_note_in_the_next_message(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    ack = await reported(bot, chat)
    pressed = await bot.presses(chat, ack["message_id"], HEAD, button(ack, "办结"))
    assert "请发送 #1 的办结说明" in pressed.text_in(chat)
    # Someone else talking in between is not the note.
    await bot.says(chat, RESIDENT, "谢谢网格长")
    reply = await bot.says(chat, HEAD, "已经找物业换了新灯")
    assert "已办结：已经找物业换了新灯" in reply.text_in(chat)
    assert await status_of(bot) == ("resolved", None, "grid", HEAD)
    assert len(await bot.db.fetchall("SELECT id FROM tickets")) == 1
    reply = await bot.says(chat, HEAD, "/close 1")
    assert "#1 已办结，正在等居民确认，不能办结。如果问题没解决：/reopen 1 原因" in reply.text_in(
        chat
    )


async def test_commands_work_as_replies_without_ids(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    ack = await reported(bot, chat)
    reply = await bot.says(chat, HEAD, "/claim", reply_to=ack["message_id"])
    assert "已由 王网格长 认领" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/note 物业说明天来修", reply_to=ack["message_id"])
    assert "备注已记录" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/claim")
    assert "请写上工单号" in reply.text_in(chat)
    assert "note" in await events_of(bot)


async def test_transfer_to_a_worker_and_not_to_a_resident(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await with_worker(bot, chat)
    await reported(bot, chat)
    bot.emulator.private_chat_started(WORKER)
    reply = await bot.says(
        chat, HEAD, "/transfer 1 @赵网格员", text_mentions=[("@赵网格员", WORKER)]
    )
    assert "已转由 赵网格员 处理" in reply.text_in(chat)
    assert "转给您处理" in reply.text_in(WORKER)
    assert await status_of(bot) == ("claimed", None, "grid", WORKER)
    reply = await bot.says(chat, HEAD, "/transfer 1 @zhang_ayi")
    assert "不是 #1 所在网格的网格长或网格员" in reply.text_in(chat)
    assert await status_of(bot) == ("claimed", None, "grid", WORKER)


async def test_reject_with_closure_codes(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat, "小区门口路灯不亮")
    await reported(bot, chat, "7栋下水道堵了 臭死了", who=NEIGHBOUR)
    reply = await bot.says(chat, HEAD, "/reject 2 whatever 原因")
    assert "代码为：unable, not_ours, duplicate, referred, invalid" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/reject 2 duplicate 1")
    assert "请写明原因" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/reject 2 not_ours 市政管网由水务集团负责，已告知热线")
    assert "已关闭：非本网格职责" in reply.text_in(chat)
    assert await status_of(bot, 2) == ("closed", "not_ours", "grid", None)
    reply = await bot.says(chat, HEAD, "/reject 2 invalid 再来一次")
    assert "#2 已关闭，不能关闭。如需重新处理：/reopen 2 原因" in reply.text_in(chat)


async def test_residents_and_other_grids_heads_are_refused_and_nothing_changes(
    bot: OfflineBot,
) -> None:
    chat = await bound_grid(bot)
    other = await bound_grid(bot, "G02", "第二网格", head=OTHER_HEAD)
    ack = await reported(bot, chat)
    reply = await bot.says(chat, RESIDENT, "/claim 1")
    assert "仅限网格长、网格员和值班人员" in reply.text_in(chat)
    reply = await bot.says(other, OTHER_HEAD, "/claim 1")
    assert "#1 不属于您负责的网格" in reply.text_in(other)
    reply = await bot.says(chat, OTHER_HEAD, "/open")
    assert "您不是本网格的网格长或网格员" in reply.text_in(chat)
    pressed = await bot.presses(chat, ack["message_id"], OTHER_HEAD, button(ack, "认领"))
    # A toast is seen only by the presser: it speaks their (English) Telegram language.
    assert pressed.answer is not None and "not in a grid you serve" in pressed.answer["text"]
    forged = await bot.presses(chat, ack["message_id"], HEAD, "k:claim:99", check=False)
    assert forged.answer is not None and "按钮已失效" in forged.answer["text"]
    assert await status_of(bot) == ("open", None, "grid", None)
    assert await events_of(bot) == ["created"]


async def test_open_lists_most_urgent_first_and_marks_overdue(
    bot: OfflineBot, clock: FakeClock
) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat, "小区门口路灯不亮")
    await reported(bot, chat, "5栋电梯困人了 快来", who=NEIGHBOUR)
    await bot.advance(timedelta(minutes=11))  # the emergency's claim limit passes
    reply = await bot.says(chat, HEAD, "/open")
    text = reply.text_in(chat)
    assert text.index("#2") < text.index("#1")
    assert "⏰ #2" in text
    reply = await bot.says(chat, HEAD, "/open municipal")
    assert "#1" in reply.text_in(chat) and "#2" not in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/open property")
    assert "#2" in reply.text_in(chat) and "#1" not in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/open 乱写")
    assert "看不懂“乱写”" in reply.text_in(chat)
    private = await bot.says_privately(HEAD, "/open")
    assert "#1" in private.text_in(HEAD) and "#2" in private.text_in(HEAD)


async def test_patrol_log_and_report_found_on_patrol(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    reply = await bot.says(chat, HEAD, "/log 走访3栋独居老人李奶奶，身体还好")
    assert "已记录网格 G01 的走访/巡查日志" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/logs")
    assert "独居老人李奶奶" in reply.text_in(chat)
    await bot.says(chat, HEAD, "/report 巡查发现6栋楼道堆放杂物")
    row = await bot.db.fetchone("SELECT source FROM tickets WHERE id = 1")
    assert row is not None and row[0] == "patrol"
    reply = await bot.says(chat, RESIDENT, "/log 我也想写")
    assert "仅限本网格的网格长和网格员" in reply.text_in(chat)


async def duty_bot(tmp_path: Path, clock: FakeClock) -> OfflineBot:
    bot = OfflineBot(
        tmp_path / "duty.db",
        staff=(STAFF,),
        clock=clock,
        settings={
            "escalation": {"community": DUTY_COMMUNITY, "street": DUTY_STREET},
        },
    )
    await bot.start()
    for uid, name in (
        (STAFF, "小李"),
        (HEAD, "王网格长"),
        (RESIDENT, "张阿姨"),
        (DUTY_OFFICER, "社区值班员"),
    ):
        bot.person(uid, name)
    for duty_chat in (DUTY_COMMUNITY, DUTY_STREET):
        bot.emulator.create_group("值班群", chat_id=duty_chat)
        bot.emulator.chat(duty_chat).bot_status = "member"
    return bot


async def test_escalation_posts_to_the_duty_chat_where_duty_staff_claim(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await duty_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        await reported(bot, chat, "马路上的窨井盖碎了 一个大洞")
        reply = await bot.says(chat, HEAD, "/escalate 1")
        assert "请写明上报原因" in reply.text_in(chat)
        reply = await bot.says(chat, HEAD, "/escalate 1 需要社区协调维修基金")
        assert "已上报到社区" in reply.text_in(chat)
        [card] = reply.in_chat(DUTY_COMMUNITY)
        assert "需要社区协调维修基金" in card["text"]
        assert await status_of(bot) == ("open", None, "community", None)
        # Someone without duty is refused in the duty chat; appointed duty staff may claim.
        await bot.says(DUTY_COMMUNITY, DUTY_OFFICER, "我今天值班")
        refused = await bot.presses(
            DUTY_COMMUNITY, card["message_id"], DUTY_OFFICER, button(card, "认领")
        )
        assert refused.answer is not None and "仅限有权限的工作人员" in refused.answer["text"]
        await bot.says(
            DUTY_COMMUNITY, STAFF, "/duty community", reply_to=bot.last_message_id(DUTY_COMMUNITY)
        )
        claimed = await bot.presses(
            DUTY_COMMUNITY, card["message_id"], DUTY_OFFICER, button(card, "认领")
        )
        assert claimed.answer is not None and "已认领" in claimed.answer["text"]
        assert await status_of(bot) == ("claimed", None, "community", DUTY_OFFICER)
        assert "已由 社区值班员 认领" in claimed.text_in(chat)
    finally:
        await bot.stop()


async def test_deadlines_remind_then_escalate_and_survive_a_restart(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await duty_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        bot.emulator.private_chat_started(HEAD)
        await reported(bot, chat, "3栋电梯困人了 快来")  # emergency: claim within 10 minutes
        reminded = await bot.advance(timedelta(minutes=8, seconds=5))
        assert "还没有人认领" in reminded.text_in(HEAD)
        assert await status_of(bot) == ("open", None, "grid", None)
        # The bot restarts before the deadline; the pending escalation must still happen once.
        await bot.restart()
        escalated = await bot.advance(timedelta(minutes=2))
        assert "超过时限，自动督办" in escalated.text_in(chat)
        assert "超时自动督办" in escalated.text_in(DUTY_COMMUNITY)
        assert await status_of(bot) == ("open", None, "community", None)
        again = await bot.advance(timedelta(seconds=30))
        assert again.messages == []
        await bot.restart()
        assert await bot.advance(timedelta(seconds=1)) is not None
        assert (await events_of(bot)).count("escalated_auto") == 1
        # Ten more minutes unclaimed at community level: up to street.
        await bot.advance(timedelta(minutes=10))
        assert await status_of(bot) == ("open", None, "street", None)
    finally:
        await bot.stop()


async def test_missed_deadlines_fire_late_once_after_downtime(
    tmp_path: Path, clock: FakeClock
) -> None:
    bot = await duty_bot(tmp_path, clock)
    try:
        chat = await bound_grid(bot)
        await reported(bot, chat, "5栋楼道有烟 好像着火了")
        application = bot.application
        assert application is not None
        await bot._stop_application()  # down for an hour
        clock.advance(timedelta(hours=1))
        await bot._start_application()  # start-up fires what fell due, late, once
        await bot.settle()
        row = await bot.db.fetchone(
            "SELECT COUNT(*) FROM ticket_events WHERE ticket_id = 1 AND kind = 'escalated_auto'"
        )
        assert row is not None and row[0] == 1
        assert (await status_of(bot))[2] == "community"
    finally:
        await bot.stop()


async def test_unanswered_verification_closes_by_timeout(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat)
    await bot.says(chat, HEAD, "/close 1 已修")
    await bot.advance(timedelta(hours=47))
    assert (await status_of(bot))[0] == "resolved"
    closed = await bot.advance(timedelta(hours=1, seconds=1))
    assert "按期限自动确认关闭" in closed.text_in(chat)
    assert await status_of(bot) == ("closed", "confirmed_by_timeout", "grid", HEAD)


async def test_daily_digest_reaches_heads(bot: OfflineBot, clock: FakeClock) -> None:
    chat = await bound_grid(bot)
    bot.emulator.private_chat_started(HEAD)
    await reported(bot, chat, "小区门口路灯不亮")
    await bot.says(chat, HEAD, "/claim 1")
    # The fake clock starts at 09:00 Shanghai; the next digest is 08:30 tomorrow.
    nothing = await bot.advance(timedelta(hours=23))
    assert "每日简报" not in nothing.text_in(HEAD)
    digest = await bot.advance(timedelta(minutes=31))
    text = digest.text_in(HEAD)
    assert "网格 G01 幸福里第一网格 每日简报" in text and "待办 1 件" in text
    assert "王网格长 处理中 1 件" in text
    # One digest a day, and tomorrow's is already scheduled.
    assert (await bot.advance(timedelta(hours=1))).text_in(HEAD) == ""
    tomorrow = await bot.advance(timedelta(hours=23))
    assert "每日简报" in tomorrow.text_in(HEAD)


async def test_close_with_a_photo_as_proof(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat)
    reply = await bot.says(chat, HEAD, None, photo=True, caption="/close 1 已换灯，见照片")
    assert "已办结：已换灯，见照片" in reply.text_in(chat)
    attachments = await bot.runtime.services.loop.attachments(1)
    assert [a.kind for a in attachments] == ["photo"]
    assert len(await bot.db.fetchall("SELECT id FROM tickets")) == 1


def ticket_reads(bot: OfflineBot) -> list[str]:
    """Every read of a whole ticket row from now on (the statements SQLite runs)."""
    if bot.db.dialect.name != "sqlite":
        pytest.skip("counts statements in SQLite's trace")
    reads: list[str] = []

    def seen(sql: str) -> None:
        if sql.lstrip().startswith("SELECT id, grid_id, reporter_id") and "FROM tickets" in sql:
            reads.append(sql)

    bot.db._conn.set_trace_callback(seen)
    return reads


async def test_claim_reads_the_ticket_once(bot: OfflineBot) -> None:
    """/claim: the ticket is read once, checked, and changed by one conditional UPDATE that
    returns it (it used to be read four times)."""
    chat = await bound_grid(bot)
    await reported(bot, chat)
    reads = ticket_reads(bot)
    reply = await bot.says(chat, HEAD, "/claim 1")
    bot.db._conn.set_trace_callback(None)
    assert "已由 王网格长 认领" in reply.text_in(chat)
    assert len(reads) == 1, reads
    assert await status_of(bot) == ("claimed", None, "grid", HEAD)


async def test_not_solved_and_the_reopening_commit_together(bot: OfflineBot) -> None:
    """A resident's "not solved" is recorded only with the reopening it causes: when the
    reopening fails, the answer is not kept either (one unit of work)."""
    chat = await bound_grid(bot)
    await reported(bot, chat)
    await bot.says(chat, HEAD, "/claim 1")
    ask = (await bot.says(chat, HEAD, "/close 1 修好了")).in_chat(chat)[-1]
    tickets = bot.storage.tickets
    real_transition = tickets.transition

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the disk is full")

    tickets.transition = broken  # type: ignore[method-assign]
    try:
        await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "未解决"))
    finally:
        tickets.transition = real_transition  # type: ignore[method-assign]
    row = await bot.db.fetchone("SELECT solved, answered_at FROM ticket_verifications")
    assert row is not None and row["solved"] is None and row["answered_at"] is None
    assert await status_of(bot) == ("resolved", None, "grid", HEAD)
    # Pressed again once the disk has room: answered and reopened, together.
    await bot.presses(chat, ask["message_id"], RESIDENT, button(ask, "未解决"))
    row = await bot.db.fetchone("SELECT solved FROM ticket_verifications")
    assert row is not None and row["solved"] == 0
    assert await status_of(bot) == ("reopened", None, "grid", HEAD)
