"""Residents write as they always do; requests become tickets, chatter is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.tickets import Closure, TicketStatus
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, OTHER_HEAD, RESIDENT, STAFF, WORKER, bound_grid

# The storage conformance suite: the request path runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends


async def tickets_of(bot: OfflineBot) -> list[tuple[int, str, str, str | None, str]]:
    rows = await bot.db.fetchall(
        "SELECT id, category, urgency, building, status FROM tickets ORDER BY id"
    )
    return [(r["id"], r["category"], r["urgency"], r["building"], r["status"]) for r in rows]


async def test_a_request_becomes_a_ticket_with_a_short_acknowledgement(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    reply = await bot.says(chat, RESIDENT, "3栋2单元502 楼道灯坏了好几天了")
    [ack] = reply.in_chat(chat)
    assert "已登记 #1" in ack["text"] and "物业管理" in ack["text"]
    assert "3栋2单元502" in ack["text"]
    assert ack["reply_to_message"]["text"].startswith("3栋2单元502")
    buttons = [b["text"] for b in ack["reply_markup"]["inline_keyboard"][0]]
    assert buttons == ["不是报事", "我也遇到 +1"]
    assert await tickets_of(bot) == [(1, "property", "normal", "3", "open")]
    row = await bot.db.fetchone("SELECT reporter_id, unit, room FROM tickets")
    assert row is not None and tuple(row) == (RESIDENT, "2", "502")


async def test_chit_chat_thanks_and_notices_make_nothing(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    for text in (
        "收到",
        "谢谢网格员 路灯已经亮了",
        "今天广场舞好开心",
        "明天停水大家注意储水",
        "+1",
        "👍",
        "【通知】3栋周五停电检修",
    ):
        reply = await bot.says(chat, NEIGHBOUR, text)
        assert reply.messages == [], text
    assert await tickets_of(bot) == []


async def test_a_redelivered_update_never_makes_a_second_ticket(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    message = bot.emulator.post_message(chat, RESIDENT, "5号楼门口的下水道堵了 臭死了")
    await bot.settle()
    mark = bot.emulator.mark()
    bot.emulator.redeliver(message)  # what Telegram does after a crash
    await bot.settle()
    assert len(await tickets_of(bot)) == 1
    assert bot.emulator.bot_messages_since(mark) == []  # acknowledged once, not again


async def test_the_same_problem_again_becomes_a_plus_one(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "3栋电梯又坏了 老人下不了楼")
    reply = await bot.says(chat, NEIGHBOUR, "3栋的电梯坏了好几天了 没人管吗")
    assert "已在 #1 登记" in reply.text_in(chat) and "共 2 人反映" in reply.text_in(chat)
    assert len(await tickets_of(bot)) == 1
    # Another building is another problem.
    await bot.says(chat, NEIGHBOUR, "5栋电梯也坏了")
    assert len(await tickets_of(bot)) == 2


async def test_plus_one_button_and_not_a_request_button(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    ack = (await bot.says(chat, RESIDENT, "小区门口路灯不亮 晚上黑漆漆的")).in_chat(chat)[0]
    data_follow = ack["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    data_cancel = ack["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    pressed = await bot.presses(chat, ack["message_id"], NEIGHBOUR, data_follow)
    assert pressed.answer is not None and "共 2 人" in pressed.answer["text"]
    button = bot.emulator.message(chat, ack["message_id"])["reply_markup"]["inline_keyboard"][0][1]
    assert button["text"] == "我也遇到 +1（1）"
    again = await bot.presses(chat, ack["message_id"], NEIGHBOUR, data_follow)
    assert again.answer is not None and "已经 +1 过" in again.answer["text"]
    own = await bot.presses(chat, ack["message_id"], RESIDENT, data_follow)
    assert own.answer is not None and "就是您报的" in own.answer["text"]
    # A neighbour may not withdraw someone else's report; the reporter may.
    refused = await bot.presses(chat, ack["message_id"], NEIGHBOUR, data_cancel)
    assert refused.answer is not None and "只有报事人" in refused.answer["text"]
    assert (await tickets_of(bot))[0][4] == "open"
    await bot.presses(chat, ack["message_id"], RESIDENT, data_cancel)
    assert "已撤销" in bot.emulator.message(chat, ack["message_id"])["text"]
    ticket = await bot.runtime.services.loop.ticket(1)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED
    assert ticket.closure is Closure.NOT_A_REQUEST


async def test_forged_button_data_is_refused(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    first = (await bot.says(chat, RESIDENT, "3栋楼道堆满杂物 堵了消防通道")).in_chat(chat)[0]
    await bot.says(chat, NEIGHBOUR, "7栋门口窨井盖丢了 很危险")
    # Button data naming ticket #2 pressed under ticket #1's message.
    forged = await bot.presses(chat, first["message_id"], NEIGHBOUR, "t:nr:2", check=False)
    assert forged.answer is not None and "按钮已失效" in forged.answer["text"]
    assert [t[4] for t in await tickets_of(bot)] == ["open", "open"]


async def test_an_emergency_alerts_group_heads_privately_and_duty_chat(tmp_path: Path) -> None:
    duty = -100_900
    async with OfflineBot(
        tmp_path / "e.db", staff=(STAFF,), settings={"escalation": {"community": duty}}
    ) as bot:
        for uid, name in (
            (STAFF, "小李"),
            (HEAD, "王网格长"),
            (RESIDENT, "张阿姨"),
            (WORKER, "赵网格员"),
        ):
            bot.person(uid, name)
        bot.emulator.create_group("社区值班群", chat_id=duty)
        bot.emulator.chat(duty).bot_status = "member"
        chat = await bound_grid(bot)
        bot.emulator.private_chat_started(HEAD)
        reply = await bot.says(chat, RESIDENT, "3栋2单元电梯困人了！！快来人")
        group_text = reply.text_in(chat)
        assert "紧急事件" in group_text and "王网格长" in group_text and "10分钟内" in group_text
        assert len(reply.in_chat(chat)) == 1  # the alert is the acknowledgement
        mentions = [e for e in reply.in_chat(chat)[0]["entities"] if e["type"] == "text_mention"]
        assert [e["user"]["id"] for e in mentions] == [HEAD]
        assert "紧急事件" in reply.text_in(HEAD)
        assert "社区值班" in reply.text_in(duty)
        row = await bot.db.fetchone("SELECT urgency FROM tickets")
        assert row is not None and row[0] == "emergency"


async def test_a_head_who_never_started_a_private_chat_is_still_alerted_in_the_group(
    bot: OfflineBot,
) -> None:
    chat = await bound_grid(bot)
    reply = await bot.says(chat, RESIDENT, "楼道着火了 冒烟了")
    assert "王网格长" in reply.text_in(chat)
    assert reply.in_chat(HEAD) == []
    refused = [c for c in bot.emulator.calls_to("sendMessage") if c.params.get("chat_id") == HEAD]
    assert refused and not refused[-1].ok
    whoami = await bot.says(chat, HEAD, "/whoami")
    assert "还没有私聊过我" in whoami.text_in(chat)


async def test_explicit_report_and_report_as_reply(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "今天小区里好多人")  # not a request
    reply = await bot.says(chat, HEAD, "/report", reply_to=bot.last_message_id(chat))
    assert "已登记 #1" in reply.text_in(chat)
    reply = await bot.says(chat, NEIGHBOUR, "/report 想问一下社区的活动室几点开门")
    assert "已登记 #2" in reply.text_in(chat)
    row = await bot.db.fetchone("SELECT reporter_id, source FROM tickets WHERE id = 1")
    assert row is not None and tuple(row) == (RESIDENT, "command")
    reply = await bot.says(chat, NEIGHBOUR, "/report")
    assert "用法：/report" in reply.text_in(chat)
    # The same message filed twice is the same ticket.
    original = next(
        m for m in bot.emulator.chat(chat).messages.values() if m.get("text") == "今天小区里好多人"
    )
    reply = await bot.says(chat, HEAD, "/report", reply_to=original["message_id"])
    assert "已登记为 #1" in reply.text_in(chat)


async def test_category_fix_by_head_refused_for_others(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "楼下有人占道摆摊 车都过不去")
    reply = await bot.says(chat, HEAD, "/category 1 municipal")
    assert "分类已改为：市政设施" in reply.text_in(chat)
    reply = await bot.says(chat, RESIDENT, "/category 1 order")
    assert "仅限本网格的网格长和网格员" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/category 1 parking")
    assert "没有分类“parking”" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/category 99 order")
    assert "找不到工单 #99" in reply.text_in(chat)
    reply = await bot.says(chat, HEAD, "/category abc order")
    assert "不是工单号" in reply.text_in(chat)
    assert (await tickets_of(bot))[0][1] == "municipal"


async def test_head_of_another_grid_cannot_touch_this_grids_tickets(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    other = await bound_grid(bot, "G02", "第二网格", head=OTHER_HEAD)
    await bot.says(chat, RESIDENT, "路灯坏了 莫得人管哦")
    reply = await bot.says(other, OTHER_HEAD, "/category 1 order")
    assert "#1 不属于您负责的网格" in reply.text_in(other)  # a group speaks its grid's language
    reply = await bot.says(other, OTHER_HEAD, "/status 1")
    assert "找不到工单 #1" in reply.text_in(other)
    reply = await bot.says_privately(OTHER_HEAD, "/status 1")
    assert "No ticket #1" in reply.text_in(OTHER_HEAD)  # privately, their own language


async def test_photo_with_caption_and_location_reply_attach(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    reply = await bot.says(chat, RESIDENT, None, photo=True, caption="2栋后面垃圾堆了一个星期了 臭")
    ack = reply.in_chat(chat)[0]
    assert "环境卫生" in ack["text"]
    reply = await bot.says(
        chat, RESIDENT, None, location=(31.23, 121.47), reply_to=ack["message_id"]
    )
    assert "已把位置加到 #1" in reply.text_in(chat)
    reply = await bot.says(chat, NEIGHBOUR, None, photo=True, reply_to=ack["message_id"])
    assert "已把照片加到 #1" in reply.text_in(chat)
    kinds = [a.kind for a in await bot.runtime.services.loop.attachments(1)]
    assert kinds == ["photo", "location", "photo"]


async def test_edited_report_updates_the_open_ticket(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    message = bot.emulator.post_message(chat, RESIDENT, "电梯坏了")
    await bot.settle()
    await bot.edits(chat, message["message_id"], "8栋电梯坏了 有人被困在里面")
    assert await tickets_of(bot) == [(1, "property", "emergency", "8", "open")]
    ack = bot.emulator.last_bot_message(chat)
    assert ack is not None and "8栋" in ack["text"]


async def test_non_text_messages_make_nothing_and_private_gets_a_polite_reply(
    bot: OfflineBot,
) -> None:
    chat = await bound_grid(bot)
    for kwargs in ({"sticker": True}, {"voice": 3}, {"photo": True}):
        assert (await bot.says(chat, RESIDENT, None, **kwargs)).messages == []
    bot.emulator.private_chat_started(RESIDENT)
    reply = await bot.says(RESIDENT, RESIDENT, None, voice=5)
    assert "我只能处理文字" in reply.text_in(RESIDENT)
    assert await tickets_of(bot) == []


async def test_private_reporting_is_never_echoed_in_the_group(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    other = await bound_grid(bot, "G02", "第二网格", head=OTHER_HEAD)
    # Someone the bot has never seen in a grid is asked to use the group's link.
    reply = await bot.says_privately(RESIDENT, "隔壁天天吵架 很担心")
    assert "还不知道您住在哪个网格" in reply.text_in(RESIDENT)
    await bot.says(chat, RESIDENT, "大家早")
    await bot.says(other, RESIDENT, "大家好")
    reply = await bot.says_privately(RESIDENT, "隔壁天天吵架 很担心")
    ask = reply.in_chat(RESIDENT)[0]
    assert "哪个网格" in ask["text"]
    options = ask["reply_markup"]["inline_keyboard"]
    g01 = [row[0] for row in options if row[0]["text"].startswith("G01")][0]
    await bot.presses(RESIDENT, ask["message_id"], RESIDENT, g01["callback_data"])
    reply = await bot.says_privately(RESIDENT, "隔壁天天吵架 很担心 怕出事")
    assert "已私下登记 #1" in reply.text_in(RESIDENT)
    assert reply.in_chat(chat) == [] and reply.in_chat(other) == []
    status = await bot.says(chat, RESIDENT, "/status 1")
    assert "私下反映" in status.text_in(chat)
    mine = await bot.says(chat, RESIDENT, "/my")
    assert "隔壁" not in mine.text_in(chat)
    mine = await bot.says_privately(RESIDENT, "/my")
    assert "隔壁" in mine.text_in(RESIDENT)


async def test_deep_link_names_the_grid(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    start = await bot.says(chat, RESIDENT, "/start")
    link = [e for e in start.in_chat(chat)[0]["entities"] if e["type"] == "text_link"][0]
    assert link["url"].endswith("?start=g_G01")
    reply = await bot.says_privately(NEIGHBOUR, "/start g_G01")
    assert "网格 G01" in reply.text_in(NEIGHBOUR)
    reply = await bot.says_privately(NEIGHBOUR, "楼上漏水 天花板都湿了")
    assert "已私下登记 #1" in reply.text_in(NEIGHBOUR)
    reply = await bot.says_privately(NEIGHBOUR, "/start g_NOPE")
    assert "没有代码为“NOPE”的网格" in reply.text_in(NEIGHBOUR)


async def test_dispute_in_the_group_suggests_continuing_privately(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    reply = await bot.says(chat, RESIDENT, "楼上邻居和我家因为漏水的事吵起来了 协调一下吧")
    text = reply.text_in(chat)
    assert "已登记" in text and "私信我" in text


async def test_my_and_status(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "3栋门禁坏了 进不去")
    mine = await bot.says(chat, RESIDENT, "/my")
    assert "#1" in mine.text_in(chat) and "待认领" in mine.text_in(chat)
    status = await bot.says(chat, RESIDENT, "/status #1")
    assert "状态：待认领" in status.text_in(chat)
    status = await bot.says(chat, NEIGHBOUR, "/status 1")
    assert "找不到工单 #1" in status.text_in(chat)
    status = await bot.says(chat, RESIDENT, "/status")
    assert "不是工单号" in status.text_in(chat)


async def test_rate_limit_and_long_text(tmp_path: Path) -> None:
    async with OfflineBot(
        tmp_path / "r.db", staff=(STAFF,), settings={"intake": {"max_tickets_per_hour": 2}}
    ) as bot:
        for uid, name in ((STAFF, "小李"), (HEAD, "王"), (RESIDENT, "张阿姨")):
            bot.person(uid, name)
        chat = await bound_grid(bot)
        await bot.says(chat, RESIDENT, "1栋电梯坏了")
        long_text = "4栋楼道灯坏了，" + "真的很黑很危险，" * 400
        reply = await bot.says(chat, RESIDENT, long_text[:4000])
        assert "已登记 #2" in reply.text_in(chat)
        row = await bot.db.fetchone("SELECT length(text) FROM tickets WHERE id = 2")
        assert row is not None and row[0] == len(long_text[:4000].strip())
        reply = await bot.says(chat, RESIDENT, "9栋下水道堵了")
        assert "一小时内已反映了 2 个问题" in reply.text_in(chat)
        assert len(await bot.db.fetchall("SELECT id FROM tickets")) == 2


async def test_reaction_mode_only_reacts(tmp_path: Path) -> None:
    async with OfflineBot(
        tmp_path / "a.db", staff=(STAFF,), settings={"intake": {"acknowledge": "reaction"}}
    ) as bot:
        for uid, name in ((STAFF, "小李"), (HEAD, "王"), (RESIDENT, "张阿姨")):
            bot.person(uid, name)
        chat = await bound_grid(bot)
        message = bot.emulator.post_message(chat, RESIDENT, "2栋门口的路灯坏了")
        mark = bot.emulator.mark()
        await bot.settle()
        assert bot.emulator.bot_messages_since(mark) == []
        assert bot.emulator.reactions(chat, message["message_id"])[0]["emoji"] == "✍"


async def test_a_burst_is_handled_in_order_within_each_chat(bot: OfflineBot) -> None:
    """Chats are handled side by side ([bot] concurrent_chats), each one in order."""
    first = await bound_grid(bot)
    second = await bound_grid(bot, "G02", "幸福里第二网格", head=None)
    mark = len(bot.emulator.calls)
    # Telegram is slow to answer the first acknowledgement in the first chat.
    bot.emulator.inject_fault("sendMessage", kind="slow", delay=0.5, chat_id=first)
    # All posted before the bot takes any: one getUpdates batch.
    bot.emulator.post_message(first, RESIDENT, "3栋电梯又坏了 老人下不了楼")
    bot.emulator.post_message(first, NEIGHBOUR, "3栋的电梯坏了好几天了 没人管吗")
    bot.emulator.post_message(second, RESIDENT, "7栋楼道灯坏了")
    await bot.settle()
    sends = [
        (c.params["chat_id"], c.time)
        for c in bot.emulator.calls[mark:]
        if c.method == "sendMessage"
    ]
    [(_, ack_first), (_, plus_one)] = [s for s in sends if int(s[0]) == first]
    [(_, ack_second)] = [s for s in sends if int(s[0]) == second]
    # The other chat did not wait for the slow answer; this chat's next message did.
    assert ack_second < ack_first + 0.4
    assert plus_one >= ack_first + 0.5
    rows = await bot.db.fetchall(
        "SELECT t.reporter_id, t.followers, g.code FROM tickets t "
        "JOIN grids g ON g.id = t.grid_id ORDER BY g.code"
    )
    assert [(r["code"], r["reporter_id"], r["followers"]) for r in rows] == [
        ("G01", RESIDENT, 1),
        ("G02", RESIDENT, 0),
    ]
