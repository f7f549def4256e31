"""The Telegram side of the Bot API as plain state: people, chats, messages, updates, calls.

Standard library only, no I/O, no asyncio. :class:`World` does two things:

* what the people in a test or the demo do — post a message, press a button, add or kick
  the bot, upgrade a group — becomes stored messages and queued updates, shaped exactly
  like the JSON Telegram sends;
* a Bot API call, already decoded into Python values, becomes an answer (``{"ok": true,
  "result": ...}`` or a Telegram-style error) and a state change, and is recorded.

:mod:`bot.emulator.server` puts HTTP in front of it; nothing here knows about sockets, so
the rules can be exercised without a network.

Deliberate simplifications, each chosen so that bot code that works here works on Telegram:

* ``parse_mode`` HTML is parsed into plain text and entities and rejected like Telegram when
  malformed; Markdown modes are accepted but not parsed.
* Message ids count per chat. Files are kept in memory.
* Privacy mode (``can_read_all_group_messages=False``) delivers, in groups where the bot is
  not an admin: commands at the start of a message (bare or addressed to this bot),
  mentions of the bot, replies to the bot's messages, messages via the bot, service
  messages.
* Updates of a type the bot did not ask for in ``allowed_updates`` are never created, and
  nothing is pushed to a webhook (``setWebhook`` only makes ``getUpdates`` answer 409).

:class:`World` is assembled from one module per idea: :mod:`~bot.emulator.records` (the
shapes: errors, calls, chats), :mod:`~bot.emulator.text` (UTF-16 offsets, entities, HTML),
:mod:`~bot.emulator.state` (state, updates, delivery rules), :mod:`~bot.emulator.people`
(what people do), :mod:`~bot.emulator.files`, :mod:`~bot.emulator.faults` (faults, flood
limits) and the Bot API methods in :mod:`~bot.emulator.api_messages` and
:mod:`~bot.emulator.api_chats`. This module adds the dispatch of a call and what tests
observe, and re-exports the names that have always been importable from here.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from bot.emulator.api_chats import ChatsApi, scope_key
from bot.emulator.api_messages import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    MessagesApi,
)
from bot.emulator.faults import FAULT_KINDS, Fault, FaultKind, FaultsAndLimits
from bot.emulator.params import int_param, json_param
from bot.emulator.people import PeopleActions
from bot.emulator.records import (
    GROUP_ANONYMOUS_BOT_ID,
    TELEGRAM_SERVICE_ID,
    ApiCall,
    ApiError,
    ChatState,
    JSONDict,
    MemberStatus,
    Reply,
    StoredFile,
    UploadedFile,
    bad_request,
    forbidden,
    too_many_requests,
)
from bot.emulator.state import ApiMethod
from bot.emulator.text import EntityParseError, detect_entities, parse_html, utf16_length

__all__ = [
    "FAULT_KINDS",
    "GROUP_ANONYMOUS_BOT_ID",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "TELEGRAM_SERVICE_ID",
    "ApiCall",
    "ApiError",
    "ApiMethod",
    "ChatState",
    "EntityParseError",
    "Fault",
    "FaultKind",
    "JSONDict",
    "MemberStatus",
    "Reply",
    "StoredFile",
    "UploadedFile",
    "World",
    "bad_request",
    "detect_entities",
    "forbidden",
    "parse_html",
    "too_many_requests",
    "utf16_length",
]


class World(PeopleActions, FaultsAndLimits, MessagesApi, ChatsApi):
    """Everything Telegram knows in an emulated session, and the Bot API over it.

    Args:
        token: The bot token; calls with another token are refused with 401.
        bot_username: The bot's username, without ``@``.
        can_read_all_group_messages: ``False`` emulates privacy mode (see the module docs).
        clock: Monotonic clock for call times and rate limits (injectable for tests).
        wall_clock: Epoch seconds for message dates.
    """

    # -- observation --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        """The recorded calls of one method (case-insensitive)."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """Any stored message as it is now (None once deleted)."""
        return self.chat(chat_id).messages.get(message_id)

    def messages_in(self, chat_id: int) -> list[JSONDict]:
        """The bot's messages in a chat, oldest first, as they are now (edits applied)."""
        chat = self.chat(chat_id)
        return [chat.messages[mid] for mid in chat.bot_message_ids if mid in chat.messages]

    def last_bot_message(self, chat_id: int) -> JSONDict | None:
        """The bot's newest surviving message in a chat."""
        messages = self.messages_in(chat_id)
        return messages[-1] if messages else None

    def mark(self) -> int:
        """A position in the log of the bot's messages, for :meth:`bot_messages_since`."""
        return len(self._bot_log)

    def bot_messages_since(self, mark: int) -> list[JSONDict]:
        """The bot's messages (any chat) sent after ``mark``, as they are now."""
        found = []
        for chat_id, message_id in self._bot_log[mark:]:
            message = self.chats[chat_id].messages.get(message_id)
            if message is not None:
                found.append(message)
        return found

    def reply_markup_of(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The reply_markup the bot last sent with a message, reply keyboards included."""
        return self.chat(chat_id).sent_markup.get(message_id)

    def callback_answer(self, query_id: str) -> JSONDict | None:
        """What the bot answered to a callback query (None while unanswered)."""
        if query_id not in self.callback_answers:
            raise KeyError(f"unknown callback query {query_id}")
        return self.callback_answers[query_id]

    def reactions(self, chat_id: int, message_id: int) -> list[JSONDict]:
        """The bot's current reaction on a message."""
        return self.chat(chat_id).reactions.get(message_id, [])

    def commands_for(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The command menu set for a scope (default scope when None) and language."""
        return self.commands.get((scope_key(scope), language_code), [])

    def file_content(self, file_id: str) -> bytes:
        """The bytes behind a file id."""
        return self.files[file_id].content

    def pinned_messages(self, chat_id: int) -> list[int]:
        """Pinned message ids in a chat, oldest pin first."""
        return list(self.chat(chat_id).pinned)

    # -- the Bot API --------------------------------------------------------------------

    def call(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile] | None = None,
    ) -> Reply:
        """Answer one Bot API call (method names are case-insensitive, as on Telegram).

        The call is recorded in :attr:`calls` whatever the answer.
        """
        handler = self._methods.get(method.lower())
        name = self._method_names.get(method.lower(), method)
        files = files or {}
        record = ApiCall(
            seq=len(self.calls),
            method=name,
            params=dict(params),
            time=self._clock(),
            files={part: upload.filename for part, upload in files.items()},
        )
        self.calls.append(record)
        reply = Reply(call=record)
        if handler is None:
            return self._fail(reply, ApiError(404, "Not Found"))
        fault = self._take_fault(name, params)
        if fault is not None:
            record.fault = fault.kind
            if fault.kind == "network":
                reply.drop_connection = True
                record.ok, record.status, record.description = False, 0, "connection dropped"
                return reply
            if fault.kind == "slow":
                reply.delay = fault.delay
            else:
                return self._fail(reply, self._fault_error(fault, params))
        try:
            self._check_limits(name, params)
            if name == "getUpdates":
                updates, timeout = self._get_updates(params, reply)
                if not updates and timeout > 0:
                    reply.poll_timeout = timeout
                result: Any = updates
            else:
                result = handler(params, files)
        except ApiError as error:
            return self._fail(reply, error)
        record.result = result
        reply.payload = {"ok": True, "result": result}
        self._changed()
        return reply

    def finish_poll(
        self, reply: Reply, *, terminated: bool = False, abandoned: bool = False
    ) -> None:
        """Complete a held getUpdates: answer what arrived meanwhile, or 409 if superseded.

        ``abandoned``: the client closed the connection first; recorded as status 499 (no
        answer was sent, and nothing counts as delivered).
        """
        if abandoned:
            self._fail(reply, ApiError(499, "client closed the connection before the answer"))
            return
        if terminated:
            self._fail(
                reply,
                ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                ),
            )
            return
        updates = list(itertools.islice(self._pending, reply.poll_limit))
        reply.call.result = updates
        reply.payload = {"ok": True, "result": updates}

    def _fail(self, reply: Reply, error: ApiError) -> Reply:
        reply.status = error.status
        reply.payload = error.payload()
        reply.call.ok = False
        reply.call.status = error.status
        reply.call.description = error.description
        reply.call.result = None
        self._changed()
        return reply

    def _get_updates(self, params: Mapping[str, Any], reply: Reply) -> tuple[list[JSONDict], int]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self.poll_generation += 1
        reply.poll_generation = self.poll_generation
        offset = int_param(params, "offset", required=False) or 0
        limit = min(100, max(1, int_param(params, "limit", required=False) or 100))
        timeout = max(0, int_param(params, "timeout", required=False) or 0)
        if "allowed_updates" in params:
            allowed = json_param(params, "allowed_updates")
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("can't parse allowed_updates JSON array")
            self.allowed_updates = frozenset(allowed) if allowed else None
        pending = self._pending
        if offset > 0:
            while pending and pending[0]["update_id"] < offset:
                pending.popleft()
        elif offset < 0:
            while len(pending) > -offset:
                pending.popleft()
        reply.poll_limit = limit
        return list(itertools.islice(pending, limit)), timeout

    def _api_getUpdates(  # noqa: N802 - Bot API method name
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> Any:
        raise AssertionError("handled in call()")  # registered so the name is known
