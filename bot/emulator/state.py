"""The world's shared state and the rules every part of it goes by.

:class:`WorldState` holds the bot, the people and chats Telegram knows, and the queue of
updates; it knows who the bot sees messages from (membership, privacy mode) and which chats
a Bot API call may address. The rest of :class:`~bot.emulator.world.World` is mixins on top
of it: what people do (:mod:`~bot.emulator.people`), files (:mod:`~bot.emulator.files`),
faults and flood limits (:mod:`~bot.emulator.faults`) and the Bot API methods
(:mod:`~bot.emulator.api_messages`, :mod:`~bot.emulator.api_chats`).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

from bot.emulator.params import loose_int
from bot.emulator.records import (
    GROUP_ANONYMOUS_BOT_ID,
    ApiCall,
    ChatState,
    JSONDict,
    MemberStatus,
    UploadedFile,
    bad_request,
    chat_upgraded,
    forbidden,
)

# Update types Telegram leaves out unless a bot asks for them in allowed_updates.
_OPT_IN_UPDATE_TYPES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

# Keys that make a message a service message (delivered even in privacy mode).
_SERVICE_KEYS: Final = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
    }
)

ApiMethod = Callable[[Mapping[str, Any], Mapping[str, UploadedFile]], Any]
"""A Bot API method: ``_api_<Name>(params, files)``, answering with the call's result."""


