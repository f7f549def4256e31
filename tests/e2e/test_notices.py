"""Staff broadcast notices to grids: preview, confirm, deliver per grid, report, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import FakeClock
from bot.emulator import JSONDict
from bot.offline import Exchange, OfflineBot
from tests.e2e.conftest import HEAD, OTHER_HEAD, RESIDENT, STAFF, bound_grid

# The storage conformance suite: these run on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

TEMPLATE = (
    "各位{{ grid.name }}的居民：本周六上午停水。\n"
    "网格长：{{ heads|map(attribute='name')|join('、') or '暂无' }}，"
    "未办结 {{ open_tickets }} 件（{{ today }}）"
)


async def grids(bot: OfflineBot, count: int = 3) -> dict[str, int]:
    """G01 (head 王网格长), G02 (head 陈网格长), G03 … (no head): code → chat id."""
    heads = {"G01": HEAD, "G02": OTHER_HEAD}
    chats = {}
    for n in range(1, count + 1):
        code = f"G{n:02d}"
        chats[code] = await bound_grid(bot, code, f"第{n}网格", head=heads.get(code))
    return chats


async def quick_grids(bot: OfflineBot, *codes: str) -> dict[str, int]:
    """Grids straight into the emulator and the database, without the /bind chatter."""
    services = bot.runtime.services
    chats = {}
    async with bot.storage.unit_of_work() as uow:
        for code in codes:
            chat = bot.emulator.create_group(f"{code}网格群")["id"]
            bot.emulator.chat(chat).bot_status = "member"
            await uow.grids.create(
                code=code,
                name=f"{code}网格",
                chat_id=chat,
                chat_title=None,
                now=services.clock.now(),
            )
            chats[code] = chat
    return chats


def button(message: JSONDict, label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"].endswith(label):
                return str(b["callback_data"])
    raise AssertionError(f"no button {label!r}")


async def schedule(
    bot: OfflineBot, command: str, text: str = TEMPLATE
) -> tuple[Exchange, JSONDict]:
    """Staff send /notice privately; the preview and the message holding the buttons."""
    exchange = await bot.says_privately(STAFF, f"{command}\n{text}" if text else command)
    with_buttons = [m for m in exchange.in_chat(STAFF) if m.get("reply_markup")]
    assert with_buttons, exchange.text_in(STAFF)
    return exchange, with_buttons[0]


async def confirmed(bot: OfflineBot, command: str, text: str = TEMPLATE) -> Exchange:
    _preview, asking = await schedule(bot, command, text)
    return await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))


def text_of(bot: OfflineBot, chat: int, message_id: int) -> str:
    message = bot.emulator.message(chat, message_id)
    assert message is not None
    return str(message.get("text", ""))


def notices_in(bot: OfflineBot, chat: int, needle: str = "停水") -> list[str]:
    return [
        m.get("text", "")
        for m in bot.emulator.messages_in(chat)
        if m["from"]["is_bot"] and needle in m.get("text", "")
    ]


async def rows(bot: OfflineBot, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await bot.db.fetchall(sql, params)]


async def notice_timers(bot: OfflineBot) -> list[datetime]:
    return [t.due_at for t in await bot.runtime.services.timers.pending("notice.")]


async def test_now_to_all_grids_preview_confirm_deliver_and_report(bot: OfflineBot) -> None:
    chats = await grids(bot)
    preview, asking = await schedule(bot, "/notice now all")
    shown = preview.text_in(STAFF)
    assert "各位第1网格的居民" in shown and "网格长：王网格长" in shown  # rendered for G01
    assert "共 3 个网格" in shown and "按“确认”后立即发送" in shown
    assert all(notices_in(bot, chat) == [] for chat in chats.values())  # nothing sent yet
    assert await notice_timers(bot) == []

    done = await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    assert "已确认：通知 #1" in text_of(bot, STAFF, asking["message_id"])
    assert notices_in(bot, chats["G01"]) == [
        "各位第1网格的居民：本周六上午停水。\n网格长：王网格长，未办结 0 件（2026-11-23）"
    ]
    assert "网格长：陈网格长" in notices_in(bot, chats["G02"])[0]
    assert "网格长：暂无" in notices_in(bot, chats["G03"])[0]
    assert "通知 #1 发送报告" in done.text_in(STAFF) and "送达 3 个网格" in done.text_in(STAFF)
    # One delivery per grid, each with the message id it got.
    delivered = await rows(
        bot,
        "SELECT d.status, d.chat_id, d.message_id, g.code "
        "FROM notice_deliveries d JOIN grids g ON g.id = d.grid_id "
        "ORDER BY g.code",
    )
    for status, chat, message_id, code in delivered:
        assert status == "sent" and chat == chats[code]
        assert "停水" in text_of(bot, chat, message_id)
    assert len(delivered) == 3


async def test_cancel_under_the_preview_schedules_nothing(bot: OfflineBot) -> None:
    await grids(bot, 1)
    _preview, asking = await schedule(bot, "/notice 明天 9:00 all")
    await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "取消"))
    assert "不会发送" in text_of(bot, STAFF, asking["message_id"])
    assert await rows(bot, "SELECT status FROM notices") == [("discarded",)]
    assert await notice_timers(bot) == []
    # The confirm button of a discarded draft does nothing.
    again = await bot.presses(STAFF, asking["message_id"], STAFF, "n:ok:1", check=False)
    assert again.answer is not None and "按钮已失效" in again.answer["text"]
    assert await notice_timers(bot) == []


async def test_only_staff_in_private_may_schedule_or_confirm(bot: OfflineBot) -> None:
    chats = await grids(bot, 1)
    refused = await bot.says_privately(RESIDENT, f"/notice now all\n{TEMPLATE}")
    assert "仅限街道工作人员使用" in refused.text_in(RESIDENT)
    in_group = await bot.says(chats["G01"], STAFF, f"/notice now all\n{TEMPLATE}")
    assert "请在与我的私聊中使用" in in_group.text_in(chats["G01"])
    for command in ("/notices", "/notice_show 1", "/notice_cancel 1"):
        assert "仅限街道工作人员使用" in (await bot.says_privately(HEAD, command)).text_in(HEAD)
    _preview, asking = await schedule(bot, "/notice now all")
    pressed = await bot.presses(
        STAFF, asking["message_id"], RESIDENT, button(asking, "确认"), check=False
    )
    assert pressed.answer is not None and "仅限有权限的工作人员" in pressed.answer["text"]
    assert await rows(bot, "SELECT status FROM notices") == [("draft",)]
    assert notices_in(bot, chats["G01"]) == []


MISTAKES = [
    ("/notice 下周 all", TEMPLATE, "看不懂时间“下周"),
    ("/notice 每周八 9点 all", TEMPLATE, "星期“八”不对"),
    ("/notice 2020-01-01 09:00 all", TEMPLATE, "2020-01-01 09:00 已经过去了"),
    ("/notice cron 0 9 * * 9 all", TEMPLATE, "cron 表达式“0 9 * * 9”无效"),
    ("/notice 明天 25:00 all", TEMPLATE, "时刻“25:00”不对"),
    ("/notice 明天 9:00 至 2027-01-01 all", TEMPLATE, "只有重复发送的通知才能设结束日期"),
    ("/notice 每天 9:00 至 2026-11-01 all", TEMPLATE, "已经没有发送时间了"),
    ("/notice 明天 9:00", TEMPLATE, "请写上发送对象"),
    ("/notice now all G01", TEMPLATE, "all 已包含全部网格"),
    ("/notice now G09", TEMPLATE, "没有代码为“G09”的网格"),
    ("/notice now tag:老旧小区", TEMPLATE, "没有可以送达的网格（没有可送达的网格带标签 老旧小区）"),
    ("/notice now all", "", "请从命令的下一行起写通知内容"),
    ("/notice", "", "用法：/notice 时间 对象"),
    ("/notice now all", "{% if open_tickets %}有待办", "第 1 行的模板写法有误"),
    ("/notice now all", "{{ grid.nmae }}", "无法为网格 G01 生成：'dict object' has no attribute"),
    ("/notice now all", "{{ ''.__class__.__mro__ }}", "access to attribute '__class__'"),
    ("/notice now all", "{{ config }}", "'config' is undefined"),
    ("/notice now all", "{{ grid.items() }}", "notices cannot call functions"),
    # Renders for G01 (it has a head) but not for G02: every target is checked.
    ("/notice now all", "{{ heads[0].name }} 你好", "通知无法为网格 G02 生成"),
    ("/notice now all", "{{ grid.name }}" + "长" * 4100, "超过 Telegram 每条 4096 字的上限"),
]


async def test_mistakes_are_reported_when_scheduling_and_nothing_is_stored(
    bot: OfflineBot,
) -> None:
    await grids(bot, 1)
    await quick_grids(bot, "G02")
    for command, text, expected in MISTAKES:
        reply = await bot.says_privately(STAFF, f"{command}\n{text}" if text else command)
        assert expected in reply.text_in(STAFF), (command, text, reply.text_in(STAFF))
        assert not any(m.get("reply_markup") for m in reply.messages), command
    assert await rows(bot, "SELECT id FROM notices") == []
    assert await notice_timers(bot) == []


@pytest.mark.parametrize(
    ("when", "first_run", "describe"),
    [
        # The clock stands at Monday 2026-11-23 09:00 in Shanghai (01:00 UTC).
        ("明天 9:00", datetime(2026, 11, 24, 1, 0, tzinfo=UTC), "2026-11-24（周二）09:00"),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 1, 0, tzinfo=UTC), "2026-12-01（周二）09:00"),
        (
            "每周一 09:00 至 2027-01-31",
            datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
            "每周一 09:00（至 2027-01-31）",
        ),
        ("every day 08:30", datetime(2026, 11, 24, 0, 30, tzinfo=UTC), "每天 08:30"),
        ("每月1日 09:00", datetime(2026, 12, 1, 1, 0, tzinfo=UTC), "每月1日 09:00"),
        ("cron 0 9 * * 1-5", datetime(2026, 11, 24, 1, 0, tzinfo=UTC), "工作日 09:00"),
    ],
)
async def test_each_form_of_when_schedules_its_first_run(
    bot: OfflineBot,
    when: str,
    first_run: datetime,
    describe: str,
) -> None:
    await quick_grids(bot, "G01")
    preview, asking = await schedule(bot, f"/notice {when} all")
    assert f"时间：{describe}" in preview.text_in(STAFF)
    local = first_run.astimezone(bot.runtime.services.notices.settings.tz)
    assert f"接下来：{local:%Y-%m-%d %H:%M}" in preview.text_in(STAFF)
    await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    assert await notice_timers(bot) == [first_run]
    listing = (await bot.says_privately(STAFF, "/notices")).text_in(STAFF)
    assert f"#1 已安排 · {describe} → 全部网格" in listing
    assert f"下次 {local:%Y-%m-%d %H:%M}" in listing


async def test_the_list_shows_what_residents_read_not_the_template(bot: OfflineBot) -> None:
    await quick_grids(bot, "G01", "G02")
    _preview, asking = await schedule(
        bot, "/notice 每周一 09:00 G02", "{{ grid.code }}的居民：周六停水"
    )
    await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    listing = (await bot.says_privately(STAFF, "/notices")).text_in(STAFF)
    assert "G02的居民：周六停水" in listing
    assert "{{" not in listing and "grid.code" not in listing


async def test_targets_by_code_and_by_tag(bot: OfflineBot) -> None:
    chats = await quick_grids(bot, "G01", "G02", "G03")
    await bot.says_privately(STAFF, "/tags G02 幸福社区")
    await bot.says_privately(STAFF, "/tags G03 幸福社区 老旧小区")
    done = await confirmed(bot, "/notice now tag:幸福社区", "停水通知：{{ grid.code }}")
    assert "送达 2 个网格" in done.text_in(STAFF)
    assert [len(notices_in(bot, chats[c])) for c in ("G01", "G02", "G03")] == [0, 1, 1]
    await confirmed(bot, "/notice now g01, G03", "停水通知：{{ grid.code }}")  # codes ignore case
    assert [len(notices_in(bot, chats[c])) for c in ("G01", "G02", "G03")] == [1, 1, 2]
    assert notices_in(bot, chats["G03"]) == ["停水通知：G03", "停水通知：G03"]


async def test_weekly_notice_runs_and_is_listed_shown_paused_resumed_cancelled(
    bot: OfflineBot,
    clock: FakeClock,
) -> None:
    chats = await quick_grids(bot, "G01", "G02")
    # Monday 2026-11-23 09:00 now; every Monday at 09:00 → first run next Monday.
    await confirmed(bot, "/notice 每周一 09:00 all", "消防安全提醒：{{ grid.name }} {{ today }}")
    assert await notice_timers(bot) == [datetime(2026, 11, 30, 1, 0, tzinfo=UTC)]
    ran = await bot.advance(timedelta(days=7))
    assert notices_in(bot, chats["G01"], "消防") == ["消防安全提醒：G01网格 2026-11-30"]
    report = ran.text_in(STAFF)
    assert "送达 2 个网格" in report and "下次发送：2026-12-07 09:00" in report
    assert await notice_timers(bot) == [datetime(2026, 12, 7, 1, 0, tzinfo=UTC)]

    shown = (await bot.says_privately(STAFF, "/notice_show 1")).text_in(STAFF)
    assert "通知 #1 · 已安排" in shown and "时间：每周一 09:00 · 下次 2026-12-07 09:00" in shown
    assert "消防安全提醒：{{ grid.name }}" in shown  # the text as written
    assert "2026-11-30 09:00 ✅ 送达 2/2" in shown

    paused = await bot.says_privately(STAFF, "/notice_pause 1")
    assert "已暂停" in paused.text_in(STAFF)
    assert await notice_timers(bot) == []
    assert "已暂停" in (await bot.says_privately(STAFF, "/notices")).text_in(STAFF)
    await bot.advance(timedelta(days=7))  # Dec 7 passes while paused
    assert len(notices_in(bot, chats["G01"], "消防")) == 1
    again = await bot.says_privately(STAFF, "/notice_pause 1")
    assert "目前已暂停，不能暂停或取消" in again.text_in(STAFF)

    resumed = await bot.says_privately(STAFF, "/notice_resume 1")
    assert "已恢复，下次发送：2026-12-14 09:00" in resumed.text_in(STAFF)
    assert await notice_timers(bot) == [datetime(2026, 12, 14, 1, 0, tzinfo=UTC)]

    cancelled = await bot.says_privately(STAFF, "/notice_cancel 1")
    assert "已取消，不会再发送" in cancelled.text_in(STAFF)
    assert await notice_timers(bot) == []
    await bot.advance(timedelta(days=7))
    assert len(notices_in(bot, chats["G01"], "消防")) == 1
    assert "已取消" in (await bot.says_privately(STAFF, "/notice_show 1")).text_in(STAFF)
    assert "没有编号为 #7" in (await bot.says_privately(STAFF, "/notice_show 7")).text_in(STAFF)
    assert "请写上通知编号" in (await bot.says_privately(STAFF, "/notice_show x")).text_in(STAFF)


async def test_runs_missed_while_down_go_out_late_within_grace_else_are_reported(
    bot: OfflineBot,
    clock: FakeClock,
) -> None:
    chats = await quick_grids(bot, "G01")
    await confirmed(bot, "/notice 明天 9:00 all", "停水：早的那条")
    await confirmed(bot, "/notice 明天 10:30 all", "停水：晚的那条")
    # The bot is down from now until tomorrow 10:45: the 09:00 run is 1h45 late (beyond
    # the 1h grace), the 10:30 one 15 minutes late.
    clock.set(datetime(2026, 11, 24, 2, 45, tzinfo=UTC))
    mark = bot.emulator.mark()
    await bot.restart()
    await bot.settle()
    told = "\n".join(
        m["text"] for m in bot.emulator.bot_messages_since(mark) if m["chat"]["id"] == STAFF
    )
    assert notices_in(bot, chats["G01"]) == ["停水：晚的那条"]
    assert "通知 #1 原定 2026-11-24 09:00 的发送错过了" in told and "1小时" in told
    assert "通知 #2 发送报告" in told
    assert await rows(bot, "SELECT notice_id, status FROM notice_runs ORDER BY notice_id") == [
        (1, "missed"),
        (2, "done"),
    ]
    shown = (await bot.says_privately(STAFF, "/notice_show 1")).text_in(STAFF)
    assert "2026-11-24 09:00 ⏭ 错过" in shown and "已结束" in shown


@pytest.fixture
async def tuned(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Any]:
    """OfflineBot(settings=…) for tests that change [notices] or [telegram] settings."""
    started: list[OfflineBot] = []

    async def start(**settings: dict[str, Any]) -> OfflineBot:
        offline = OfflineBot(tmp_path / "tuned.db", staff=(STAFF,), clock=clock, settings=settings)
        await offline.start()
        offline.person(STAFF, "街道小李", username="xiaoli")
        started.append(offline)
        return offline

    yield start
    for offline in started:
        await offline.stop()


async def test_a_restart_mid_run_resumes_without_sending_anything_twice(tuned: Any) -> None:
    bot = await tuned(notices={"parallel_sends": 1})
    chats = await quick_grids(bot, *(f"G{n:02d}" for n in range(1, 7)))
    _preview, asking = await schedule(bot, "/notice now all", "停水：{{ grid.code }}")
    # Every send takes 0.2 s; stop the bot while the third grid's is in flight.
    bot.emulator.inject_fault("sendMessage", kind="slow", delay=0.2, count=100)
    bot.emulator.press_button(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    third = chats["G03"]
    await bot.emulator.wait_for_call(
        "sendMessage", lambda call: call.params["chat_id"] == third, timeout=5
    )
    await bot.restart()
    before_restart = [
        c for c in bot.emulator.calls_to("sendMessage") if c.params["chat_id"] in chats.values()
    ]
    assert len(before_restart) < 6  # the run was cut short …
    await bot.settle()
    for code, chat in chats.items():  # … and resumed: every grid once, none twice
        assert notices_in(bot, chat) == [f"停水：{code}"], code
    assert await rows(bot, "SELECT status, COUNT(*) FROM notice_deliveries GROUP BY status") == [
        ("sent", 6),
    ]
    reports = [
        m
        for m in bot.emulator.messages_in(STAFF)
        if m.get("text", "").startswith("📣 通知 #1 发送报告")
    ]
    assert len(reports) == 1 and "送达 6 个网格" in reports[0]["text"]


async def test_a_kicked_bot_fails_that_grid_once_and_the_grid_goes_inactive(
    bot: OfflineBot,
) -> None:
    chats = await quick_grids(bot, "G01", "G02", "G03")
    bot.emulator.inject_fault("sendMessage", kind="403_kicked", chat_id=chats["G02"], count=5)
    done = await confirmed(bot, "/notice now all", "停水：{{ grid.code }}")
    assert "送达 2 个网格，❌ 失败 1 个" in done.text_in(STAFF)
    assert "G02 G02网格：机器人已被移出群" in done.text_in(STAFF)
    assert [c.params["chat_id"] for c in bot.emulator.calls_to("sendMessage")].count(
        chats["G02"]
    ) == 1  # no retry
    grid = await bot.runtime.services.grids.grid_for_chat(chats["G02"])
    assert grid is not None and not grid.active
    assert await rows(
        bot,
        "SELECT g.code, d.status, d.reason FROM notice_deliveries d "
        "JOIN grids g ON g.id = d.grid_id WHERE d.status = 'failed'",
    ) == [
        ("G02", "failed", "Forbidden: bot was kicked from the group chat"),
    ]


async def test_a_migrated_group_is_moved_and_gets_the_notice_at_its_new_id(
    bot: OfflineBot,
) -> None:
    chats = await quick_grids(bot, "G01", "G02")
    supergroup = bot.emulator.create_group("G01网格群", chat_id=-100_555_000, supergroup=True)
    bot.emulator.chat(supergroup["id"]).bot_status = "member"
    # Upgraded on Telegram's side; the bot learns it from the send error.
    bot.emulator.inject_fault(
        "sendMessage", kind="migrated", chat_id=chats["G01"], migrate_to_chat_id=supergroup["id"]
    )
    done = await confirmed(bot, "/notice now all", "停水：{{ grid.code }}")
    assert "送达 2 个网格" in done.text_in(STAFF)
    assert notices_in(bot, supergroup["id"]) == ["停水：G01"]
    grid = await bot.runtime.services.grids.grid_for_chat(supergroup["id"])
    assert grid is not None and grid.code == "G01"
    assert await rows(bot, "SELECT chat_id FROM notice_deliveries WHERE grid_id = ?", grid.id) == [
        (supergroup["id"],)
    ]


async def test_a_429_storm_delivers_each_notice_exactly_once(tuned: Any) -> None:
    # One retry inside PTB's rate limiter, so our own RetryAfter handling is needed too.
    bot = await tuned(telegram={"max_retries": 1})
    chats = await quick_grids(bot, "G01", "G02", "G03")
    _preview, asking = await schedule(bot, "/notice now all", "停水：{{ grid.code }}")
    bot.emulator.inject_fault("sendMessage", kind="429", retry_after=1, count=4)
    done = await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    assert "送达 3 个网格" in done.text_in(STAFF)
    for code, chat in chats.items():
        assert notices_in(bot, chat) == [f"停水：{code}"]
    refused = [c for c in bot.emulator.calls_to("sendMessage") if c.status == 429]
    assert len(refused) == 4


async def test_long_runs_show_one_progress_message_edited_then_the_report(tuned: Any) -> None:
    bot = await tuned(notices={"parallel_sends": 1, "progress_every": "1s"})
    await quick_grids(bot, *(f"G{n:02d}" for n in range(1, 6)))
    bot.emulator.inject_fault("sendMessage", kind="slow", delay=0.35, count=5)
    await confirmed(bot, "/notice now all", "停水：{{ grid.code }}")
    progress = [
        m
        for m in bot.emulator.messages_in(STAFF)
        if m.get("text", "").startswith("📣 通知 #1 发送") and "报告" not in m["text"]
    ]
    assert len(progress) == 1  # one message …
    edits = [
        c
        for c in bot.emulator.calls_to("editMessageText")
        if c.params["message_id"] == progress[0]["message_id"]
    ]
    assert edits  # … edited as the run went on, and finally:
    assert progress[0]["text"] == "📣 通知 #1 发送完毕 5/5"
    report = bot.emulator.last_bot_message(STAFF)
    assert report is not None and "送达 5 个网格" in report["text"]


async def test_pin_flag_pins_where_the_bot_may_and_reports_where_not(bot: OfflineBot) -> None:
    chats = await quick_grids(bot, "G01", "G02")
    bot.emulator.chat(chats["G01"]).bot_status = "administrator"
    preview, asking = await schedule(bot, "/notice now all pin", "停水：{{ grid.code }}")
    assert "发送后在各群置顶" in preview.text_in(STAFF)
    done = await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    [first] = bot.emulator.messages_in(chats["G01"])
    assert bot.emulator.pinned_messages(chats["G01"]) == [first["message_id"]]
    assert bot.emulator.pinned_messages(chats["G02"]) == []
    assert "送达 2 个网格" in done.text_in(STAFF) and "1 个群未能置顶" in done.text_in(STAFF)


async def test_the_text_may_be_the_message_the_command_replies_to(bot: OfflineBot) -> None:
    chats = await quick_grids(bot, "G01")
    bot.emulator.private_chat_started(STAFF)
    held = bot.emulator.post_message(STAFF, STAFF, "<b>重要</b>：{{ grid.code }} 周六停水 & 停电")
    await bot.settle()
    preview = await bot.says_privately(STAFF, "/notice now all", reply_to=held["message_id"])
    asking = next(m for m in preview.in_chat(STAFF) if m.get("reply_markup"))
    await bot.presses(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    # Typed characters stay characters (nothing in the staff's text is taken as HTML).
    assert notices_in(bot, chats["G01"]) == ["<b>重要</b>：G01 周六停水 & 停电"]


async def test_cancelling_stops_a_run_half_way(tuned: Any) -> None:
    bot = await tuned(notices={"parallel_sends": 1})
    chats = await quick_grids(bot, *(f"G{n:02d}" for n in range(1, 7)))
    _preview, asking = await schedule(bot, "/notice now all", "停水：{{ grid.code }}")
    bot.emulator.inject_fault("sendMessage", kind="slow", delay=0.2, count=6)
    bot.emulator.press_button(STAFF, asking["message_id"], STAFF, button(asking, "确认"))
    await bot.emulator.wait_for_call(
        "sendMessage", lambda call: call.params["chat_id"] == chats["G02"], timeout=5
    )
    cancelled = await bot.says_privately(STAFF, "/notice_cancel 1")
    assert "已取消" in cancelled.text_in(STAFF) and "个网格不再发送" in cancelled.text_in(STAFF)
    got = [code for code, chat in chats.items() if notices_in(bot, chat)]
    assert got[:2] == ["G01", "G02"] and len(got) < 6
    report = cancelled.text_in(STAFF)
    assert f"送达 {len(got)} 个网格，❌ 失败 {6 - len(got)} 个" in report
    assert "通知已取消，未发送" in report
