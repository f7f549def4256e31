"""The shapes the emulator passes around: ids, Bot API errors, recorded calls, files, chats.

Standard library only, and no behaviour beyond describing itself as Telegram's JSON; the
rest of :mod:`bot.emulator` builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

JSONDict = dict[str, Any]

GROUP_ANONYMOUS_BOT_ID: Final = 1087968824
"""The user anonymous group admins post as; ``sender_chat`` then names the group."""
TELEGRAM_SERVICE_ID: Final = 777000
"""Telegram's own service account."""
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]


# --------------------------------------------------------------------------------------
# Errors
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


def chat_upgraded(new_chat_id: int) -> ApiError:
    """The 400 for a send to a group that became a supergroup; PTB raises ``ChatMigrated``."""
    return bad_request(
        "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id}
    )


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


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


def without_reply(message: JSONDict) -> JSONDict:
    """A message as embedded in reply_to_message: one level deep only."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}
