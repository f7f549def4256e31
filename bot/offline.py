"""The real gridbot Application against the in-process Bot API emulator.

Used by `gridbot demo` and the end-to-end tests: the same Application, handlers and HTTP
layer as production, only `base_url` points at 127.0.0.1. Methods speak the domain's
words: `says`, `presses`, `adds_bot`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram.error import TelegramError

from bot.app import ALLOWED_UPDATES, build_application
from bot.config import Config, config_from_mapping
from bot.domain.clock import Clock, FakeClock
from bot.emulator import BotApiEmulator, JSONDict
from bot.storage.database import Database
from bot.storage.unit_of_work import SqlStorage
from handlers.context import GridApplication, Runtime

log = logging.getLogger(__name__)

TOKEN = "123456:OFFLINE-DEMO-TOKEN"
BOT_USERNAME = "gridbot_demo_bot"


@dataclass
class Exchange:
    """What one action caused: the bot's new messages, edits seen, and a callback answer."""

    messages: list[JSONDict] = field(default_factory=list)
    answer: JSONDict | None = None

    @property
    def texts(self) -> list[str]:
        """The texts (or captions) of every message the bot sent in the exchange."""
        return [m.get("text") or m.get("caption") or "" for m in self.messages]

    def in_chat(self, chat_id: int) -> list[JSONDict]:
        """The messages the bot sent to one chat."""
        return [m for m in self.messages if m["chat"]["id"] == chat_id]

    def text_in(self, chat_id: int) -> str:
        """Everything the bot sent to one chat, as one text."""
        return "\n".join(m.get("text") or m.get("caption") or "" for m in self.in_chat(chat_id))


