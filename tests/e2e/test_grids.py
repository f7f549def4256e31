"""Staff bind chats to grids and appoint heads; residents are refused politely."""

from __future__ import annotations

from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, OTHER_HEAD, RESIDENT, STAFF, WORKER, bound_grid


async def grid_row(bot: OfflineBot, chat_id: int) -> tuple[str, str, int] | None:
    grid = await bot.runtime.services.grids.grid_for_chat(chat_id)
    return (grid.code, grid.name, int(grid.active)) if grid else None


async def test_staff_binds_a_chat_and_it_becomes_a_grid(bot: OfflineBot) -> None:
    chat = await bot.group("幸福里一群", added_by=STAFF)
    reply = await bot.says(chat, STAFF, "/bind G01 幸福里 第一网格")
    assert "本群已绑定为网格 G01 幸福里 第一网格" in reply.text_in(chat)
    assert await grid_row(bot, chat) == ("G01", "幸福里 第一网格", 1)


async def test_binding_again_renames_and_bad_code_is_explained(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=None)
    reply = await bot.says(chat, STAFF, "/bind G01 幸福里一网格")
    assert "网格已更新" in reply.text_in(chat) and "幸福里一网格" in reply.text_in(chat)
    reply = await bot.says(chat, STAFF, "/bind 网格一 名字")
    assert "网格代码“网格一”无效" in reply.text_in(chat)
    reply = await bot.says(chat, STAFF, "/bind")
    assert "用法：/bind" in reply.text_in(chat)
    assert await grid_row(bot, chat) == ("G01", "幸福里一网格", 1)


async def test_rebinding_a_code_elsewhere_asks_and_moves_once_confirmed(bot: OfflineBot) -> None:
    old_chat = await bound_grid(bot, head=HEAD)
    new_chat = await bot.group("幸福里新群", added_by=STAFF)
    question = await bot.says(new_chat, STAFF, "/bind G01")
    [asking] = question.in_chat(new_chat)
    assert "要把它迁移到本群吗" in asking["text"]
    assert await grid_row(bot, new_chat) is None  # nothing moved yet
    buttons = asking["reply_markup"]["inline_keyboard"][0]
    confirm = buttons[0]["callback_data"]
    # A resident pressing the button is refused and nothing changes.
    refused = await bot.presses(new_chat, asking["message_id"], RESIDENT, confirm)
    assert refused.answer is not None and "仅限" in refused.answer["text"]
    assert await grid_row(bot, old_chat) == ("G01", "幸福里第一网格", 1)
    done = await bot.presses(new_chat, asking["message_id"], STAFF, confirm)
    assert "已迁移到本群" in bot.emulator.message(new_chat, asking["message_id"])["text"]
    assert done.answer is not None
    assert await grid_row(bot, new_chat) == ("G01", "幸福里第一网格", 1)
    assert await grid_row(bot, old_chat) is None
    # The head came along with the grid.
    overview = await bot.runtime.services.grids.overview()
    assert [p.telegram_id for p in overview[0].heads] == [HEAD]


async def test_unbind_keeps_the_grid_for_a_later_bind(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=None)
    reply = await bot.says(chat, STAFF, "/unbind")
    assert "已解除本群与网格 G01" in reply.text_in(chat)
    assert await grid_row(bot, chat) is None
    reply = await bot.says(chat, STAFF, "/unbind")
    assert "还没有绑定网格" in reply.text_in(chat)
    reply = await bot.says(chat, STAFF, "/bind G01")
    assert "已重新绑定到本群" in reply.text_in(chat)


async def test_heads_and_workers_are_appointed_and_removed(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=HEAD)
    await bot.says(chat, WORKER, "我是网格员小赵")
    reply = await bot.says(chat, STAFF, "/worker", reply_to=bot.last_message_id(chat))
    assert "赵网格员" in reply.text_in(chat) and "网格员" in reply.text_in(chat)
    whoami = await bot.says(chat, HEAD, "/whoami")
    assert "G01 幸福里第一网格：网格长" in whoami.text_in(chat)
    # Mentions work too, for people the bot has seen.
    reply = await bot.says(chat, STAFF, "/unhead @wang_head")
    assert "已撤销" in reply.text_in(chat)
    roles = await bot.runtime.services.grids.roles_of(HEAD)
    assert roles.grid_roles == ()
    reply = await bot.says(chat, STAFF, "/head @nobody_known")
    assert "我还不认识 @nobody_known" in reply.text_in(chat)
    reply = await bot.says(chat, STAFF, "/head")
    assert "请回复该成员的消息" in reply.text_in(chat)
    # The appointed worker got a command menu scoped to this chat.
    scope = {"type": "chat_member", "chat_id": chat, "user_id": WORKER}
    menu = [c["command"] for c in bot.emulator.commands_for(scope)]
    assert "category" in menu and "bind" not in menu