class WorldState:
    """The state every part of the world works on, and the rules they share.

    Takes the arguments documented on :class:`~bot.emulator.world.World`.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "gridbot_bot",
        *,
        bot_first_name: str = "Gridbot",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = True,
        supports_inline_queries: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Create an empty world with just the bot in it."""
        bot_id = loose_int(token.split(":", 1)[0])
        self.token = token
        self.bot_id = bot_id if bot_id is not None else 123456
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.can_join_groups = can_join_groups
        self.can_read_all_group_messages = can_read_all_group_messages
        self.supports_inline_queries = supports_inline_queries
        self._clock = clock
        self._wall_clock = wall_clock
        self._methods: dict[str, ApiMethod] = {
            name.removeprefix("_api_").lower(): getattr(self, name)
            for name in dir(self)
            if name.startswith("_api_")
        }
        self._method_names = {
            name.removeprefix("_api_").lower(): name.removeprefix("_api_")
            for name in dir(self)
            if name.startswith("_api_")
        }
        self.reset()

    def reset(self) -> None:
        """Forget every person, chat, message, update and call.

        The parts of the world that keep state of their own (faults and limits, files,
        command menus) extend this and then call it, so that :meth:`_changed` comes last.
        """
        self.users: dict[int, JSONDict] = {}
        self.chats: dict[int, ChatState] = {}
        self.calls: list[ApiCall] = []
        self.webhook_url = ""
        self.allowed_updates: frozenset[str] | None = None
        """What the bot last asked for in ``allowed_updates``; None means Telegram's default."""
        self.callback_answers: dict[str, JSONDict | None] = {}
        self._pending: deque[JSONDict] = deque()
        self._last_update_id = 0
        self.poll_generation = 0
        self._bot_log: list[tuple[int, int]] = []
        self._mark_at_last_update = 0
        self._ids = itertools.count(1)
        self._next_group_id = 4_000_000_000
        self._next_supergroup_id = 1_001_000_000_000
        self._changed()

    def _changed(self) -> None:
        """Hook called after every state change; the server wakes its waiters here."""

    # -- the bot ------------------------------------------------------------------------

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a ``User`` in messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def check_token(self, token: str) -> bool:
        """Whether a request used this bot's token."""
        return token == self.token

    # -- people and chats ---------------------------------------------------------------

    def user(self, user_id: int) -> JSONDict:
        """A known user's JSON; ``KeyError`` names the missing id."""
        if user_id == self.bot_id:
            return self.bot_user
        if user_id == GROUP_ANONYMOUS_BOT_ID:
            return {
                "id": GROUP_ANONYMOUS_BOT_ID,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            }
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"unknown user {user_id}; add_user() first") from None

    def chat(self, chat_id: int) -> ChatState:
        """The state of a chat (private chats exist once the user is known)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            if chat_id > 0 and chat_id in self.users:
                chat = self.chats[chat_id] = ChatState(
                    id=chat_id, type="private", user=self.users[chat_id]
                )
            else:
                raise KeyError(f"unknown chat {chat_id}")
        return chat

    def _group(self, chat_id: int) -> ChatState:
        chat = self.chat(chat_id)
        if chat.type == "private":
            raise ValueError(f"chat {chat_id} is a private chat, not a group")
        return chat

    def _now(self) -> int:
        return int(self._wall_clock())

    # -- updates ------------------------------------------------------------------------

    def _wants(self, update_type: str) -> bool:
        if self.allowed_updates is None:
            return update_type not in _OPT_IN_UPDATE_TYPES
        return update_type in self.allowed_updates

    def _queue_update(self, update_type: str, payload: JSONDict) -> None:
        if self._wants(update_type):
            self._last_update_id += 1
            self._pending.append({"update_id": self._last_update_id, update_type: payload})
            self._mark_at_last_update = len(self._bot_log)
        self._changed()

    @property
    def pending_update_count(self) -> int:
        """Updates queued and not yet confirmed by a later getUpdates offset."""
        return len(self._pending)

    @property
    def last_update_id(self) -> int:
        """The id of the newest update ever queued (0 before the first)."""
        return self._last_update_id

    def pending_updates(self) -> list[JSONDict]:
        """A copy of the updates not yet confirmed."""
        return list(self._pending)

    def redeliver(self, payload: JSONDict, update_type: str = "message") -> int:
        """Queue an update again, as Telegram does when a bot died before confirming it.

        Telegram re-sends the very same update after a crash. A running PTB updater would
        skip an update_id below its offset, so the copy gets a fresh update_id; the payload
        (and so chat id + message id, the key to deduplicate on) is identical. Returns the
        new update_id.
        """
        self._queue_update(update_type, payload)
        return self._last_update_id

    def drop_pending_updates(self) -> int:
        """Forget the queued updates (e.g. the ones a test's setup produced); returns how many."""
        count = len(self._pending)
        self._pending.clear()
        self._changed()
        return count

    def _bot_sees(self, chat: ChatState, message: JSONDict) -> bool:
        """Telegram's delivery rules: membership, then privacy mode."""
        if chat.type == "private":
            return not chat.blocked
        if chat.bot_status not in ("member", "administrator"):
            return False
        if self.can_read_all_group_messages or chat.bot_status == "administrator":
            return True
        if not _SERVICE_KEYS.isdisjoint(message):
            return True
        text: str = message.get("text") or message.get("caption") or ""
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            if "@" not in command or command.endswith(f"@{self.bot_username}"):
                return True
        if f"@{self.bot_username}".lower() in text.lower():
            return True
        reply = message.get("reply_to_message")
        if reply is not None and reply.get("from", {}).get("id") == self.bot_id:
            return True
        return message.get("via_bot", {}).get("id") == self.bot_id

    def _member_json(self, user: JSONDict, status: MemberStatus) -> JSONDict:
        if status == "creator":
            return {"status": "creator", "user": user, "is_anonymous": False}
        if status == "administrator":
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": user["id"] == self.bot_id,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
                "can_manage_topics": False,
            }
        if status == "kicked":
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def _member_update(
        self, chat: ChatState, by_user: JSONDict, *, old: MemberStatus, new: MemberStatus
    ) -> None:
        self._queue_update(
            "my_chat_member",
            {
                "chat": chat.json,
                "from": by_user,
                "date": self._now(),
                "old_chat_member": self._member_json(self.bot_user, old),
                "new_chat_member": self._member_json(self.bot_user, new),
            },
        )

    def _service_message(
        self, chat: ChatState, by_user: JSONDict, *, force: bool = False, **content: Any
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": chat.next_message_id(),
            "from": by_user,
            "chat": chat.json,
            "date": self._now(),
            **content,
        }
        chat.messages[message["message_id"]] = message
        if force or self._bot_sees(chat, message):
            self._queue_update("message", message)
        else:
            self._changed()
        return message

    # -- chats a call may address -------------------------------------------------------

    def _target_chat(self, params: Mapping[str, Any], *, write: bool = True) -> ChatState:
        if params.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        chat_id = loose_int(params["chat_id"])  # "@username" chats are not emulated
        try:
            chat = self.chat(chat_id if chat_id is not None else 0)
        except KeyError:
            raise bad_request("chat not found") from None
        if chat.migrated_to is not None:
            raise chat_upgraded(chat.migrated_to)
        if chat.type == "private":
            if write and chat.blocked:
                raise forbidden("bot was blocked by the user")
            if write and not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.kind_name}")
        elif chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {chat.kind_name}")
        return chat
