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
"""

from __future__ import annotations

import itertools
import json
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

JSONDict = dict[str, Any]

GROUP_ANONYMOUS_BOT_ID: Final = 1087968824
"""The user anonymous group admins post as; ``sender_chat`` then names the group."""
TELEGRAM_SERVICE_ID: Final = 777000
"""Telegram's own service account."""

MAX_MESSAGE_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

# Update types Telegram leaves out unless a bot asks for them in allowed_updates.
_OPT_IN_UPDATE_TYPES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

# The emoji a bot may react with (Bot API, ReactionTypeEmoji). Note that ✅ is not one.
_REACTION_EMOJI: Final = frozenset(
    "\U0001f44d \U0001f44e \u2764 \U0001f525 \U0001f970 \U0001f44f \U0001f601 \U0001f914 "  # noqa: SIM905
    "\U0001f92f \U0001f631 \U0001f92c \U0001f622 \U0001f389 \U0001f929 \U0001f92e \U0001f4a9 "
    "\U0001f64f \U0001f44c \U0001f54a \U0001f921 \U0001f971 \U0001f974 \U0001f60d \U0001f433 "
    "\u2764\ufe0f\u200d\U0001f525 \U0001f31a \U0001f32d \U0001f4af \U0001f923 \u26a1 "
    "\U0001f34c \U0001f3c6 \U0001f494 \U0001f928 \U0001f610 \U0001f353 \U0001f37e \U0001f48b "
    "\U0001f595 \U0001f608 \U0001f634 \U0001f62d \U0001f913 \U0001f47b "
    "\U0001f468\u200d\U0001f4bb \U0001f440 \U0001f383 \U0001f648 \U0001f607 \U0001f628 "
    "\U0001f91d \u270d \U0001f917 \U0001fae1 \U0001f385 \U0001f384 \u2603 \U0001f485 "
    "\U0001f92a \U0001f5ff \U0001f192 \U0001f498 \U0001f649 \U0001f984 \U0001f618 \U0001f48a "
    "\U0001f64a \U0001f60e \U0001f47e \U0001f937\u200d\u2642\ufe0f \U0001f937 "
    "\U0001f937\u200d\u2640\ufe0f \U0001f621".split()
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

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# A 1x1 PNG: the bytes behind photos people post, so getFile has something to serve.
_TINY_PNG: Final = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)

MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
FaultKind = Literal["429", "403_kicked", "403_blocked", "migrated", "5xx", "slow", "network"]
FAULT_KINDS: Final = frozenset(get_args(FaultKind))


# --------------------------------------------------------------------------------------
# Errors, records
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        """Describe the answer; ``parameters`` carries retry_after or migrate_to_chat_id."""
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        """The JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: JSONDict | None = None) -> ApiError:
    """A 400 with Telegram's ``Bad Request:`` prefix."""
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    """A 403 with Telegram's ``Forbidden:`` prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-control answer; PTB raises ``RetryAfter`` only when retry_after > 0."""
    retry_after = max(1, retry_after)
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _chat_upgraded(new_chat_id: int) -> ApiError:
    return bad_request(
        "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id}
    )


@dataclass(slots=True)
class ApiCall:
    """One Bot API call the bot made, as recorded for tests and benchmarks."""

    seq: int
    method: str
    params: JSONDict
    time: float
    """``time.monotonic()`` (or the world's clock) when the call arrived."""
    status: int = 200
    ok: bool = True
    result: Any = None
    description: str | None = None
    fault: str | None = None
    """The injected fault kind that shaped the answer, if any."""
    files: dict[str, str] = field(default_factory=dict)
    """Uploaded files: form field -> file name."""

    def to_json(self) -> JSONDict:
        """A JSON-safe view for the HTTP control side."""
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "time": self.time,
            "status": self.status,
            "ok": self.ok,
            "result": self.result,
            "description": self.description,
            "fault": self.fault,
            "files": self.files,
        }


@dataclass(slots=True)
class Reply:
    """How to answer one call; the HTTP layer carries out the waiting parts."""

    call: ApiCall
    status: int = 200
    payload: JSONDict | None = None
    delay: float = 0.0
    """Answer only after this many seconds (the ``slow`` fault)."""
    drop_connection: bool = False
    """Close the connection without answering (the ``network`` fault)."""
    poll_timeout: float = 0.0
    """getUpdates found nothing: hold the request this long for updates to arrive."""
    poll_limit: int = 100
    poll_generation: int = 0


