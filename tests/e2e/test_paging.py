"""Every list pages with [‹]/[›]; nothing the bot sends is over Telegram's 4,096 characters."""

from __future__ import annotations

from typing import Any

from bot.domain.models import Role
from bot.emulator.text import parse_html
from bot.offline import Exchange, OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, RESIDENT, STAFF, bound_grid

LONG_NAME = "幸福里社区第一片区老旧小区改造示范网格名称很长" * 1


async def many_grids(bot: OfflineBot, count: int, *, head: int | None = None) -> None:
    """Grids with long titles and names, straight into the database (no /bind chatter)."""
    services = bot.runtime.services
    now = services.clock.now()
    async with bot.storage.unit_of_work() as uow:
        for n in range(count):
            chat = bot.emulator.create_group(f"G{n:02d}群")["id"]
            grid_id = await uow.grids.create(
                code=f"P{n:02d}",
                name=f"{LONG_NAME}{n}",
                chat_id=chat,
                chat_title="很长的群名" * 50,
                now=now,
            )
            await uow.grids.set_tags(grid_id, [f"标签{k}" for k in range(20)])
            if head is not None:
                await uow.grids.set_role(grid_id, head, Role.HEAD, by=STAFF, now=now)


def visible(message: dict[str, Any]) -> str:
    plain, _entities = parse_html(message.get("text", ""))
    return plain


def next_button(message: dict[str, Any]) -> str | None:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for b in row:
            if "下一页" in b["text"]:
                return str(b["callback_data"])
    return None


async def all_pages(bot: OfflineBot, chat: int, who: int, first: Exchange) -> list[str]:
    """Turn every page of a list, as the person who asked; the text of each page."""
    [message] = [m for m in first.in_chat(chat) if m["from"]["is_bot"]]
    pages = [visible(message)]
    while (data := next_button(message)) is not None:
        turned = await bot.presses(chat, message["message_id"], who, data)
        assert turned.answer is not None
        message = bot.emulator.message(chat, message["message_id"])
        pages.append(visible(message))
    assert all(len(page) <= 4096 for page in pages)
    return pages


async def test_grids_of_45_page_and_every_grid_is_on_a_page(bot: OfflineBot) -> None:
    await many_grids(bot, 45)
    first = await bot.says_privately(STAFF, "/grids")
    pages = await all_pages(bot, STAFF, STAFF, first)
    assert len(pages) == 6 and "共 45 个，第 1/6 页" in pages[0]
    shown = "\n".join(pages)
    assert all(f"P{n:02d} " in shown for n in range(45))


async def test_only_the_asker_turns_the_pages(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await many_grids(bot, 20)
    first = await bot.says(chat, STAFF, "/grids")
    [message] = first.in_chat(chat)
    data = next_button(message)
    assert data is not None
    refused = await bot.presses(chat, message["message_id"], RESIDENT, data)
    assert refused.answer is not None and "只有发出这条命令的人可以翻页" in refused.answer["text"]
    assert bot.emulator.message(chat, message["message_id"])["text"] == message["text"]


async def test_whoami_of_a_head_of_many_grids_pages(bot: OfflineBot) -> None:
    await bot.says_privately(HEAD, "/start")  # known to the bot before being appointed
    await many_grids(bot, 45, head=HEAD)
    first = await bot.says_privately(HEAD, "/whoami")
    pages = await all_pages(bot, HEAD, HEAD, first)
    assert len(pages) == 3
    assert sum(page.count("：网格长") for page in pages) == 45


async def test_open_and_logs_page(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    for n, who in enumerate([RESIDENT] * 9 + [NEIGHBOUR] * 9 + [STAFF] * 7):
        await bot.says(chat, who, f"{n + 1}栋楼道灯坏了 已经好几天" + "很黑" * 40)
    pages = await all_pages(bot, chat, HEAD, await bot.says(chat, HEAD, "/open"))
    assert len(pages) == 3 and "共 25 件，第 1/3 页" in pages[0]
    assert sum(page.count("#") for page in pages) >= 25
    for n in range(23):
        await bot.says(chat, HEAD, f"/log 走访{n}栋 " + "情况正常" * 60)
    pages = await all_pages(bot, chat, HEAD, await bot.says(chat, HEAD, "/logs"))
    assert len(pages) == 3 and "第 1/3 页" in pages[0]


async def test_nothing_sent_is_over_the_limit(bot: OfflineBot) -> None:
    """The safety net: whatever a template renders, each message Telegram gets fits."""
    bot.emulator.private_chat_started(STAFF)
    text = "\n".join(f"<b>第{n}行</b> " + "字" * 90 for n in range(100))
    sent = await bot.runtime.messenger.send_text(STAFF, text)
    assert sent is not None
    messages = [m for m in bot.emulator.messages_in(STAFF) if m["from"]["is_bot"]]
    assert len(messages) >= 3 and all(len(visible(m)) <= 4096 for m in messages)
    assert "\n".join(visible(m) for m in messages).count("第") == 100


async def test_notices_page(bot: OfflineBot) -> None:
    await many_grids(bot, 2)
    notices = bot.runtime.services.notices
    for n in range(13):
        draft = await notices.draft(
            STAFF, "zh-CN", "每周一 09:00 all", f"第{n}条：" + "{{ grid.name }}" * 20
        )
        await notices.confirm(draft.notice.id)
    first = await bot.says_privately(STAFF, "/notices")
    pages = await all_pages(bot, STAFF, STAFF, first)
    assert len(pages) == 2 and "共 13 条，第 1/2 页" in pages[0]
    assert sum(page.count("每周一") for page in pages) >= 13


async def test_my_tickets_page(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    for n in range(10):
        await bot.says(chat, RESIDENT, f"{n + 1}栋楼道灯坏了")
    for n in range(3):  # followed ones are listed too
        ack = (await bot.says(chat, NEIGHBOUR, f"{n + 20}栋门口垃圾没人清")).in_chat(chat)[0]
        follow = next(
            b["callback_data"]
            for row in ack["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("t:+1:")
        )
        await bot.presses(chat, ack["message_id"], RESIDENT, follow)
    pages = await all_pages(bot, chat, RESIDENT, await bot.says(chat, RESIDENT, "/my"))
    assert len(pages) == 2 and "第 1/2 页" in pages[0]
