"""Nothing one person sends can stall, bloat or break the bot for everyone else (#13)."""

from __future__ import annotations

import logging

import pytest

from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, RESIDENT, STAFF, bound_grid
from tests.e2e.test_loop import reported, status_of
from tests.e2e.test_notices import grids, notice_timers, rows

SLOW_LOOPS = (
    "{% for a in 'x'*1000 %}{% for b in 'x'*1000 %}{% for c in 'x'*1000 %}"
    "{% endfor %}{% endfor %}{% endfor %}停水"
)
HOSTILE_TEMPLATES = [
    (SLOW_LOOPS, "通知模板太慢"),
    ("{{ (((9**64)**64)**64)**64 }}", "通知模板太慢"),
    ("{% set a = (['x'*1000]*1000)|join %}{{ ([a]*1000)|join }}", "join would build"),
    (
        "{% set a = (['x'*1000]*100)|join %}{% set b = ([a]*1000)|map('lower')|join %}"
        "{{ ([b]*4)|map('lower')|join }}",
        "需要的内存太多",
    ),
    ("{{ '%900000000s' % 'x' }}", "string formatting with % is not available"),
    ("{{ " + "(" * 1500 + "1" + ")" * 1500 + " }}", "nested too deeply"),
    # Broken HTML for one grid only, or for all: Telegram would refuse it at send time.
    (
        "{% if grid.code == 'G02' %}{% raw %}{{ <b> }}{% endraw %}{% endif %}停水",
        "为网格 G02 生成的通知 Telegram 无法显示",
    ),
    ("{% raw %}{{ <b> }}{% endraw %}停水", "为网格 G01 生成的通知 Telegram 无法显示"),
]


@pytest.mark.parametrize(("template", "expected"), HOSTILE_TEMPLATES)
async def test_a_hostile_notice_template_is_refused_naming_the_problem(
    bot: OfflineBot, template: str, expected: str
) -> None:
    await grids(bot, 2)
    reply = await bot.says_privately(STAFF, f"/notice now all\n{template}")
    assert expected in reply.text_in(STAFF), reply.text_in(STAFF)
    assert not any(m.get("reply_markup") for m in reply.messages)  # nothing to confirm
    assert await rows(bot, "SELECT id FROM notices") == []
    assert await notice_timers(bot) == []
    # The worker that was killed or ran out of memory is replaced: the next notice works.
    fine = await bot.says_privately(STAFF, "/notice now all\n{{ grid.name }}：明天停水")
    assert "第1网格：明天停水" in fine.text_in(STAFF)


async def test_a_slow_template_holds_back_nobody_else(bot: OfflineBot) -> None:
    chats = await grids(bot, 2)
    bot.emulator.private_chat_started(STAFF)
    mark = bot.emulator.mark()
    # Staff submit the hostile template; right after, a resident in G02 asks for /my.
    bot.emulator.post_message(STAFF, STAFF, f"/notice now all\n{SLOW_LOOPS}")
    bot.emulator.post_message(chats["G02"], RESIDENT, "/my")
    await bot.settle()
    said = [(m["chat"]["id"], m.get("text", "")) for m in bot.emulator.bot_messages_since(mark)]
    answered_resident = next(i for i, (chat, _t) in enumerate(said) if chat == chats["G02"])
    refused_staff = next(
        i for i, (chat, text) in enumerate(said) if chat == STAFF and "通知模板太慢" in text
    )
    # The resident's answer went out while the template was still being stopped.
    assert answered_resident < refused_staff, said


async def test_a_caption_command_for_another_bot_is_not_run(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat)
    await bot.says(chat, HEAD, "/claim 1")
    other = await bot.says(chat, HEAD, None, photo=True, caption="/close@otherbot 1 已换灯")
    assert "已办结" not in other.text_in(chat)
    assert (await status_of(bot))[0] == "claimed"
    mine = await bot.says(
        chat, HEAD, None, photo=True, caption="/close@gridbot_demo_bot 1 已换灯，见照片"
    )
    assert "#1 已办结" in mine.text_in(chat)
    assert (await status_of(bot))[0] == "resolved"


async def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    bot: OfflineBot, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await bound_grid(bot)
    caplog.clear()
    bot.emulator.inject_fault("getUpdates", kind="5xx", count=3)
    # The next three polls fail (retried after 1, 1.5 and 2.25 s), then Telegram answers
    # again: the second message can only arrive after the outage.
    await bot.says(chat, RESIDENT, "/my")
    reply = await bot.says(chat, RESIDENT, "/my")
    assert reply.text_in(chat)
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(" after")[0].split(" (")[0] for r in records] == [
        "lost contact with Telegram",
        "contact with Telegram is back",
    ], [r.getMessage() for r in records]
    assert "retrying in 1.0 s" in records[0].getMessage()
    assert "3 failed attempts, last retry delay 2.2 s" in records[1].getMessage()
    assert all(r.exc_info is None for r in caplog.records)  # no tracebacks
