"""What the people in a test or the demo do: join, start the bot, post, edit, press buttons.

Each action becomes stored messages and queued updates shaped exactly like the JSON
Telegram sends, delivered or not by the rules in :mod:`bot.emulator.state`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, get_args

from bot.emulator.files import FileStore
from bot.emulator.records import (
    GROUP_ANONYMOUS_BOT_ID,
    TELEGRAM_SERVICE_ID,
    ChatState,
    JSONDict,
    MemberStatus,
    UploadedFile,
    without_reply,
)
from bot.emulator.text import detect_entities

# A 1x1 PNG: the bytes behind photos people post, so getFile has something to serve.
_TINY_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


class PeopleActions(FileStore):
    """The people's side: setting up people and chats, and everything they do in them."""

    # -- people and chats ---------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
        is_bot: bool = False,
    ) -> JSONDict:
        """Someone who exists on Telegram; returns the ``User`` JSON."""
        user: JSONDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        self._changed()
        return user

    def create_group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
        creator_id: int | None = None,
    ) -> JSONDict:
        """A group (negative id) or supergroup (``-100…``) without the bot in it yet."""
        if chat_id is None:
            if supergroup:
                self._next_supergroup_id += 1
                chat_id = -self._next_supergroup_id
            else:
                self._next_group_id += 1
                chat_id = -self._next_group_id
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id in self.chats:
            raise ValueError(f"chat {chat_id} exists already")
        chat = ChatState(id=chat_id, type="supergroup" if supergroup else "group", title=title)
        if creator_id is not None:
            self.user(creator_id)
            chat.members[creator_id] = "creator"
        self.chats[chat_id] = chat
        self._changed()
        return chat.json

    def private_chat_started(self, user_id: int) -> None:
        """The user pressed Start: the bot may message them from now on (no update)."""
        chat = self.chat(user_id)
        chat.started = True
        chat.blocked = False
        self._changed()

    def press_start(self, user_id: int, payload: str | None = None) -> JSONDict:
        """The user opens the bot and presses Start (``/start payload`` for deep links)."""
        self.private_chat_started(user_id)
        return self.post_message(user_id, user_id, f"/start {payload}" if payload else "/start")

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: a ``my_chat_member`` update, then 403 on every send."""
        chat = self.chat(user_id)
        chat.blocked = True
        self._member_update(chat, self.user(user_id), old="member", new="kicked")

    def unblock_bot(self, user_id: int) -> None:
        """The user unblocks (restarts) the bot."""
        chat = self.chat(user_id)
        chat.blocked = False
        chat.started = True
        self._member_update(chat, self.user(user_id), old="kicked", new="member")

    def add_member(self, chat_id: int, user_id: int, status: MemberStatus = "member") -> None:
        """Set someone's standing in a group (setup only: no service message, no update)."""
        if status not in get_args(MemberStatus):
            raise ValueError(f"unknown member status {status!r}")
        self.user(user_id)
        self._group(chat_id).members[user_id] = status
        self._changed()

    def add_bot_to_group(self, chat_id: int, by_user_id: int, *, as_admin: bool = False) -> None:
        """Someone adds (or promotes) the bot: ``my_chat_member``, then a service message."""
        chat = self._group(chat_id)
        by_user = self.user(by_user_id)
        chat.members.setdefault(by_user_id, "member")
        old = chat.bot_status
        new: MemberStatus = "administrator" if as_admin else "member"
        if old == new:
            return
        chat.bot_status = new
        self._member_update(chat, by_user, old=old, new=new)
        if old in ("left", "kicked"):
            self._service_message(chat, by_user, new_chat_members=[self.bot_user])

    def remove_bot_from_group(self, chat_id: int, by_user_id: int) -> None:
        """Someone kicks the bot: ``my_chat_member`` (kicked) and a ``left_chat_member``."""
        chat = self._group(chat_id)
        by_user = self.user(by_user_id)
        old = chat.bot_status
        if old in ("left", "kicked"):
            raise ValueError(f"the bot is not in chat {chat_id}")
        chat.bot_status = "kicked"
        self._member_update(chat, by_user, old=old, new="kicked")
        self._service_message(chat, by_user, left_chat_member=self.bot_user, force=True)

    def migrate_to_supergroup(self, chat_id: int, *, by_user_id: int | None = None) -> int:
        """Upgrade a group like Telegram does; returns the supergroup's new id.

        The old group gets a service message with ``migrate_to_chat_id``, the new supergroup
        one with ``migrate_from_chat_id``; members and the bot carry over, and later sends
        to the old id fail with "group chat was upgraded to a supergroup chat".
        """
        old = self._group(chat_id)
        if old.type != "group" or old.migrated_to is not None:
            raise ValueError(f"chat {chat_id} is not a basic group")
        if by_user_id is None:
            by_user_id = next(
                (uid for uid, status in old.members.items() if status == "creator"),
                TELEGRAM_SERVICE_ID,
            )
        by_user = (
            self.user(by_user_id)
            if by_user_id != TELEGRAM_SERVICE_ID
            else {"id": TELEGRAM_SERVICE_ID, "is_bot": False, "first_name": "Telegram"}
        )
        self._next_supergroup_id += 1
        new = ChatState(
            id=-self._next_supergroup_id,
            type="supergroup",
            title=old.title,
            members=dict(old.members),
            bot_status=old.bot_status,
            migrated_from=old.id,
        )
        self.chats[new.id] = new
        self._service_message(old, by_user, migrate_to_chat_id=new.id)
        old.migrated_to = new.id
        self._service_message(new, by_user, migrate_from_chat_id=old.id)
        return new.id

    # -- what people post ---------------------------------------------------------------

    def post_message(
        self,
        chat_id: int,
        user_id: int | None,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        photo: bool | bytes = False,
        caption: str | None = None,
        location: tuple[float, float] | None = None,
        document: str | tuple[str, bytes] | None = None,
        sticker: bool = False,
        voice: bool | int = False,
        forward_from_user_id: int | None = None,
        sender_chat_id: int | None = None,
        via_bot: int | None = None,
        text_mentions: Sequence[tuple[str, int]] = (),
    ) -> JSONDict:
        """A person writes in a chat; returns the stored ``Message`` (and queues its update).

        Entities are computed like a client does (``/cmd``, ``/cmd@bot``, ``@username``,
        UTF-16 offsets); ``text_mentions`` links pieces of the text to users. ``photo`` may
        be the image bytes, ``document`` a file name or ``(file name, bytes)``, ``voice`` a
        duration. ``sender_chat_id`` posts as an anonymous admin (``from`` is
        GroupAnonymousBot). In a private chat ``chat_id`` is the user's id and posting also
        counts as having started the bot.
        """
        chat = self.chat(chat_id)
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} was upgraded to {chat.migrated_to}")
        has_media = bool(photo or location or document or sticker or voice)
        if text is not None and has_media:
            raise ValueError("media messages carry caption=, not text=")
        if text is None and caption is None and not has_media:
            raise ValueError("post_message needs text, a caption or some media")
        if sender_chat_id is not None:
            sender: JSONDict = self.user(GROUP_ANONYMOUS_BOT_ID)
        elif user_id is not None:
            sender = self.user(user_id)
        else:
            raise ValueError("post_message needs a user_id or a sender_chat_id")
        if chat.type == "private":
            if user_id != chat_id:
                raise ValueError("in a private chat only its user can post")
            if chat.blocked:
                raise ValueError(f"user {user_id} blocked the bot; unblock_bot() first")
            chat.started = True
        elif user_id is not None and sender_chat_id is None:
            chat.members.setdefault(user_id, "member")

        message: JSONDict = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "chat": chat.json,
            "date": self._now(),
        }
        if sender_chat_id is not None:
            message["sender_chat"] = self.chat(sender_chat_id).json
        if forward_from_user_id is not None:
            message["forward_origin"] = {
                "type": "user",
                "date": self._now(),
                "sender_user": self.user(forward_from_user_id),
            }
        if via_bot is not None:
            message["via_bot"] = self.user(via_bot)
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None:
                raise KeyError(f"no message {reply_to} in chat {chat_id}")
            message["reply_to_message"] = without_reply(target)
        mentions = [(needle, self.user(uid)) for needle, uid in text_mentions]
        if text is not None:
            message["text"] = text
            if entities := detect_entities(text, mentions):
                message["entities"] = entities
        self._attach_media(
            message,
            photo=photo,
            location=location,
            document=document,
            sticker=sticker,
            voice=voice,
        )
        if caption is not None:
            message["caption"] = caption
            if entities := detect_entities(caption, mentions):
                message["caption_entities"] = entities
        chat.messages[message["message_id"]] = message
        if self._bot_sees(chat, message):
            self._queue_update("message", message)
        else:
            self._changed()
        return message

    def edit_message(self, chat_id: int, message_id: int, new_text: str) -> JSONDict:
        """The author edits their message: an ``edited_message`` update with the new text."""
        chat = self.chat(chat_id)
        old = chat.messages.get(message_id)
        if old is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        edited = {k: v for k, v in old.items() if k not in ("text", "entities", "caption")}
        key = "caption" if "caption" in old else "text"
        edited[key] = new_text
        entities = detect_entities(new_text)
        edited.pop("caption_entities", None)
        if entities:
            edited["entities" if key == "text" else "caption_entities"] = entities
        edited["edit_date"] = self._now()
        chat.messages[message_id] = edited
        if self._bot_sees(chat, edited):
            self._queue_update("edited_message", edited)
        else:
            self._changed()
        return edited

    def press_button(
        self, chat_id: int, message_id: int, user_id: int, data: str, *, check: bool = True
    ) -> str:
        """Someone presses an inline button under a bot message; returns the query id.

        With ``check`` the button must exist on the message as it is now (a client cannot
        press a button that an edit removed).
        """
        chat = self.chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        if check:
            buttons = [
                button.get("callback_data")
                for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                for button in row
            ]
            if data not in buttons:
                raise ValueError(f"message {message_id} has no button {data!r}: {buttons}")
        query_id = str(4_600_000_000_000 + next(self._ids))
        self.callback_answers[query_id] = None
        self._queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.user(user_id),
                "message": message,
                "chat_instance": str(-(chat.id * 7919 + self.bot_id)),
                "data": data,
            },
        )
        return query_id

    def _attach_media(
        self,
        message: JSONDict,
        *,
        photo: bool | bytes,
        location: tuple[float, float] | None,
        document: str | tuple[str, bytes] | None,
        sticker: bool,
        voice: bool | int,
    ) -> None:
        if photo:
            message["photo"] = self._store_photo(photo if isinstance(photo, bytes) else _TINY_PNG)
        if location is not None:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        if document is not None:
            name, content = (document, b"") if isinstance(document, str) else document
            message["document"] = self._store_document(UploadedFile(name, content))
        if sticker:
            stored = self._store_file("stickers", b"RIFF", "image/webp", ".webp")
            message["sticker"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "\U0001f44d",
                "file_size": len(stored.content),
            }
        if voice:
            stored = self._store_file("voice", b"OggS", "audio/ogg", ".oga")
            message["voice"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": 3 if voice is True else int(voice),
                "mime_type": "audio/ogg",
                "file_size": len(stored.content),
            }
