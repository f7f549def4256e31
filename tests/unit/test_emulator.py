"""The Bot API emulator, exercised by the real python-telegram-bot ``Bot`` and ``Application``.

Every answer must parse into real PTB objects, and every error must surface as the PTB
exception Telegram's answer would produce.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot import emulator as emulator_package
from bot.emulator import (
    CONTROL_ACTIONS,
    GROUP_ANONYMOUS_BOT_ID,
    BotApiEmulator,
    World,
    parse_html,
    utf16_length,
)
from bot.emulator import world as world_module

TOKEN = "123456:TEST-TOKEN"
WANG = 1001  # 王阿姨, a resident
LI = 1002  # 李师傅, the grid head


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(WANG, "王阿姨", username="wang_ayi")
        emulator.add_user(LI, "李师傅")
        yield emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(
        TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url
    ) as ptb_bot:
        yield ptb_bot


@pytest.fixture
def group(emu: BotApiEmulator) -> int:
    """A grid's group chat with the bot in it; the setup's updates already drained."""
    chat_id: int = emu.create_group("幸福里3栋", creator_id=LI)["id"]
    emu.add_bot_to_group(chat_id, by_user_id=LI)
    emu.drop_pending_updates()
    return chat_id


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


# -- the basics --------------------------------------------------------------------------


async def test_get_me_parses_into_a_user(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.username == "gridbot_bot"
    assert me.is_bot and me.can_join_groups and me.can_read_all_group_messages
    assert me.supports_inline_queries is False
    assert me.id == 123456


async def test_privacy_mode_is_reported_by_get_me() -> None:
    emulator = BotApiEmulator(token=TOKEN, can_read_all_group_messages=False)
    async with emulator, telegram.Bot(TOKEN, base_url=emulator.base_url) as ptb_bot:
        assert (await ptb_bot.get_me()).can_read_all_group_messages is False


async def test_a_wrong_token_is_refused(emu: BotApiEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with telegram.Bot("999:WRONG", base_url=emu.base_url):
            pass


async def test_an_unknown_method_is_404_like_telegram(bot: telegram.Bot, group: int) -> None:
    # Telegram answers 404 "Not Found"; PTB's generic mapping of 404 is InvalidToken, so a
    # method the emulator lacks looks like a bad token ...
    with pytest.raises(InvalidToken, match="Not Found"):
        await bot.send_dice(group)
    # ... except through do_api_request, which knows better
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("no_such_method")


async def test_trivial_methods(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert await bot.log_out() is True
    assert await bot.close() is True


# -- sending -----------------------------------------------------------------------------


async def test_send_message_returns_and_stores_the_message(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    first = await bot.send_message(group, "收到，已登记")
    second = await bot.send_message(group, "第二条", reply_markup=keyboard("claim:1"))
    assert first.chat.id == group and first.chat.title == "幸福里3栋"
    assert first.from_user is not None and first.from_user.id == emu.bot_id
    assert second.message_id > first.message_id
    assert isinstance(first.date, dtm.datetime)
    assert second.reply_markup == keyboard("claim:1")
    assert [m["text"] for m in emu.messages_in(group)] == ["收到，已登记", "第二条"]
    assert emu.last_bot_message(group)["message_id"] == second.message_id  # type: ignore[index]
    call = emu.calls_to("sendMessage")[-1]
    assert call.params["chat_id"] == group  # ints arrive as ints
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "claim:1"


async def test_html_is_parsed_into_entities_with_utf16_offsets(
    bot: telegram.Bot, group: int
) -> None:
    message = await bot.send_message(
        group, "工单😀 <b>#12</b> &lt;已派单&gt; <a href='https://x.cn'>详情</a>", parse_mode="HTML"
    )
    assert message.text == "工单😀 #12 <已派单> 详情"
    bold, link = message.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 5, 3)  # 😀 is two UTF-16 units
    assert message.parse_entity(bold) == "#12"
    assert link.url == "https://x.cn" and message.parse_entity(link) == "详情"


@pytest.mark.parametrize(
    ("html", "complaint"),
    [
        ("<b>未闭合", 'find end tag corresponding to start tag "b"'),
        ("<b>交叉<i>标签</b></i>", "unmatched end tag"),
        ("电梯<br>坏了", 'unsupported start tag "br"'),
        ("3 < 5 楼", "start tag"),
        ("多余</b>", "unexpected end tag"),
    ],
)
async def test_bad_html_is_refused_like_telegram(
    bot: telegram.Bot, group: int, html: str, complaint: str
) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities") as error:
        await bot.send_message(group, html, parse_mode="HTML")
    # PTB capitalises the description after stripping "Bad Request: ", lowering the rest
    assert complaint in error.value.message


async def test_too_long_and_empty_texts_are_refused(bot: telegram.Bot, group: int) -> None:
    await bot.send_message(group, "长" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(group, "长" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(group, "<b></b>", parse_mode="HTML")


async def test_replies_embed_the_message_replied_to(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    asked = emu.post_message(group, WANG, "3栋电梯坏了")
    answer = await bot.send_message(
        group, "已登记", reply_parameters=ReplyParameters(asked["message_id"])
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "3栋电梯坏了"
    assert answer.reply_to_message.from_user.id == WANG  # type: ignore[union-attr]
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(group, "x", reply_parameters=ReplyParameters(9999))


async def test_sending_where_the_bot_may_not(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    stranger = emu.create_group("别的群")["id"]
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(stranger, "hi")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(WANG, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-42, "hi")
    emu.private_chat_started(WANG)
    assert (await bot.send_message(WANG, "您好")).chat.type == "private"
    emu.block_bot(WANG)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(WANG, "还在吗")


async def test_a_kicked_bot_gets_an_update_and_then_forbidden(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    emu.remove_bot_from_group(group, by_user_id=LI)
    member_update, service = await bot.get_updates()
    assert member_update.my_chat_member is not None
    assert isinstance(member_update.my_chat_member.new_chat_member, ChatMemberBanned)
    assert member_update.my_chat_member.from_user.id == LI
    assert service.message is not None and service.message.left_chat_member.id == emu.bot_id  # type: ignore[union-attr]
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group, "hi")


async def test_adding_the_bot_announces_itself(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    chat_id = emu.create_group("新群", supergroup=True)["id"]
    assert str(chat_id).startswith("-100")
    emu.add_bot_to_group(chat_id, by_user_id=WANG, as_admin=True)
    member_update, service = await bot.get_updates()
    assert member_update.my_chat_member is not None
    assert isinstance(member_update.my_chat_member.new_chat_member, ChatMemberAdministrator)
    assert member_update.my_chat_member.old_chat_member.status == "left"
    assert service.message is not None
    assert [u.id for u in service.message.new_chat_members] == [emu.bot_id]


# -- updates -----------------------------------------------------------------------------


async def test_get_updates_delivers_commands_with_entities(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    emu.post_message(group, WANG, "/report@gridbot_bot 3栋电梯坏了")
    emu.post_message(group, WANG, "你好😀 @gridbot_bot 请看 /help")
    (first, second) = await bot.get_updates()
    assert second.update_id == first.update_id + 1
    command = first.message
    assert command is not None and command.from_user.id == WANG  # type: ignore[union-attr]
    assert command.parse_entities(["bot_command"]) == {command.entities[0]: "/report@gridbot_bot"}
    assert command.entities[0].offset == 0
    mention_message = second.message
    assert mention_message is not None
    mention, help_command = mention_message.entities
    # 你好😀 + space = 5 UTF-16 units: the emoji counts twice
    assert (mention.type, mention.offset, mention.length) == ("mention", 5, 12)
    assert mention_message.parse_entity(mention) == "@gridbot_bot"
    assert help_command.type == "bot_command"
    assert mention_message.parse_entity(help_command) == "/help"


async def test_offsets_confirm_and_long_polling_waits(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    emu.post_message(group, WANG, "一")
    (update,) = await bot.get_updates()
    assert emu.pending_update_count == 1  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert emu.pending_update_count == 0

    async def later() -> None:
        await asyncio.sleep(0.1)
        emu.post_message(group, WANG, "二")

    started = time.monotonic()
    poster = asyncio.create_task(later())
    (held,) = await bot.get_updates(offset=update.update_id + 1, timeout=5)
    await poster
    assert held.message is not None and held.message.text == "二"
    assert time.monotonic() - started < 2


async def test_redelivery_repeats_the_same_message(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    posted = emu.post_message(group, WANG, "5号楼下水道堵了")
    update_id = emu.redeliver(posted)
    first, again = await bot.get_updates()
    assert again.update_id == update_id == first.update_id + 1
    assert again.message == first.message  # same chat and message id: dedupe on those


async def test_allowed_updates_are_remembered(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    emu.post_message(group, WANG, "不会送达")
    assert emu.pending_update_count == 0
    await bot.get_updates(allowed_updates=[])  # back to Telegram's default
    emu.post_message(group, WANG, "送达")
    assert emu.pending_update_count == 1


async def test_text_mentions_anonymous_admins_and_media(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    emu.post_message(group, WANG, "请李师傅看看", text_mentions=[("李师傅", LI)])
    emu.post_message(group, LI, "通知：明天停水", sender_chat_id=group)
    emu.post_message(group, WANG, None, photo=True, caption="/report 楼道堆物")
    emu.post_message(group, WANG, None, location=(31.23, 121.47))
    emu.post_message(group, WANG, "转发", forward_from_user_id=LI)
    mention, anonymous, photo, location, forward = (u.message for u in await bot.get_updates())
    assert mention is not None and mention.entities[0].user.id == LI  # type: ignore[union-attr]
    assert mention.entities[0].offset == 1
    assert anonymous is not None and anonymous.from_user.id == GROUP_ANONYMOUS_BOT_ID  # type: ignore[union-attr]
    assert anonymous.sender_chat is not None and anonymous.sender_chat.id == group
    assert photo is not None and len(photo.photo) == 2
    assert photo.caption_entities[0].type == "bot_command"
    assert location is not None and location.location.latitude == pytest.approx(31.23)  # type: ignore[union-attr]
    assert forward is not None and forward.forward_origin.sender_user.id == LI  # type: ignore[union-attr]


async def test_privacy_mode_hides_ordinary_group_messages() -> None:
    async with BotApiEmulator(token=TOKEN, can_read_all_group_messages=False) as emulator:
        emulator.add_user(WANG, "王阿姨")
        chat_id = emulator.create_group("群")["id"]
        emulator.add_bot_to_group(chat_id, by_user_id=WANG)
        emulator.drop_pending_updates()
        emulator.post_message(chat_id, WANG, "闲聊")
        emulator.post_message(chat_id, WANG, "/report@other_bot x")
        assert emulator.pending_update_count == 0
        emulator.post_message(chat_id, WANG, "/report 电梯坏了")
        emulator.post_message(chat_id, WANG, "@gridbot_bot 在吗")
        assert emulator.pending_update_count == 2


async def test_user_edits_become_edited_message_updates(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    posted = emu.post_message(group, WANG, "3栋电梯坏了")
    emu.edit_message(group, posted["message_id"], "3栋电梯又坏了 /report")
    _, edit = await bot.get_updates()
    assert edit.edited_message is not None
    assert edit.edited_message.text == "3栋电梯又坏了 /report"
    assert edit.edited_message.edit_date is not None


async def test_callback_query_round_trip(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    sent = await bot.send_message(group, "工单 #12", reply_markup=keyboard("claim:12", "close:12"))
    query_id = emu.press_button(group, sent.message_id, LI, "claim:12")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "claim:12"
    assert query.from_user.id == LI and query.chat_instance
    assert query.message is not None and query.message.message_id == sent.message_id
    assert emu.callback_answer(query_id) is None
    assert await query.answer("已认领", show_alert=True) is True
    assert emu.callback_answer(query_id) == {"text": "已认领", "show_alert": True}
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()
    with pytest.raises(ValueError, match="no button"):
        emu.press_button(group, sent.message_id, LI, "reopen:12")


async def test_editing_like_telegram(emu: BotApiEmulator, bot: telegram.Bot, group: int) -> None:
    sent = await bot.send_message(group, "工单 #12 待认领", reply_markup=keyboard("claim:12"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "工单 #12 待认领", group, sent.message_id, reply_markup=keyboard("claim:12")
        )
    edited = await bot.edit_message_text("工单 #12 已认领", group, sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.reply_markup is None  # no keyboard passed: Telegram drops it
    assert emu.messages_in(group)[0]["text"] == "工单 #12 已认领"
    assert "reply_markup" not in emu.messages_in(group)[0]
    restored = await bot.edit_message_reply_markup(
        group, sent.message_id, reply_markup=keyboard("x")
    )
    assert isinstance(restored, telegram.Message) and restored.reply_markup == keyboard("x")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", group, 9999)
    assert await bot.delete_message(group, sent.message_id) is True
    assert emu.messages_in(group) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(group, sent.message_id)


async def test_reactions_pins_and_chat_queries(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    posted = emu.post_message(group, WANG, "谢谢")
    assert await bot.set_message_reaction(group, posted["message_id"], ReactionTypeEmoji("👍"))
    assert emu.reactions(group, posted["message_id"]) == [{"type": "emoji", "emoji": "👍"}]
    with pytest.raises(BadRequest, match="Reaction_invalid"):
        await bot.set_message_reaction(group, posted["message_id"], ReactionTypeEmoji("✅"))
    with pytest.raises(BadRequest, match="Reaction_invalid"):
        # PTB sends an emoji string it doesn't know as a custom emoji id
        await bot.set_message_reaction(group, posted["message_id"], "✅")
    with pytest.raises(BadRequest, match="Not enough rights"):
        await bot.pin_chat_message(group, posted["message_id"])
    emu.add_bot_to_group(group, by_user_id=LI, as_admin=True)
    assert await bot.pin_chat_message(group, posted["message_id"])
    assert emu.pinned_messages(group) == [posted["message_id"]]
    info = await bot.get_chat(group)
    assert info.title == "幸福里3栋" and info.pinned_message is not None
    assert info.max_reaction_count > 0
    assert await bot.unpin_chat_message(group)
    admins = await bot.get_chat_administrators(group)
    assert isinstance(admins[0], ChatMemberOwner) and admins[0].user.id == LI
    assert {a.user.id for a in admins} == {LI, emu.bot_id}
    assert (await bot.get_chat_member(group, WANG)).status == "member"
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group, 5555)
    emu.add_user(1003, "赵大爷")
    assert (await bot.get_chat_member(group, 1003)).status == "left"
    assert await bot.get_chat_member_count(group) == 3  # 李师傅, 王阿姨, the bot
    assert await bot.send_chat_action(group, "typing") is True


# -- files -------------------------------------------------------------------------------


async def test_photo_upload_and_download_round_trip(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    image = b"\xff\xd8\xff\xe0 a picture of the broken lift"
    sent = await bot.send_photo(group, image, caption="<i>现场</i>照片", parse_mode="HTML")
    assert sent.caption == "现场照片" and sent.caption_entities[0].type == "italic"
    largest = sent.photo[-1]
    assert largest.width > sent.photo[0].width
    file = await bot.get_file(largest.file_id)
    assert file.file_path is not None and file.file_path.startswith(emu.base_file_url)
    assert bytes(await file.download_as_bytearray()) == image
    again = await bot.send_photo(group, largest.file_id)  # reuse without uploading
    assert again.photo[-1].file_id == largest.file_id
    assert emu.calls_to("sendPhoto")[0].files == {"photo": "application.octet-stream"}
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(group, "no-such-file")


async def test_photos_people_post_can_be_downloaded(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    emu.post_message(group, WANG, None, photo=b"jpeg bytes", caption="楼道堆物")
    (update,) = await bot.get_updates()
    assert update.message is not None
    file = await update.message.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == b"jpeg bytes"


async def test_send_document(emu: BotApiEmulator, bot: telegram.Bot, group: int) -> None:
    sent = await bot.send_document(group, b"a,b\n1,2\n", filename="周报.csv", caption="周报")
    assert sent.document is not None and sent.document.file_name == "周报.csv"
    assert sent.document.mime_type == "text/csv"
    assert emu.file_content(sent.document.file_id) == b"a,b\n1,2\n"
    again = await bot.send_document(group, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"


# -- command menus -----------------------------------------------------------------------


async def test_command_menus_are_kept_per_scope_and_language(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    residents = [BotCommand("report", "报事报修"), BotCommand("help", "帮助")]
    staff = [BotCommand("claim", "认领工单")]
    assert await bot.set_my_commands(residents)
    assert await bot.set_my_commands(staff, scope=BotCommandScopeChat(group), language_code="zh")
    assert await bot.get_my_commands() == tuple(residents)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(group)) == ()
    assert await bot.get_my_commands(BotCommandScopeChat(group), "zh") == tuple(staff)
    assert emu.commands_for({"type": "chat", "chat_id": group}, "zh") == [
        {"command": "claim", "description": "认领工单"}
    ]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands(
            [BotCommand("Report", "大写不行")], BotCommandScopeAllPrivateChats()
        )


# -- group migration ---------------------------------------------------------------------


async def test_migration_to_a_supergroup(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    new_id = emu.migrate_to_supergroup(group)
    old_side, new_side = await bot.get_updates()
    assert old_side.message is not None and old_side.message.migrate_to_chat_id == new_id
    assert old_side.message.chat.id == group
    assert new_side.message is not None and new_side.message.migrate_from_chat_id == group
    assert new_side.message.chat.id == new_id and new_side.message.chat.type == "supergroup"
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(group, "还在吗")
    assert migrated.value.new_chat_id == new_id
    assert (await bot.send_message(new_id, "搬家了")).chat.id == new_id


# -- faults ------------------------------------------------------------------------------


async def test_faults_surface_as_ptb_exceptions(
    emu: BotApiEmulator, bot: telegram.Bot, group: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, no deprecation
    emu.inject_fault("sendMessage", kind="429", retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(group, "x")
    assert flood.value.retry_after == dtm.timedelta(seconds=7)

    emu.inject_fault("sendMessage", kind="403_kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(group, "x")

    emu.inject_fault("sendMessage", kind="403_blocked")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(group, "x")

    emu.inject_fault("sendMessage", kind="migrated", migrate_to_chat_id=-1009876543210)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(group, "x")
    assert migrated.value.new_chat_id == -1009876543210

    emu.inject_fault(kind="5xx")  # any method
    with pytest.raises(NetworkError) as server_error:
        await bot.get_chat(group)
    assert not isinstance(server_error.value, BadRequest)

    emu.inject_fault("sendMessage", kind="network")
    with pytest.raises(NetworkError, match="RemoteProtocolError"):
        await bot.send_message(group, "dropped")

    assert [c.fault for c in emu.calls if c.fault] == [
        "429",
        "403_kicked",
        "403_blocked",
        "migrated",
        "5xx",
        "network",
    ]
    assert [m["text"] for m in emu.messages_in(group)] == []  # none of them took effect
    assert (await bot.send_message(group, "好了")).text == "好了"  # faults are used up


async def test_a_slow_answer_times_out_but_the_message_was_sent(
    emu: BotApiEmulator, group: int
) -> None:
    emu.inject_fault("sendMessage", kind="slow", delay=0.5, chat_id=group)
    request = HTTPXRequest(read_timeout=0.1)
    async with telegram.Bot(TOKEN, base_url=emu.base_url, request=request) as impatient:
        with pytest.raises(TimedOut):
            await impatient.send_message(group, "慢")
    assert [m["text"] for m in emu.messages_in(group)] == ["慢"]  # the classic double-send trap


async def test_fault_count_and_chat_filter(
    emu: BotApiEmulator, bot: telegram.Bot, group: int
) -> None:
    other = emu.create_group("别的群")["id"]
    emu.add_bot_to_group(other, by_user_id=WANG)
    emu.inject_fault("sendMessage", kind="403_kicked", count=2, chat_id=group)
    assert (await bot.send_message(other, "ok")).chat.id == other
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(group, "x")
    assert (await bot.send_message(group, "ok")).chat.id == group


async def test_flood_limits_answer_429(
    emu: BotApiEmulator, bot: telegram.Bot, group: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.enforce_limits(overall_per_second=1000, per_group_per_minute=3)
    for n in range(3):
        await bot.send_message(group, f"通知 {n}")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(group, "通知 3")
    retry_after = flood.value.retry_after
    assert isinstance(retry_after, dtm.timedelta)
    assert dtm.timedelta(seconds=1) <= retry_after <= dtm.timedelta(seconds=60)
    assert emu.rejected_429 == 1
    emu.private_chat_started(WANG)
    assert await bot.send_message(WANG, "私聊不受群限制")
    emu.disable_limits()
    assert await bot.send_message(group, "通知 3")


def test_overall_limit_uses_a_sliding_second() -> None:
    now = [100.0]
    world = World(token=TOKEN, clock=lambda: now[0])
    world.add_user(WANG, "王阿姨")
    world.private_chat_started(WANG)
    world.enforce_limits(overall_per_second=2, per_group_per_minute=None)
    statuses = [world.call("sendMessage", {"chat_id": WANG, "text": "x"}).status for _ in range(3)]
    assert statuses == [200, 200, 429]
    now[0] += 1.01
    assert world.call("sendMessage", {"chat_id": WANG, "text": "x"}).status == 200
    assert world.rejected_429 == 1


# -- text rules without a network --------------------------------------------------------


def test_utf16_lengths() -> None:
    assert utf16_length("电梯") == 2
    assert utf16_length("😀") == 2
    assert utf16_length("👨‍💻") == 5


def test_parse_html_nested_and_pre_with_language() -> None:
    text, entities = parse_html(
        '<b>粗<i>斜</i></b><pre><code class="language-python">x</code></pre>'
    )
    assert text == "粗斜x"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 2),
        ("italic", 1, 1),
        ("pre", 2, 1),
    ]
    assert entities[2]["language"] == "python"


# -- the HTTP control side ---------------------------------------------------------------


async def test_the_http_control_side(
    emu: BotApiEmulator, bot: telegram.Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with httpx.AsyncClient(base_url=emu.control_url) as control:

        async def post(action: str, **body: object) -> object:
            answer = await control.post(f"/{action}", json=body)
            assert answer.status_code == 200, answer.text
            return answer.json()["result"]

        chat = await post("create_group", title="控制群")
        chat_id = chat["id"]  # type: ignore[index]
        await post("add_user", user_id=2001, first_name="张三", username="zhang_san")
        await post("add_bot_to_group", chat_id=chat_id, by_user_id=2001)
        posted = await post("post_message", chat_id=chat_id, user_id=2001, text="/ping")
        assert posted["entities"][0]["type"] == "bot_command"  # type: ignore[index]
        bulk = await post(
            "post_messages",
            messages=[{"chat_id": chat_id, "user_id": 2001, "text": f"第{n}条"} for n in range(5)],
        )
        assert bulk["count"] == 5  # type: ignore[index]
        updates = await bot.get_updates()
        assert len(updates) == 8 and updates[2].message.text == "/ping"  # type: ignore[union-attr]

        await post("fault", method="sendMessage", kind="429", retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(chat_id, "x")
        await bot.send_message(chat_id, "pong")

        messages = (await control.get("/messages", params={"chat_id": chat_id})).json()
        assert [m["text"] for m in messages["result"]] == ["pong"]
        calls = (await control.get("/calls", params={"method": "sendMessage"})).json()["result"]
        assert [c["status"] for c in calls["calls"]] == [429, 200]
        assert calls["calls"][1]["params"] == {"chat_id": chat_id, "text": "pong"}

        waiting = asyncio.create_task(post("wait_until_delivered", timeout=5))
        await bot.get_updates(offset=updates[-1].update_id + 1)
        assert (await waiting)["pending_updates"] == 0  # type: ignore[index]

        await post("limits", overall_per_second=1, per_group_per_minute=None)
        state = (await control.get("/state")).json()["result"]
        assert state["rejected_429"] == 0

        missing = await control.post("/no_such_action", json={})
        assert missing.status_code == 404
        wrong = await control.post(
            "/post_message", json={"chat_id": chat_id, "user_id": 999, "text": "hi"}
        )
        assert wrong.status_code == 400 and "unknown user" in wrong.json()["error"]
        assert (await post("reset")) is None
        assert emu.users == {}


def test_every_control_action_is_documented() -> None:
    documentation = emulator_package.__doc__ or ""
    assert [a for a in CONTROL_ACTIONS if f"/control/{a}" not in documentation] == []


def test_the_world_module_still_offers_its_old_names() -> None:
    # World is assembled from several modules; imports from bot.emulator.world must not notice
    assert world_module.World is World
    old_names = {"JSONDict", "Reply", "UploadedFile", "ApiError", "bad_request", "parse_html"}
    assert old_names <= set(world_module.__all__)
    assert [name for name in world_module.__all__ if not hasattr(world_module, name)] == []


# -- the real Application ----------------------------------------------------------------


async def test_a_real_application_answers_ping(emu: BotApiEmulator, group: int) -> None:
    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("pong")

    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("ping", ping))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        try:
            posted = emu.post_message(group, WANG, "/ping")
            await emu.wait_until_delivered()
            await application.update_queue.join()
            reply = await emu.wait_for_bot_message(group, lambda m: m["text"] == "pong")
            assert reply["reply_to_message"]["message_id"] == posted["message_id"]
        finally:
            await application.updater.stop()
            await application.stop()
    assert emu.pending_update_count == 0


async def test_get_updates_conflicts_like_telegram(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    async with telegram.Bot(TOKEN, base_url=emu.base_url) as second_instance:
        first_poll = asyncio.create_task(bot.get_updates(timeout=5))
        await emu.wait_for_call("getUpdates")
        await second_instance.get_updates(timeout=0)
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first_poll
    assert await bot.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"


# -- running standalone ------------------------------------------------------------------


async def test_the_standalone_server_prints_its_base_url() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.emulator",
        "--port",
        "0",
        "--token",
        TOKEN,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        async with telegram.Bot(TOKEN, base_url=base_url) as remote:
            assert (await remote.get_me()).username == "gridbot_bot"
        async with httpx.AsyncClient() as client:
            state = await client.get(base_url.removesuffix("/bot") + "/control/state")
        assert state.json()["result"]["calls"] == 2  # initialize() calls getMe too
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