async def test_residents_are_refused_staff_commands_and_nothing_changes(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=HEAD)
    for command in ("/bind G09 新网格", "/unbind", "/grids", "/tags G01 x"):
        reply = await bot.says(chat, RESIDENT, command)
        assert "仅限街道工作人员使用" in reply.text_in(chat), command
    await bot.says(chat, RESIDENT, "hello")
    reply = await bot.says(chat, HEAD, "/head", reply_to=bot.last_message_id(chat))
    assert "仅限街道工作人员使用" in reply.text_in(chat)
    assert await grid_row(bot, chat) == ("G01", "幸福里第一网格", 1)
    assert (await bot.runtime.services.grids.roles_of(RESIDENT)).grid_roles == ()


async def test_anonymous_admin_edited_and_forwarded_commands_do_nothing(bot: OfflineBot) -> None:
    chat = await bot.group("匿名群", added_by=STAFF)
    reply = await bot.says(chat, None, "/bind G05 匿名", sender_chat_id=chat)
    assert "匿名管理员" in reply.text_in(chat)
    reply = await bot.says(chat, STAFF, "/bind G05 转发", forward_from_user_id=RESIDENT)
    assert "转发的命令不会执行" in reply.text_in(chat)
    message = bot.emulator.post_message(chat, STAFF, "/grids")
    await bot.settle()
    reply = await bot.edits(chat, message["message_id"], "/bind G05 编辑")
    assert "编辑过的命令不会执行" in reply.text_in(chat)
    assert await grid_row(bot, chat) is None


async def test_help_differs_by_role_and_language(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=HEAD)
    resident_help = (await bot.says(chat, RESIDENT, "/help")).text_in(chat)
    staff_help = (await bot.says(chat, STAFF, "/help")).text_in(chat)
    head_help = (await bot.says(chat, HEAD, "/help")).text_in(chat)
    assert "/report" in resident_help and "/bind" not in resident_help
    assert "/category" not in resident_help
    assert "/bind" in staff_help and "/head" in staff_help
    assert "/category" in head_help and "/bind" not in head_help
    private = await bot.says_privately(OTHER_HEAD, "/help")
    assert "Commands" in private.text_in(OTHER_HEAD)  # an English Telegram gets English
    # Menus: residents' default menu has no staff commands; staff's private chat has them.
    default_menu = [c["command"] for c in bot.emulator.commands_for(None)]
    assert "report" in default_menu and "bind" not in default_menu
    staff_scope = {"type": "chat", "chat_id": STAFF}
    staff_menu = [c["command"] for c in bot.emulator.commands_for(staff_scope)]
    assert "grids" in staff_menu


async def test_group_migration_keeps_the_grid(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=HEAD)
    new_chat = await bot.migrates(chat)
    assert new_chat != chat
    assert await grid_row(bot, new_chat) == ("G01", "幸福里第一网格", 1)
    assert await grid_row(bot, chat) is None
    reply = await bot.says(new_chat, HEAD, "/whoami")
    assert "G01 幸福里第一网格：网格长" in reply.text_in(new_chat)


async def test_send_to_a_migrated_chat_follows_the_new_id(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=None)
    new_chat = -100_555_000
    supergroup = bot.emulator.create_group("幸福里第一网格群", chat_id=new_chat, supergroup=True)
    bot.emulator.chat(supergroup["id"]).bot_status = "member"
    # The migration happened on Telegram's side; the bot only learns it from the send error.
    bot.emulator.inject_fault(
        "sendMessage", kind="migrated", migrate_to_chat_id=new_chat, chat_id=chat
    )
    reply = await bot.says(chat, RESIDENT, "/start")
    assert await grid_row(bot, new_chat) == ("G01", "幸福里第一网格", 1)
    assert any("本群是网格" in m["text"] for m in reply.messages if m["chat"]["id"] == new_chat)


async def test_bot_kicked_marks_grid_inactive_and_readding_revives_it(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=None)
    await bot.removes_bot(chat, STAFF)
    assert await grid_row(bot, chat) == ("G01", "幸福里第一网格", 0)
    grids = (await bot.says_privately(STAFF, "/grids")).text_in(STAFF)
    assert "机器人不在群内" in grids
    back = await bot.adds_bot(chat, STAFF)
    assert "我已恢复工作" in back.text_in(chat)
    assert await grid_row(bot, chat) == ("G01", "幸福里第一网格", 1)


async def test_sending_to_a_chat_that_kicked_the_bot_deactivates_it(bot: OfflineBot) -> None:
    chat = await bound_grid(bot, head=None)
    bot.emulator.inject_fault("sendMessage", kind="403_kicked", chat_id=chat)
    await bot.says(chat, RESIDENT, "/start")
    assert await grid_row(bot, chat) == ("G01", "幸福里第一网格", 0)


async def test_privacy_mode_warning_when_added(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with OfflineBot(
        tmp_path / "p.db", staff=(STAFF,), can_read_all_group_messages=False
    ) as offline:
        offline.person(STAFF, "街道小李")
        chat = offline.emulator.create_group("隐私群")
        mark = offline.emulator.mark()
        offline.emulator.add_bot_to_group(chat["id"], STAFF)
        await offline.settle()
        text = "\n".join(m["text"] for m in offline.emulator.bot_messages_since(mark))
        assert "我现在只能看到命令" in text