@dataclass(slots=True)
class Fault:
    """An injected failure for the next ``remaining`` matching calls."""

    kind: FaultKind
    method: str | None
    remaining: int
    retry_after: int = 1
    migrate_to_chat_id: int | None = None
    delay: float = 0.0
    chat_id: int | None = None

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether a call is hit; ``method=None`` hits any method except getUpdates."""
        if self.method is None:
            if method == "getUpdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or _loose_int(params.get("chat_id")) == self.chat_id


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(slots=True)
class StoredFile:
    """A file Telegram "has": what getFile describes and the file URL serves."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    mime_type: str
    file_name: str | None = None


@dataclass(slots=True)
class ChatState:
    """One chat as Telegram knows it, including the bot's standing in it."""

    id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    user: JSONDict | None = None
    """The other side of a private chat."""
    members: dict[int, MemberStatus] = field(default_factory=dict)
    bot_status: MemberStatus = "left"
    started: bool = False
    """Private chats: the user pressed Start (or wrote), so the bot may write to them."""
    blocked: bool = False
    migrated_to: int | None = None
    migrated_from: int | None = None
    messages: dict[int, JSONDict] = field(default_factory=dict)
    last_message_id: int = 0
    bot_message_ids: list[int] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)
    reactions: dict[int, list[JSONDict]] = field(default_factory=dict)
    sent_markup: dict[int, JSONDict] = field(default_factory=dict)
    """Every reply_markup the bot sent, including reply keyboards Telegram doesn't echo."""

    @property
    def json(self) -> JSONDict:
        """The ``Chat`` object embedded in messages."""
        if self.type == "private":
            assert self.user is not None
            chat: JSONDict = {"id": self.id, "type": "private"}
            for key in ("first_name", "last_name", "username"):
                if key in self.user:
                    chat[key] = self.user[key]
            return chat
        return {"id": self.id, "type": self.type, "title": self.title}

    @property
    def kind_name(self) -> str:
        """How Telegram names the chat kind in error descriptions."""
        return "supergroup chat" if self.type == "supergroup" else "group chat"

    def next_message_id(self) -> int:
        """Allocate the next message id in this chat."""
        self.last_message_id += 1
        return self.last_message_id


# --------------------------------------------------------------------------------------
# Text: UTF-16 offsets, entities, parse_mode HTML
# --------------------------------------------------------------------------------------


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _entity(kind: str, text: str, start: int, end: int, **extra: Any) -> JSONDict:
    return {
        "type": kind,
        "offset": utf16_length(text[:start]),
        "length": utf16_length(text[start:end]),
        **extra,
    }


_COMMAND_OR_MENTION: Final = re.compile(
    r"(?P<command>(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)(?![A-Za-z0-9_])"
    r"|(?P<mention>(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{5,32})(?![A-Za-z0-9_])"
)


def detect_entities(
    text: str, text_mentions: Sequence[tuple[str, JSONDict]] = ()
) -> list[JSONDict]:
    """The entities a Telegram client would attach: bot commands, @mentions, text mentions.

    ``text_mentions`` pairs a piece of the text with the user it links to (a mention of
    someone without a username).
    """
    entities = [
        _entity("bot_command" if m.group("command") else "mention", text, m.start(), m.end())
        for m in _COMMAND_OR_MENTION.finditer(text)
    ]
    for needle, user in text_mentions:
        start = text.find(needle)
        if start < 0:
            raise ValueError(f"text mention {needle!r} is not in the text {text!r}")
        entities.append(_entity("text_mention", text, start, start + len(needle), user=user))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return entities


class EntityParseError(ValueError):
    """Malformed ``parse_mode`` text; the message is Telegram's wording."""


_HTML_ENTITY_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHARACTERS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START_TAG: Final = re.compile(
    r"<([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9_-]*"
    r"(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTRIBUTE: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_CHARACTER_REFERENCE: Final = re.compile(r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});")
_USER_LINK: Final = re.compile(r"tg://user\?id=(\d+)")


