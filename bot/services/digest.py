"""The daily digest each grid's heads get: open, overdue, claimed by whom, closed yesterday."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.loop import is_overdue
from bot.domain.models import Grid, Person
from bot.domain.schedule import Schedule
from bot.domain.tickets import Ticket
from bot.services.ports import UnitOfWorkFactory

DIGEST_TIMER = "digest.daily"


@dataclass(frozen=True, slots=True)
class GridDigest:
    """One grid's morning digest for its heads: open and overdue tickets, who holds how many,
    yesterday's closures.
    """

    grid: Grid
    heads: tuple[Person, ...]
    open: tuple[Ticket, ...]
    overdue: tuple[Ticket, ...]
    claimed_by: tuple[tuple[Person | int, int], ...]
    closed_yesterday: int


class DigestService:
    """Builds the daily digest each active grid's heads get, on a recurring timer at the configured
    time.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, tz: ZoneInfo, at: time) -> None:
        self._uow = uow
        self._clock = clock
        self._tz = tz
        # Every day at [digest] time; a recurring timer (TimerService.recurring) runs it.
        self.schedule = Schedule.every_day(at, tz)

    async def digests(self, now: datetime) -> list[GridDigest]:
        """A digest for every active grid bound to a chat, "yesterday" being the local day before
        `now`.
        """
        async with self._uow() as uow:
            grids = [g for g in await uow.grids.all() if g.active and g.chat_id is not None]
            members = await uow.grids.members_of([g.id for g in grids])
            local_today = now.astimezone(self._tz).date()
            start = datetime.combine(local_today - timedelta(days=1), time(0), tzinfo=self._tz)
            end = datetime.combine(local_today, time(0), tzinfo=self._tz)
            result = []
            for grid in grids:
                people = {m.person.telegram_id: m.person for m in members[grid.id]}
                open_tickets = await uow.tickets.open_in_grids([grid.id], limit=500)
                handlers = Counter(t.handler_id for t in open_tickets if t.handler_id)
                result.append(
                    GridDigest(
                        grid=grid,
                        heads=tuple(m.person for m in members[grid.id] if m.role.value == "head"),
                        open=tuple(open_tickets),
                        overdue=tuple(t for t in open_tickets if is_overdue(t, now)),
                        claimed_by=tuple((people.get(h, h), n) for h, n in handlers.most_common()),
                        closed_yesterday=await uow.tickets.closed_between(grid.id, start, end),
                    )
                )
        return result
