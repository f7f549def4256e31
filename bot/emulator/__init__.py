"""A local Telegram Bot API emulator for end-to-end tests, the offline demo and benchmarks.

The real python-telegram-bot ``Application`` runs against it unchanged::

    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emu:
        app = (
            Application.builder()
            .token(TOKEN)
            .base_url(emu.base_url)
            .base_file_url(emu.base_file_url)
            .build()
        )
        emu.add_user(1001, "王阿姨", username="wang_ayi")
        group = emu.create_group("幸福里3栋")
        emu.add_bot_to_group(group["id"], by_user_id=1001)
        emu.post_message(group["id"], 1001, "/report 3栋电梯坏了")
        await emu.wait_until_delivered()
        await app.update_queue.join()
        reply = await emu.wait_for_bot_message(group["id"])

:class:`World` (``world.py``, assembled from the modules beside it) is the pure state and
the Bot API's rules; it needs no network. :class:`BotApiEmulator` (``server.py``) serves it
over HTTP on 127.0.0.1 and adds the async waits. ``python -m bot.emulator --port 8081`` runs
one standalone and prints its ``base_url``.

Bot API methods: getMe, logOut, close, setWebhook, deleteWebhook, getWebhookInfo,
getUpdates (offset, limit, long-poll timeout, allowed_updates), sendMessage, sendPhoto,
sendDocument, sendChatAction, editMessageText, editMessageCaption, editMessageReplyMarkup,
deleteMessage, setMessageReaction, pinChatMessage, unpinChatMessage, unpinAllChatMessages,
answerCallbackQuery, getChat, getChatMember, getChatAdministrators, getChatMemberCount,
leaveChat, setMyCommands, getMyCommands, deleteMyCommands, getFile. Any other method gets
Telegram's 404 ``Not Found`` (which PTB raises as ``InvalidToken``) and a logged warning.

HTTP control side, for a bot in another process. JSON in; ``{"ok": true, "result": ...}``
out, or ``{"ok": false, "error": "..."}`` with 400 (bad arguments, unknown ids), 404
(unknown action) or 408 (a wait timed out). A POST body holds the keyword arguments of the
world method of the same name; GET arguments go in the query string.

Observe:

- ``GET /control/state`` -- counters: calls, pending_updates, last_update_id,
  bot_messages (the current mark), rejected_429, faults.
- ``GET /control/calls?since=N&method=sendMessage`` -- ``{"calls": [...], "next": N}``;
  each call has seq, method, params (decoded), time, status, ok, result, description,
  fault, files.
- ``GET /control/messages?chat_id=ID`` -- the bot's messages in a chat, as edited.
- ``GET /control/bot_messages?since=MARK`` -- ``{"messages": [...], "mark": MARK}``.
- ``GET /control/updates`` -- the updates the bot has not confirmed yet.
- ``GET /control/callback_answer?query_id=ID`` -- the bot's answer, or null.
- ``GET /control/commands?scope=<json>&language_code=zh`` -- a command menu.

Set up and act:

- ``POST /control/reset`` -- forget everything.
- ``POST /control/add_user`` -- user_id, first_name, username, last_name, language_code.
- ``POST /control/create_group`` -- title, chat_id, supergroup, creator_id; returns the Chat.
- ``POST /control/add_member`` -- chat_id, user_id, status.
- ``POST /control/add_bot_to_group`` -- chat_id, by_user_id, as_admin.
- ``POST /control/remove_bot_from_group`` -- chat_id, by_user_id.
- ``POST /control/private_chat_started`` -- user_id.
- ``POST /control/press_start`` -- user_id, payload; returns the ``/start`` Message.
- ``POST /control/block_bot``, ``POST /control/unblock_bot`` -- user_id.
- ``POST /control/migrate_to_supergroup`` -- chat_id; returns ``{"new_chat_id": ...}``.
- ``POST /control/post_message`` -- as :meth:`World.post_message`; ``photo`` may be base64
  bytes, ``document`` a file name or ``{"name": ..., "content": <base64>}``, ``location``
  ``[lat, lon]``, ``text_mentions`` ``[[text, user_id], ...]``.
- ``POST /control/post_messages`` -- ``{"messages": [{...}, ...]}`` in one request;
  returns count and last_update_id.
- ``POST /control/edit_message`` -- chat_id, message_id, new_text.
- ``POST /control/press_button`` -- chat_id, message_id, user_id, data; returns
  ``{"query_id": ...}``.

Faults, limits, waits:

- ``POST /control/fault`` -- method, kind, count, retry_after, migrate_to_chat_id, delay,
  chat_id (see :meth:`World.inject_fault`); ``POST /control/clear_faults``.
- ``POST /control/limits`` -- overall_per_second, per_group_per_minute (null switches one
  off); ``{"enabled": false}`` stops enforcing.
- ``POST /control/wait_until_delivered`` -- timeout.
- ``POST /control/wait_for_bot_message`` -- chat_id, timeout, since, text_contains.
"""

from bot.emulator.server import CONTROL_ACTIONS, BotApiEmulator, decode_params
from bot.emulator.world import (
    FAULT_KINDS,
    GROUP_ANONYMOUS_BOT_ID,
    TELEGRAM_SERVICE_ID,
    ApiCall,
    ApiError,
    ChatState,
    FaultKind,
    JSONDict,
    MemberStatus,
    World,
    detect_entities,
    parse_html,
    utf16_length,
)

__all__ = [
    "CONTROL_ACTIONS",
    "FAULT_KINDS",
    "GROUP_ANONYMOUS_BOT_ID",
    "TELEGRAM_SERVICE_ID",
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "ChatState",
    "FaultKind",
    "JSONDict",
    "MemberStatus",
    "World",
    "decode_params",
    "detect_entities",
    "parse_html",
    "utf16_length",
]