def _unescape(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED_CHARACTERS.get(ref, m.group(0))

    return _CHARACTER_REFERENCE.sub(replace, text)


def parse_html(
    text: str, user_lookup: Callable[[int], JSONDict | None] = lambda _: None
) -> tuple[str, list[JSONDict]]:
    """Telegram's ``parse_mode=HTML``: the plain text and its entities.

    Raises :class:`EntityParseError` with Telegram's wording for unsupported or unbalanced
    tags and for a stray ``<``. ``tg://user?id=`` links become ``text_mention`` entities when
    ``user_lookup`` knows the user.
    """
    out: list[str] = []
    position = 0  # in UTF-16 code units of the output
    stack: list[tuple[str, int, JSONDict]] = []
    entities: list[JSONDict] = []
    i = 0
    while i < len(text):
        lt = text.find("<", i)
        chunk = _unescape(text[i:] if lt < 0 else text[i:lt])
        out.append(chunk)
        position += utf16_length(chunk)
        if lt < 0:
            break
        byte_offset = len(text[:lt].encode())
        if text.startswith("</", lt):
            gt = text.find(">", lt)
            if gt < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset}")
            name = text[lt + 2 : gt].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset}")
            tag, start, extra = stack.pop()
            if name != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            if position > start and extra.get("type"):
                entities.append({**extra, "offset": start, "length": position - start})
            i = gt + 1
            continue
        match = _START_TAG.match(text, lt)
        if match is None:
            if ">" not in text[lt:]:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset}")
            bad_tag = re.match(r"<([^\s>]*)", text[lt:])
            raise EntityParseError(
                f'Unsupported start tag "{bad_tag.group(1) if bad_tag else ""}" '
                f"at byte offset {byte_offset}"
            )
        tag = match.group(1).lower()
        if tag not in _HTML_ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset}')
        attributes = {
            a.group(1).lower(): _unescape(a.group(2) or a.group(3) or a.group(4) or "")
            for a in _ATTRIBUTE.finditer(match.group(2))
        }
        stack.append((tag, position, _html_entity(tag, attributes, stack, user_lookup)))
        i = match.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(
    tag: str,
    attributes: Mapping[str, str],
    stack: list[tuple[str, int, JSONDict]],
    user_lookup: Callable[[int], JSONDict | None],
) -> JSONDict:
    """The entity a start tag opens; ``{}`` for a tag that produces none."""
    kind = _HTML_ENTITY_TYPES[tag]
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    if tag == "tg-emoji":
        if "emoji-id" not in attributes:
            raise EntityParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        return {"type": kind, "custom_emoji_id": attributes["emoji-id"]}
    if tag == "a":
        href = attributes.get("href")
        if not href:
            return {}
        user_link = _USER_LINK.fullmatch(href)
        if user_link is not None:
            user = user_lookup(int(user_link.group(1)))
            return {"type": "text_mention", "user": user} if user else {}
        return {"type": kind, "url": href}
    if tag == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
        return {}
    if tag == "blockquote" and "expandable" in attributes:
        return {"type": "expandable_blockquote"}
    return {"type": kind}


# --------------------------------------------------------------------------------------
# Small helpers for reading parameters
# --------------------------------------------------------------------------------------