class OfflineBot:
    """The real Application against the local emulator, driven in the domain's words: says, presses,
    advance.
    """

    def __init__(
        self,
        database: str | Path | Mapping[str, str],
        *,
        staff: tuple[int, ...] = (),
        clock: Clock | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        can_read_all_group_messages: bool = True,
    ) -> None:
        self.emulator = BotApiEmulator(
            token=TOKEN,
            bot_username=BOT_USERNAME,
            can_read_all_group_messages=can_read_all_group_messages,
        )
        # An SQLite file, or the [database] table itself ({"url": "postgresql://…"}).
        self._database = (
            dict(database) if isinstance(database, Mapping) else {"path": str(database)}
        )
        self._staff = staff
        self._clock = clock
        self._settings = {k: dict(v) for k, v in (settings or {}).items()}
        self.application: GridApplication | None = None
        self.config: Config | None = None

    async def start(self) -> None:
        """Start the emulator (unless running) and the bot on it."""
        if not self.emulator.port:
            await self.emulator.start()
        await self._start_application()

    async def _start_application(self) -> None:
        settings: dict[str, dict[str, Any]] = {k: dict(v) for k, v in self._settings.items()}
        telegram = settings.setdefault("telegram", {})
        telegram.setdefault("base_url", self.emulator.base_url)
        telegram.setdefault("base_file_url", self.emulator.base_file_url)
        # The emulator enforces no limits unless a test asks; don't slow tests down here.
        telegram.setdefault("group_max_rate", 10_000)
        telegram.setdefault("overall_max_rate", 10_000)
        settings["database"] = dict(self._database)
        settings.setdefault("roles", {}).setdefault("staff", list(self._staff))
        self.config = config_from_mapping(settings)
        # With an injected clock, tests drive time themselves (advance); with the real clock
        # the JobQueue wakes the timers, as in production.
        application = build_application(
            self.config, TOKEN, clock=self._clock, arm_timers=self._clock is None
        )
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=1,
            allowed_updates=ALLOWED_UPDATES,
            error_callback=lambda error: self._report_polling_error(application, error),
        )
        await application.start()
        self.application = application

    @staticmethod
    def _report_polling_error(application: GridApplication, error: TelegramError) -> None:
        """As run_polling does: polling errors go to the error handlers (handlers.chats)."""
        application.create_task(application.process_error(update=None, error=error))

    async def stop(self) -> None:
        """Stop the bot and the emulator."""
        await self._stop_application()
        await self.emulator.stop()

    async def _stop_application(self) -> None:
        application = self.application
        if application is None:
            return
        self.application = None
        assert application.updater is not None
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)

    async def restart(self, settings: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Stop the bot and start it again on the same database and emulator.

        ``settings`` tables replace the ones given at construction (a new ``[intake] model``).
        """
        await self._stop_application()
        self._settings.update({k: dict(v) for k, v in (settings or {}).items()})
        await self._start_application()

    async def __aenter__(self) -> OfflineBot:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def runtime(self) -> Runtime:
        """The running bot's services, messenger and notifier."""
        assert self.application is not None and self.application.bot_data.runtime is not None
        return self.application.bot_data.runtime

    @property
    def storage(self) -> SqlStorage:
        """The storage under the bot (SQLite or PostgreSQL), for tests to seed and look at rows."""
        storage = self.runtime.services.storage
        assert isinstance(storage, SqlStorage)
        return storage

    @property
    def db(self) -> Database:
        """The storage's database connection, for tests' own SQL."""
        return self.storage.db

    # A bound on the wait, not a cancellation scope: callers only ever lengthen it (floods).
    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has taken every update and finished handling it.

        That includes notice runs sending in the background (and those resumed at start).
        """
        assert self.application is not None
        await self.emulator.wait_until_delivered(timeout)
        await asyncio.wait_for(self.application.update_queue.join(), timeout)
        if self.runtime.broadcasts is not None:
            await asyncio.wait_for(self.runtime.broadcasts.idle(), timeout)

    async def _exchange(self, action: Any) -> Exchange:
        mark = self.emulator.mark()
        result = action()
        await self.settle()
        exchange = Exchange(messages=self.emulator.bot_messages_since(mark))
        if isinstance(result, str):  # a callback query id
            exchange.answer = self.emulator.callback_answer(result)
        return exchange

    # --- the world, in the domain's words ---

    def person(
        self,
        user_id: int,
        name: str,
        *,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> int:
        """Make a Telegram user known to the emulator; returns their id."""
        self.emulator.add_user(user_id, name, username=username, language_code=language_code)
        return user_id

    async def group(
        self, title: str, *, added_by: int, supergroup: bool = False, as_admin: bool = False
    ) -> int:
        """Create a group and have `added_by` add the bot to it; returns the chat id."""
        chat = self.emulator.create_group(title, supergroup=supergroup)
        await self._exchange(
            lambda: self.emulator.add_bot_to_group(chat["id"], added_by, as_admin=as_admin)
        )
        return int(chat["id"])

    async def says(
        self, chat_id: int, user_id: int, text: str | None = None, **kwargs: Any
    ) -> Exchange:
        """Someone writes in a chat; what the bot answered, anywhere."""
        return await self._exchange(
            lambda: self.emulator.post_message(chat_id, user_id, text, **kwargs)
        )

    async def says_privately(self, user_id: int, text: str, **kwargs: Any) -> Exchange:
        """`user_id` opens a private chat with the bot and writes `text`."""
        self.emulator.private_chat_started(user_id)
        return await self.says(user_id, user_id, text, **kwargs)

    async def edits(self, chat_id: int, message_id: int, new_text: str) -> Exchange:
        """The author edits a message to `new_text`."""
        return await self._exchange(
            lambda: self.emulator.edit_message(chat_id, message_id, new_text)
        )

    async def presses(
        self, chat_id: int, message_id: int, user_id: int, data: str, *, check: bool = True
    ) -> Exchange:
        """`user_id` presses the button with callback `data` under a message."""
        return await self._exchange(
            lambda: self.emulator.press_button(chat_id, message_id, user_id, data, check=check)
        )

    async def removes_bot(self, chat_id: int, by_user_id: int) -> Exchange:
        """`by_user_id` removes the bot from the group."""
        return await self._exchange(
            lambda: self.emulator.remove_bot_from_group(chat_id, by_user_id)
        )

    async def adds_bot(self, chat_id: int, by_user_id: int) -> Exchange:
        """`by_user_id` adds the bot back to the group."""
        return await self._exchange(lambda: self.emulator.add_bot_to_group(chat_id, by_user_id))

    async def migrates(self, chat_id: int) -> int:
        """The group becomes a supergroup; returns its new chat id."""
        new_id: list[int] = []
        await self._exchange(lambda: new_id.append(self.emulator.migrate_to_supergroup(chat_id)))
        return new_id[0]

    async def advance(self, delta: timedelta) -> Exchange:
        """Move the injected clock forward and let every timer that fell due fire."""
        clock = self._clock
        if not isinstance(clock, FakeClock):
            raise TypeError("advance() needs OfflineBot(clock=FakeClock(...))")
        mark = self.emulator.mark()
        clock.advance(delta)
        await self.runtime.services.timers.fire_due()
        await self.settle()
        return Exchange(messages=self.emulator.bot_messages_since(mark))

    def last_message_id(self, chat_id: int) -> int:
        """The id of the newest message in a chat (anyone's), e.g. to reply to it."""
        chat = self.emulator.chat(chat_id)
        return max(chat.messages)
