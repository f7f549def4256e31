"""Remember the people the bot sees, so later features can name and mention them."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import Clock
from bot.domain.models import Person
from bot.services.ports import UnitOfWorkFactory

# last_seen is only for housekeeping; refreshing it on every message would be a write per
# message for nothing, so an unchanged person is written at most this often.
LAST_SEEN_RESOLUTION = timedelta(hours=1)


class PeopleService:
    """People the bot has seen, kept current without a write per message."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._written: dict[int, tuple[tuple[object, ...], float]] = {}

    async def seen(
        self,
        *,
        telegram_id: int,
        display_name: str,
        username: str | None,
        language_code: str | None,
        in_private_chat: bool,
    ) -> None:
        """Record a person from an update; skipped when nothing changed and they were written
        recently (LAST_SEEN_RESOLUTION).
        """
        now = self._clock.now()
        key = (display_name, username, language_code, in_private_chat)
        last = self._written.get(telegram_id)
        if (
            last is not None
            and last[0] == key
            and now.timestamp() - last[1] < LAST_SEEN_RESOLUTION.total_seconds()
        ):
            return
        async with self._uow() as uow:
            await uow.people.upsert(
                telegram_id=telegram_id,
                display_name=display_name[:128] or str(telegram_id),
                username=username,
                language_code=language_code,
                now=now,
                private_chat=in_private_chat,
            )
        self._written[telegram_id] = (key, now.timestamp())

    async def unreachable_privately(self, telegram_id: int) -> None:
        """Telegram refused a private message: remember, so /whoami can tell them to /start."""
        async with self._uow() as uow:
            await uow.people.set_private_chat(telegram_id, False)
        self._written.pop(telegram_id, None)

    async def get(self, telegram_id: int) -> Person | None:
        """The person with this Telegram id, or None."""
        async with self._uow() as uow:
            return await uow.people.get(telegram_id)

    async def by_username(self, username: str) -> Person | None:
        """The person last seen with this @username, or None."""
        async with self._uow() as uow:
            return await uow.people.by_username(username)

    async def language_of(self, telegram_id: int) -> str | None:
        """The language Telegram reports for the person, or None."""
        async with self._uow() as uow:
            return await uow.people.language_of(telegram_id)
