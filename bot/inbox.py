"""Fair intake: updates are stored as they arrive, so fetching never waits for a busy chat.

Telegram forgets updates once a getUpdates carries an offset past them. Confirming only
after every fetched update was handled (the previous design) kept a crash from losing
residents' reports, but one chat's backlog then stopped fetching for everyone: 200
messages in one group, each answered at the group's pace of one every 3 s, and a report
in another group waited minutes (issue #13).

Here each fetched batch is written to the `inbox` table before getUpdates returns, so the
next getUpdates may confirm it: fetching carries on while a chat's queue drains, and what
was stored but not handled when the process died is handed to the handlers again at
start (`replay`). Telegram re-delivering an update we already stored (the process died
before the next getUpdates) is recognised by its id and handled once (`is_duplicate`).

Handled updates are marked in the background (`FLUSH_SECONDS`), in one write for many:
after a crash, an update handled in the last fraction of a second is handled again, which
the handlers tolerate (reports are unique on chat + message, field note 12).

The backlog held in memory is bounded (`MAX_BACKLOG`): past it, fetching waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, Update

from bot.domain.clock import Clock
from bot.services.ports import InboxStore

log = logging.getLogger(__name__)

MAX_BACKLOG = 4000  # updates fetched and not yet handled; a few KB each
FLUSH_SECONDS = 0.2
KEEP_HANDLED = timedelta(days=1)  # re-deliveries come within seconds; a day is plenty


class Inbox:
    """Stores fetched updates before they are confirmed, tracks what is handled, replays the rest at
    start.
    """

    def __init__(
        self, repository: InboxStore, clock: Clock, *, max_backlog: int = MAX_BACKLOG
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._max_backlog = max_backlog
        self._pending: set[int] = set()  # stored, not handled yet
        self._duplicates: set[int] = set()  # one copy of each of these is dropped
        self._handled: list[int] = []  # handled, not yet marked in the database
        self._room = asyncio.Event()
        self._room.set()
        self._flush: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    @property
    def backlog(self) -> int:
        """Updates stored but not handled yet."""
        return len(self._pending)

    async def wait_for_room(self) -> None:
        """Before fetching: wait while the backlog is at its bound."""
        await self._room.wait()

    async def received(
        self, updates: Sequence[Update], payloads: Sequence[str] | None = None
    ) -> None:
        """Store a fetched batch (before its offset is confirmed to Telegram); `payloads`,
        the updates' JSON as Telegram sent it, saves serialising them again.
        """
        if not updates:
            return
        if payloads is None or len(payloads) != len(updates):
            payloads = [u.to_json() for u in updates]
        known = await self._repository.store(
            [(u.update_id, payload) for u, payload in zip(updates, payloads, strict=True)],
            self._clock.now(),
        )
        self._duplicates |= known
        self._pending |= {u.update_id for u in updates if u.update_id not in known}
        self._update_room()

    async def replay(self, bot: Bot) -> list[Update]:
        """Stored updates that were never handled (the process stopped first), oldest first."""
        updates = [
            Update.de_json(json.loads(payload), bot)
            for payload in await self._repository.unhandled()
        ]
        self._pending |= {u.update_id for u in updates}
        self._update_room()
        return updates

    def is_duplicate(self, update: object) -> bool:
        """True once for an update id seen twice (stored before and fetched again)."""
        if not isinstance(update, Update) or update.update_id not in self._duplicates:
            return False
        self._duplicates.discard(update.update_id)
        return True

    def handled(self, update: object) -> None:
        """A handler finished with `update`; it is marked handled in the next background write."""
        if not isinstance(update, Update):
            return
        self._pending.discard(update.update_id)
        self._handled.append(update.update_id)
        self._update_room()
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self._start_flush)

    def _start_flush(self) -> None:
        self._flush = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def flush(self) -> None:
        """Mark what was handled since the last flush (and forget old handled updates)."""
        ids, self._handled = self._handled, []
        if ids:
            await self._repository.mark_handled(ids, forget_before=self._clock.now() - KEEP_HANDLED)

    async def close(self) -> None:
        """Stop the background writes and write what is pending."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
        await self.flush()

    def _update_room(self) -> None:
        if len(self._pending) < self._max_backlog:
            self._room.set()
        else:
            if self._room.is_set():
                log.warning("%d updates waiting to be handled: fetching pauses", len(self._pending))
            self._room.clear()