def _loose_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _int_param(params: Mapping[str, Any], name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    number = _loose_int(value)
    if number is None:
        raise bad_request(f"invalid {name} specified")
    return number


def _req_int(params: Mapping[str, Any], name: str) -> int:
    value = _int_param(params, name)
    assert value is not None
    return value


def _bool_param(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _json_param(params: Mapping[str, Any], name: str) -> Any:
    """A parameter that travels as a JSON string, whether or not it was decoded already."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    return value


def _without_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in reply_to_message: one level deep only."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


# --------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------

ApiMethod = Callable[[Mapping[str, Any], Mapping[str, UploadedFile]], Any]


class World:
    """Everything Telegram knows in an emulated session, and the Bot API over it.

    Args:
        token: The bot token; calls with another token are refused with 401.
        bot_username: The bot's username, without ``@``.
        can_read_all_group_messages: ``False`` emulates privacy mode (see the module docs).
        clock: Monotonic clock for call times and rate limits (injectable for tests).
        wall_clock: Epoch seconds for message dates.
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
        bot_id = _loose_int(token.split(":", 1)[0])
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
        """Forget every person, chat, message, update, call, fault and limit."""
        self.users: dict[int, JSONDict] = {}
        self.chats: dict[int, ChatState] = {}
        self.calls: list[ApiCall] = []
        self.faults: list[Fault] = []
        self.rejected_429 = 0
        self.webhook_url = ""
        self.allowed_updates: frozenset[str] | None = None
        """What the bot last asked for in ``allowed_updates``; None means Telegram's default."""
        self.callback_answers: dict[str, JSONDict | None] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._pending: deque[JSONDict] = deque()
        self._last_update_id = 0
        self.poll_generation = 0
        self._bot_log: list[tuple[int, int]] = []
        self._mark_at_last_update = 0
        self._photo_sets: dict[str, list[JSONDict]] = {}
        self._ids = itertools.count(1)
        self._next_group_id = 4_000_000_000
        self._next_supergroup_id = 1_001_000_000_000
        self._limits: tuple[float | None, int | None] | None = None
        self._overall_window: deque[float] = deque()
        self._group_windows: dict[int, deque[float]] = {}
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
            message["reply_to_message"] = _without_reply(target)
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
        return self.commands.get((_scope_key(scope), language_code), [])

    def file_content(self, file_id: str) -> bytes:
        """The bytes behind a file id."""
        return self.files[file_id].content

    def _now(self) -> int:
        return int(self._wall_clock())

    # -- faults and limits --------------------------------------------------------------

    def inject_fault(
        self,
        method: str | None = None,
        *,
        kind: FaultKind,
        count: int = 1,
        retry_after: int = 1,
        migrate_to_chat_id: int | None = None,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail (or answer slowly).

        Kinds: ``429`` (flood control, ``retry_after``), ``403_kicked``, ``403_blocked``,
        ``migrated`` (400 with ``migrate_to_chat_id``; defaults to the chat's real upgrade or
        ``-100<id>``), ``5xx`` (500), ``slow`` (the call takes effect, the answer comes after
        ``delay`` s), ``network`` (the connection is closed without an answer; the call takes
        no effect). ``method=None`` matches every method except getUpdates; ``chat_id``
        narrows to calls for one chat.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.faults.append(
            Fault(kind, method, count, retry_after, migrate_to_chat_id, delay, chat_id)
        )

    def clear_faults(self) -> None:
        """Drop every injected fault not yet used up."""
        self.faults.clear()

    def enforce_limits(
        self, overall_per_second: float | None = 30, per_group_per_minute: int | None = 20
    ) -> None:
        """Answer 429 like Telegram's flood control when the bot sends faster than this.

        Counted are the message-sending methods (``send*`` except sendChatAction); the
        group limit applies per group chat (negative ids) over a sliding minute.
        """
        self._limits = (overall_per_second, per_group_per_minute)
        self._overall_window.clear()
        self._group_windows.clear()

    def disable_limits(self) -> None:
        """Stop enforcing flood limits."""
        self._limits = None

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, params):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _fault_error(self, fault: Fault, params: Mapping[str, Any]) -> ApiError:
        if fault.kind == "429":
            return too_many_requests(fault.retry_after)
        if fault.kind == "403_kicked":
            chat_id = _loose_int(params.get("chat_id"))
            chat = self.chats.get(chat_id) if chat_id is not None else None
            return forbidden(f"bot was kicked from the {chat.kind_name if chat else 'group chat'}")
        if fault.kind == "403_blocked":
            return forbidden("bot was blocked by the user")
        if fault.kind == "migrated":
            target = fault.migrate_to_chat_id
            if target is None:
                chat_id = _loose_int(params.get("chat_id")) or 1_000_000_000
                chat = self.chats.get(chat_id)
                target = (
                    chat.migrated_to if chat and chat.migrated_to else int(f"-100{abs(chat_id)}")
                )
            return _chat_upgraded(target)
        return ApiError(500, "Internal Server Error")

    def _check_limits(self, method: str, params: Mapping[str, Any]) -> None:
        if self._limits is None or not method.startswith("send") or method == "sendChatAction":
            return
        overall, per_group = self._limits
        now = self._clock()
        if overall is not None:
            window = self._overall_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= overall:
                self.rejected_429 += 1
                raise too_many_requests(math.ceil(window[0] + 1.0 - now))
        chat_id = _loose_int(params.get("chat_id"))
        group_window = None
        if per_group is not None and chat_id is not None and chat_id < 0:
            group_window = self._group_windows.setdefault(chat_id, deque())
            while group_window and group_window[0] <= now - 60.0:
                group_window.popleft()
            if len(group_window) >= per_group:
                self.rejected_429 += 1
                raise too_many_requests(math.ceil(group_window[0] + 60.0 - now))
        if overall is not None:
            self._overall_window.append(now)
        if group_window is not None:
            group_window.append(now)

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
        offset = _int_param(params, "offset", required=False) or 0
        limit = min(100, max(1, _int_param(params, "limit", required=False) or 100))
        timeout = max(0, _int_param(params, "timeout", required=False) or 0)
        if "allowed_updates" in params:
            allowed = _json_param(params, "allowed_updates")
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

    def _api_getMe(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        return True

    def _api_close(self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]) -> bool:
        return True

    def _api_setWebhook(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request("bad webhook: URL must be a string")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if _bool_param(params, "drop_pending_updates"):
            self._pending.clear()
        return True

    def _api_deleteWebhook(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        self.webhook_url = ""
        if _bool_param(params, "drop_pending_updates"):
            self._pending.clear()
        return True

    def _api_getWebhookInfo(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
        if self.allowed_updates is not None:
            info["allowed_updates"] = sorted(self.allowed_updates)
        return info

    # -- chats we may write to ----------------------------------------------------------

    def _target_chat(self, params: Mapping[str, Any], *, write: bool = True) -> ChatState:
        if params.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        chat_id = _loose_int(params["chat_id"])  # "@username" chats are not emulated
        try:
            chat = self.chat(chat_id if chat_id is not None else 0)
        except KeyError:
            raise bad_request("chat not found") from None
        if chat.migrated_to is not None:
            raise _chat_upgraded(chat.migrated_to)
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

    def _formatted(
        self,
        params: Mapping[str, Any],
        text_key: str,
        entities_key: str,
    ) -> tuple[str, list[JSONDict]]:
        text = params.get(text_key)
        if text is None:
            return "", []
        text = str(text)
        mode = params.get("parse_mode")
        if mode and str(mode).lower() == "html":
            try:
                return parse_html(text, self.users.get)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if mode and str(mode).lower() not in ("markdown", "markdownv2"):
            raise bad_request(f"unsupported parse_mode {mode}")
        entities = _json_param(params, entities_key) or []
        if not isinstance(entities, list):
            raise bad_request(f"can't parse {entities_key} JSON array")
        return text, entities

    def _inline_markup(self, params: Mapping[str, Any]) -> tuple[JSONDict | None, JSONDict | None]:
        """(markup echoed in the Message, markup as sent); only inline keyboards are echoed."""
        markup = _json_param(params, "reply_markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None, markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup, markup

    def _reply_target(self, chat: ChatState, params: Mapping[str, Any]) -> JSONDict | None:
        reply = _json_param(params, "reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = chat
        if reply.get("chat_id") is not None:
            target_chat = self._target_chat({"chat_id": reply["chat_id"]}, write=False)
        target = target_chat.messages.get(_loose_int(reply.get("message_id")) or 0)
        if target is None:
            if _bool_param(reply, "allow_sending_without_reply") or _bool_param(
                params, "allow_sending_without_reply"
            ):
                return None
            raise bad_request("message to be replied not found")
        return _without_reply(target)

    def _send(self, chat: ChatState, params: Mapping[str, Any], content: JSONDict) -> JSONDict:
        """Store a message from the bot and return it."""
        reply_to = self._reply_target(chat, params)
        echoed, sent = self._inline_markup(params)
        message: JSONDict = {
            "message_id": chat.next_message_id(),
            "from": self.bot_user,
            "chat": chat.json,
            "date": self._now(),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if echoed is not None:
            message["reply_markup"] = echoed
        if sent is not None:
            chat.sent_markup[message["message_id"]] = sent
        chat.messages[message["message_id"]] = message
        chat.bot_message_ids.append(message["message_id"])
        self._bot_log.append((chat.id, message["message_id"]))
        return message

    def _caption(self, params: Mapping[str, Any]) -> JSONDict:
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        content: JSONDict = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return content

    # -- sending ------------------------------------------------------------------------

    def _api_sendMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        if (preview := _json_param(params, "link_preview_options")) is not None:
            content["link_preview_options"] = preview
        return self._send(chat, params, content)

    def _api_sendPhoto(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        upload, reference = self._file_input(params, files, "photo")
        if upload is not None:
            sizes = self._store_photo(upload.content)
        elif reference in self._photo_sets:
            sizes = self._photo_sets[reference]
        elif reference.startswith(("http://", "https://")):
            sizes = self._store_photo(b"")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._send(chat, params, {"photo": sizes, **self._caption(params)})

    def _api_sendDocument(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        upload, reference = self._file_input(params, files, "document")
        if upload is not None:
            document = self._store_document(upload)
        elif reference in self.files:
            stored = self.files[reference]
            document = self._document_json(stored)
        elif reference.startswith(("http://", "https://")):
            document = self._store_document(UploadedFile(reference.rsplit("/", 1)[-1], b""))
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._send(chat, params, {"document": document, **self._caption(params)})

    def _api_sendChatAction(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # -- editing, deleting, reacting, pinning -------------------------------------------

    def _own_message(self, chat: ChatState, params: Mapping[str, Any], verb: str) -> JSONDict:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        message_id = _int_param(params, "message_id")
        message = chat.messages.get(message_id or 0)
        if message is None:
            raise bad_request(f"message to {verb} not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request(f"message can't be {verb}ed")
        return message

    def _replace(self, chat: ChatState, message: JSONDict, changes: JSONDict) -> JSONDict:
        edited = {k: v for k, v in message.items() if k not in changes}
        edited.update({k: v for k, v in changes.items() if v is not None})
        edited["edit_date"] = self._now()
        chat.messages[edited["message_id"]] = edited
        return edited

    def _api_editMessageText(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        message = self._own_message(chat, params, "edit")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        echoed, sent = self._inline_markup(params)
        if (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == echoed
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        # Telegram drops the keyboard when an edit doesn't repeat it
        changes = {"text": text, "entities": entities or None, "reply_markup": echoed}
        self._remember_markup(chat, message["message_id"], sent)
        return self._replace(chat, message, changes)

    def _api_editMessageCaption(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        message = self._own_message(chat, params, "edit")
        content = self._caption(params)
        echoed, sent = self._inline_markup(params)
        if (
            message.get("caption") == content.get("caption")
            and message.get("caption_entities") == content.get("caption_entities")
            and message.get("reply_markup") == echoed
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._remember_markup(chat, message["message_id"], sent)
        return self._replace(
            chat,
            message,
            {
                "caption": content.get("caption"),
                "caption_entities": content.get("caption_entities"),
                "reply_markup": echoed,
            },
        )

    def _api_editMessageReplyMarkup(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        message = self._own_message(chat, params, "edit")
        echoed, sent = self._inline_markup(params)
        if message.get("reply_markup") == echoed:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._remember_markup(chat, message["message_id"], sent)
        return self._replace(chat, message, {"reply_markup": echoed})

    def _remember_markup(self, chat: ChatState, message_id: int, sent: JSONDict | None) -> None:
        if sent is None:
            chat.sent_markup.pop(message_id, None)
        else:
            chat.sent_markup[message_id] = sent

    def _api_deleteMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        message_id = _int_param(params, "message_id")
        message = chat.messages.get(message_id or 0)
        if message is None:
            raise bad_request("message to delete not found")
        own = message.get("from", {}).get("id") == self.bot_id
        if not own and chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        del chat.messages[message["message_id"]]
        return True

    def _api_setMessageReaction(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        message_id = _int_param(params, "message_id")
        if (message_id or 0) not in chat.messages:
            raise bad_request("message to react not found")
        reaction = _json_param(params, "reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("can't parse reaction JSON array")
        for item in reaction:
            if not isinstance(item, dict):
                raise bad_request("REACTION_INVALID")
            if item.get("type") == "emoji" and item.get("emoji") not in _REACTION_EMOJI:
                raise bad_request("REACTION_INVALID")
            # PTB turns an emoji string it doesn't know into a custom emoji "id"
            if (
                item.get("type") == "custom_emoji"
                and not str(item.get("custom_emoji_id", "")).isdigit()
            ):
                raise bad_request("REACTION_INVALID")
        chat.reactions[message_id or 0] = reaction
        return True

    def _api_pinChatMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        self._require_pin_rights(chat)
        message_id = _int_param(params, "message_id") or 0
        if message_id not in chat.messages:
            raise bad_request("message to pin not found")
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        return True

    def _api_unpinChatMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        self._require_pin_rights(chat)
        message_id = _int_param(params, "message_id", required=False)
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        else:
            raise bad_request("message to unpin not found")
        return True

    def _api_unpinAllChatMessages(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        self._require_pin_rights(chat)
        chat.pinned.clear()
        return True

    def _require_pin_rights(self, chat: ChatState) -> None:
        if chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("not enough rights to manage pinned messages in the chat")

    def pinned_messages(self, chat_id: int) -> list[int]:
        """Pinned message ids in a chat, oldest pin first."""
        return list(self.chat(chat_id).pinned)

    # -- callback queries ---------------------------------------------------------------

    def _api_answerCallbackQuery(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self.callback_answers.get(query_id, False) is not None:
            # unknown, or answered already
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        answer = {
            key: params[key] for key in ("text", "show_alert", "url", "cache_time") if key in params
        }
        if "show_alert" in answer:
            answer["show_alert"] = _bool_param(params, "show_alert")
        self.callback_answers[query_id] = answer
        return True

    # -- reading chats ------------------------------------------------------------------

    def _api_getChat(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params, write=False)
        info: JSONDict = {
            **chat.json,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.type != "private":
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        if chat.pinned and chat.pinned[-1] in chat.messages:
            info["pinned_message"] = chat.messages[chat.pinned[-1]]
        return info

    def _api_getChatMember(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params, write=False)
        user_id = _req_int(params, "user_id")
        if user_id == self.bot_id:
            status: MemberStatus = chat.bot_status if chat.type != "private" else "member"
        elif user_id not in self.users:
            raise bad_request("user not found")
        elif chat.type == "private":
            status = "member" if user_id == chat.id else "left"
        else:
            status = chat.members.get(user_id, "left")
        return self._member_json(self.user(user_id), status)

    def _api_getChatAdministrators(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        chat = self._target_chat(params, write=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        statuses: list[tuple[int, MemberStatus]] = list(chat.members.items())
        if chat.bot_status == "administrator":
            statuses.append((self.bot_id, "administrator"))
        statuses.sort(key=lambda item: item[1] != "creator")
        return [
            self._member_json(self.user(uid), status)
            for uid, status in statuses
            if status in ("creator", "administrator")
        ]

    def _api_getChatMemberCount(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> int:
        chat = self._target_chat(params, write=False)
        if chat.type == "private":
            return 2
        present = ("creator", "administrator", "member")
        return sum(1 for status in chat.members.values() if status in present) + (
            1 if chat.bot_status in present else 0
        )

    def _api_leaveChat(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params, write=False)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        chat.bot_status = "left"
        return True

    # -- command menus ------------------------------------------------------------------

    def _command_key(self, params: Mapping[str, Any]) -> tuple[str, str]:
        scope = _json_param(params, "scope")
        if scope is not None and not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        return _scope_key(scope), str(params.get("language_code") or "")

    def _api_setMyCommands(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON array")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        return self.commands.get(self._command_key(params), [])

    def _api_deleteMyCommands(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True

    # -- files --------------------------------------------------------------------------

    def _api_getFile(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _file_input(
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile], field_name: str
    ) -> tuple[UploadedFile | None, str]:
        """An uploaded part (PTB sends it under the field's own name) or a file_id/URL."""
        value = params.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"can't find attached file {value}")
            return upload, ""
        if field_name in files:
            return files[field_name], ""
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {field_name} in the request")
        return None, value

    def _store_file(
        self, folder: str, content: bytes, mime_type: str, suffix: str, name: str | None = None
    ) -> StoredFile:
        n = next(self._ids)
        stored = StoredFile(
            file_id=f"BQACAgUAAx{n:08d}{folder[:2].upper()}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{suffix}",
            content=content,
            mime_type=mime_type,
            file_name=name,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def _store_photo(self, content: bytes) -> list[JSONDict]:
        sizes = []
        for width, height in ((90, 68), (1280, 960)):
            stored = self._store_file("photos", content, "image/jpeg", ".jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(content),
                    "width": width,
                    "height": height,
                }
            )
        for size in sizes:
            self._photo_sets[str(size["file_id"])] = sizes
        return sizes

    def _store_document(self, upload: UploadedFile) -> JSONDict:
        mime = (
            mimetypes.guess_type(upload.filename, strict=False)[0]
            or upload.content_type
            or "application/octet-stream"
        )
        suffix = "." + upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else ""
        stored = self._store_file("documents", upload.content, mime, suffix, upload.filename)
        return self._document_json(stored)

    @staticmethod
    def _document_json(stored: StoredFile) -> JSONDict:
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "mime_type": stored.mime_type,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        return document

    def _group(self, chat_id: int) -> ChatState:
        chat = self.chat(chat_id)
        if chat.type == "private":
            raise ValueError(f"chat {chat_id} is a private chat, not a group")
        return chat


def _scope_key(scope: JSONDict | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
