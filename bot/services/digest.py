"""The daily digest each grid's heads get: open, overdue, claimed by whom, closed yesterday."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.loop import is_overdue
from bot.domain.models import Grid, Person
from bot.domain.tickets import Ticket
from bot.services.grids import GridService
from bot.services.timers import TimerService
from bot.storage.database import Database, Transaction
from bot.storage.tickets import TicketRepository

DIGEST_TIMER = "digest.daily"


def next_digest_at(now: datetime, tz: ZoneInfo, at: time) -> datetime:
    """The next local `at` strictly after `now`, as an aware UTC moment."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True, slots=True)
class GridDigest:
    grid: Grid
    heads: tuple[Person, ...]
    open: tuple[Ticket, ...]
    overdue: tuple[Ticket, ...]
    claimed_by: tuple[tuple[Person | int, int], ...]
    closed_yesterday: int


class DigestService:
    def __init__(self, db: Database, clock: Clock, grids: GridService, tz: ZoneInfo,
                 at: time) -> None:
        self._db = db
        self._clock = clock
        self._grids = grids
        self._tz = tz
        self._at = at
        self.tickets = TicketRepository(db)

    async def ensure_scheduled(self) -> datetime:
        """At start: a pending digest timer exists (one, whatever the restarts)."""
        repository = TimerService(self._db, self._clock).repository
        pending = await repository.pending(DIGEST_TIMER)
        if pending:
            return pending[0].due_at
        due = next_digest_at(self._clock.now(), self._tz, self._at)
        async with self._db.transaction() as tx:
            await TimerService.add(tx, DIGEST_TIMER, 0, due)
        return due

    async def schedule_next(self, tx: Transaction, now: datetime) -> datetime:
        due = next_digest_at(now, self._tz, self._at)
        await TimerService.add(tx, DIGEST_TIMER, 0, due)
        return due

    async def digests(self, now: datetime) -> list[GridDigest]:
        grids = [g for g in await self._grids.grids.all() if g.active and g.chat_id is not None]
        members = await self._grids.grids.members_of([g.id for g in grids])
        local_today = now.astimezone(self._tz).date()
        start = datetime.combine(local_today - timedelta(days=1), time(0), tzinfo=self._tz)
        end = datetime.combine(local_today, time(0), tzinfo=self._tz)
        result = []
        for grid in grids:
            people = {m.person.telegram_id: m.person for m in members[grid.id]}
            open_tickets = await self.tickets.open_in_grids([grid.id], limit=500)
            handlers = Counter(t.handler_id for t in open_tickets if t.handler_id)
            result.append(GridDigest(
                grid=grid,
                heads=tuple(m.person for m in members[grid.id] if m.role.value == "head"),
                open=tuple(open_tickets),
                overdue=tuple(t for t in open_tickets if is_overdue(t, now)),
                claimed_by=tuple((people.get(h, h), n) for h, n in handlers.most_common()),
                closed_yesterday=await self.tickets.closed_between(grid.id, start, end),
            ))
        return result
