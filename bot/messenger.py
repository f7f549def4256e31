"""Sending messages: render a template, send it, and survive what Telegram throws back.

- ChatMigrated: the group became a supergroup; move everything to the new id and resend once.
- Forbidden: kicked from a group (the grid goes inactive) or a person who never opened a
  private chat; nothing to retry, the caller decides what else reaches them
  (`deliver_text` also hands back Telegram's reason, for delivery reports).
- Network errors and timeouts: retried a few times with backoff. RetryAfter (429) is
  handled below us by PTB's AIORateLimiter.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from dataclasses import dataclass
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReactionTypeEmoji,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    TelegramError,
    TimedOut,
)

from bot.domain.models import Grid
from bot.domain.privacy import Audience, audience_of_chat
from bot.rate_limit import URGENT
from bot.render import Renderer
from bot.services.grids import ChatRef, GridService
from bot.services.people import PeopleService

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4096  # Telegram's limit for one text message
NETWORK_RETRIES = 3
NETWORK_BACKOFF_SECONDS = 0.5


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")


def _open_tags_after(line: str, stack: list[str]) -> None:
    for closing, name in _TAG.findall(line):
        if not closing:
            stack.append(name.lower())
        elif stack and stack[-1] == name.lower():
            stack.pop()


def _visible(text_html: str) -> str:
    return html.unescape(_TAG.sub("", text_html))


def _cut_plain(segment: str, limit: int) -> list[str]:
    """A piece too long to keep whole: its words, escaped, in pieces of at most `limit`."""
    words = _visible(segment)
    return [html.escape(words[i : i + limit], quote=False) for i in range(0, len(words), limit)]


def split_message(text_html: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Telegram HTML in messages of at most `limit` characters, each valid on its own.

    Telegram counts the characters a reader sees (tags and escapes excluded). Cut between
    lines where no tag is open; a stretch with no such place that is longer than the limit
    loses its formatting and is cut anywhere. Lists page (handlers.paging);
    this is the safety net that keeps anything else (a digest of a big grid) from failing.
    """
    if len(text_html) <= limit or len(_visible(text_html)) <= limit:
        return [text_html]
    segments: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    for line in text_html.split("\n"):
        current.append(line)
        _open_tags_after(line, stack)
        if not stack:
            segments.append("\n".join(current))
            current = []
    if current:
        segments.append("\n".join(current))
    chunks: list[str] = []
    chunk = ""
    for segment in segments:
        pieces = [segment] if len(_visible(segment)) <= limit else _cut_plain(segment, limit)
        for piece in pieces:
            joined = f"{chunk}\n{piece}" if chunk else piece
            if len(_visible(joined)) <= limit:
                chunk = joined
                continue
            if chunk.strip():
                chunks.append(chunk)
            chunk = piece
    if chunk.strip():
        chunks.append(chunk)
    return chunks


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of one send: the message, or why Telegram refused the chat for good."""

    message: Message | None
    refused: str | None = None


class Messenger:
    """Sends rendered templates to chats and survives Telegram's errors: splits long texts, follows
    migrated groups, marks kicked ones inactive, retries network failures.
    """

    def __init__(
        self, bot: Bot, renderer: Renderer, grids: GridService, people: PeopleService
    ) -> None:
        self._bot = bot
        self.renderer = renderer
        self._grids = grids
        self._people = people

    def grid_locale(self, grid: Grid | None) -> str:
        """A grid chat speaks its grid's locale (the default when unset or not a grid)."""
        return self.renderer.pick_locale(grid.locale if grid else None)

    async def locale_for_chat(self, chat_id: int, language_code: str | None = None) -> str:
        """A group speaks its grid's locale; a private chat its person's language."""
        if chat_id < 0:
            return self.grid_locale(await self._grids.grid_for_chat(chat_id))
        return self.renderer.pick_locale(language_code or await self._people.language_of(chat_id))

    async def send(
        self,
        chat_id: int,
        template: str,
        /,
        *,
        locale: str | None = None,
        reply_to: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
        urgent: bool = False,
        reader: Audience | None = None,
        **context: Any,
    ) -> Message | None:
        """Render for the chat's audience (any group is public unless told otherwise)."""
        locale = locale or await self.locale_for_chat(chat_id)
        text = self.render_for_chat(chat_id, template, locale, reader=reader, **context)
        return await self.send_text(
            chat_id, text, reply_to=reply_to, keyboard=keyboard, urgent=urgent
        )

    def render_for_chat(
        self,
        chat_id: int,
        template: str,
        locale: str,
        /,
        *,
        reader: Audience | None = None,
        **context: Any,
    ) -> str:
        """What `send` would send there: also for edits of messages already in a chat."""
        return self.renderer.render_for(
            reader or audience_of_chat(chat_id), template, locale, **context
        )

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
        urgent: bool = False,
    ) -> Message | None:
        """Send rendered HTML; None when Telegram refuses the chat for good (kicked, blocked).

        `urgent` (emergencies): not paced behind the chat's other messages (bot.rate_limit).
        """
        sent = await self.deliver_text(
            chat_id, text, reply_to=reply_to, keyboard=keyboard, urgent=urgent
        )
        return sent.message

    async def deliver_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
        urgent: bool = False,
    ) -> Sent:
        """`send_text` that also says why a chat refused (for delivery reports).

        A text over Telegram's limit goes out as several messages (`split_message`): the
        first replies, the last carries the keyboard and is the one returned.
        """
        chunks = split_message(text)
        for chunk in chunks[:-1]:
            sent = await self._deliver_one(
                chat_id, chunk, reply_to=reply_to, keyboard=None, urgent=urgent
            )
            if sent.message is None:
                return sent
            reply_to = None
        return await self._deliver_one(
            chat_id, chunks[-1], reply_to=reply_to, keyboard=keyboard, urgent=urgent
        )

    async def _deliver_one(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None,
        keyboard: InlineKeyboardMarkup | None,
        urgent: bool,
    ) -> Sent:
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to
            else None
        )
        migrated = False
        attempt = 0
        while True:
            try:
                return Sent(
                    await self._bot.send_message(
                        chat_id,
                        text,
                        parse_mode=ParseMode.HTML,
                        reply_parameters=reply,
                        reply_markup=keyboard,
                        link_preview_options=LinkPreviewOptions(is_disabled=True),
                        **self._urgency(urgent),
                    )
                )
            except ChatMigrated as exc:
                if migrated:
                    raise
                migrated = True
                log.info("chat %s migrated to %s while sending", chat_id, exc.new_chat_id)
                await self._grids.chat_migrated(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                # The replied-to message lives in the old chat; its id means nothing here.
                reply = None
            except Forbidden as exc:
                await self._forbidden(chat_id, exc)
                return Sent(None, refused=exc.message)
            except (TimedOut, NetworkError) as exc:
                if isinstance(exc, BadRequest) or attempt >= NETWORK_RETRIES:
                    raise
                attempt += 1
                log.warning("network error sending to %s (attempt %d): %s", chat_id, attempt, exc)
                await asyncio.sleep(NETWORK_BACKOFF_SECONDS * 2 ** (attempt - 1))

    def _urgency(self, urgent: bool) -> dict[str, Any]:
        # rate_limit_args is refused by a bot without a rate limiter.
        if urgent and getattr(self._bot, "rate_limiter", None) is not None:
            return {"rate_limit_args": URGENT}
        return {}

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Replace the text of one of our messages (its keyboard with `keyboard`, dropped when
        None); False if refused.
        """
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=keyboard,
            )
        except BadRequest as exc:
            if "not modified" in exc.message:
                return True
            log.warning("could not edit message %s in %s: %s", message_id, chat_id, exc.message)
            return False
        except Forbidden as exc:
            await self._forbidden(chat_id, exc)
            return False
        return True

    async def send_photo(
        self,
        chat_id: int,
        photo: bytes,
        filename: str,
        template: str,
        /,
        *,
        locale: str | None = None,
        **context: Any,
    ) -> Message | None:
        """A picture with a caption from a template; None when Telegram refuses the chat."""
        locale = locale or await self.locale_for_chat(chat_id)
        caption = self.render_for_chat(chat_id, template, locale, **context)
        try:
            return await self._bot.send_photo(
                chat_id,
                InputFile(photo, filename=filename),
                caption=caption,
                parse_mode=ParseMode.HTML,
            )
        except Forbidden as exc:
            await self._forbidden(chat_id, exc)
            return None

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup | None
    ) -> None:
        """Make a message's buttons match what it stands for now (logged, never fatal)."""
        try:
            await self._bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=keyboard
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning(
                    "could not update buttons of %s in %s: %s", message_id, chat_id, exc.message
                )
        except Forbidden as exc:
            await self._forbidden(chat_id, exc)
        except TelegramError as exc:
            log.warning("could not update buttons of %s in %s: %s", message_id, chat_id, exc)

    async def react(self, chat_id: int, message_id: int, emoji: str) -> bool:
        """A reaction instead of a reply; False when Telegram refuses it."""
        try:
            await self._bot.set_message_reaction(chat_id, message_id, [ReactionTypeEmoji(emoji)])
        except TelegramError as exc:
            log.warning("could not react to %s/%s: %s", chat_id, message_id, exc)
            return False
        return True

    async def pin(self, chat_id: int, message_id: int) -> str | None:
        """Pin quietly (no notification of its own); Telegram's reason when it refuses."""
        try:
            await self._bot.pin_chat_message(chat_id, message_id, disable_notification=True)
        except (BadRequest, Forbidden) as exc:
            return exc.message
        return None

    async def _forbidden(self, chat_id: int, exc: Forbidden) -> None:
        log.warning("Telegram refused chat %s: %s", chat_id, exc.message)
        if chat_id < 0:
            await self._grids.bot_membership_changed(
                ChatRef(chat_id=chat_id, title=None, type="group"), is_member=False
            )
        else:
            await self._people.unreachable_privately(chat_id)
