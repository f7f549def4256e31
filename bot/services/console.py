"""The staff console's use cases: logging in, and what a viewer may see of tickets and grids.

The console shows nobody more than the chat commands would: a viewer is an `Actor` built
by the loop service, a ticket is visible exactly when the loop rules let the viewer handle
it (`may_handle`), and every action goes through LoopService like a command does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.console_auth import LOGIN_LINK_LIFETIME, login_secret_hash
from bot.domain.errors import UserError
from bot.domain.loop import Action, Actor, check, may_handle
from bot.domain.models import Grid, Person
from bot.domain.permissions import Audience, allowed
from bot.domain.stats import Figures, Period, StatsReport
from bot.domain.ticket_views import Scope, TicketFilter
from bot.domain.tickets import Attachment, Ticket, TicketEventRecord, VerificationRecord
from bot.services.grids import GridService
from bot.services.loop import LoopService
from bot.services.people import PeopleService
from bot.services.ports import ConsoleView, UnitOfWorkFactory
from bot.services.stats import StatsService

PAGE_SIZE = 25
# The actions the console offers on a ticket page, in the order its buttons appear.
CONSOLE_ACTIONS = (Action.CLAIM, Action.RESOLVE, Action.ESCALATE, Action.REJECT, Action.NOTE)
OVERVIEW_SORTS = ("overdue", "open", "claim_on_time", "resolve_on_time", "satisfaction", "code")


@dataclass(frozen=True, slots=True)
class GridRow:
    """One grid on the overview: open and overdue now, this month's rates."""

    grid: Grid
    open: int
    overdue: int
    figures: Figures


@dataclass(frozen=True, slots=True)
class TicketPage:
    """One page of the console's ticket list, with the total that matched and the page count."""

    tickets: list[Ticket]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class TicketView:
    """Everything the console shows on a ticket's page: its grid, history, attachments,
    verifications, the people named and what the viewer may do.
    """

    ticket: Ticket
    grid: Grid | None
    events: list[TicketEventRecord]
    attachments: list[Attachment]
    verifications: list[VerificationRecord]
    people: dict[int, Person] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()


def worst_first(rows: list[GridRow], sort: str) -> list[GridRow]:
    """Worst first: most overdue/open, lowest rates (a grid with no figure yet comes last)."""
    if sort == "code":
        return sorted(rows, key=lambda r: r.grid.code)
    if sort in ("overdue", "open"):
        return sorted(rows, key=lambda r: (-getattr(r, sort), -r.open, r.grid.code))
    rate = {
        "claim_on_time": lambda f: f.claim_on_time_rate,
        "resolve_on_time": lambda f: f.resolve_on_time_rate,
        "satisfaction": lambda f: f.satisfaction,
    }[sort]

    def key(row: GridRow) -> tuple[bool, float, str]:
        value = rate(row.figures)
        return (value is None, value if value is not None else 0.0, row.grid.code)

    return sorted(rows, key=key)


class ConsoleService:
    """The web console's use cases, each limited to what the logged-in person may see (staff:
    everything; heads, workers and duty staff: their own).
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        views: ConsoleView,
        clock: Clock,
        grids: GridService,
        people: PeopleService,
        loop: LoopService,
        stats: StatsService,
    ) -> None:
        self._uow = uow
        self._views = views
        self._clock = clock
        self._grids = grids
        self._people = people
        self._loop = loop
        self._stats = stats

    # --- who ---

    async def issue_login_link(self, telegram_id: int) -> str:
        """A fresh one-time secret for a login link; only its hash is stored."""
        secret = secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.console.add_login(
                login_secret_hash(secret), telegram_id, now, now + LOGIN_LINK_LIFETIME
            )
        return secret

    async def use_login_link(self, secret: str) -> int | None:
        """Who the link logs in, the first time within its lifetime; None after that."""
        async with self._uow() as uow:
            return await uow.console.use_login(login_secret_hash(secret), self._clock.now())

    async def viewer(self, telegram_id: int) -> Actor:
        """The person at the console, with the roles they have right now.

        Checked on every request, so a head removed from a grid loses its tickets at once.
        """
        actor = await self._loop.actor(telegram_id)
        if not allowed(Audience.HANDLERS, actor.roles, None):
            raise UserError("console_not_allowed")
        return actor

    async def language_of(self, telegram_id: int) -> str | None:
        """The language Telegram reports for the person, for the console's locale."""
        return await self._people.language_of(telegram_id)

    @staticmethod
    def scope(actor: Actor) -> Scope:
        """The grids and escalation levels an actor's lists are limited to (None: staff see every
        grid).
        """
        if actor.roles.is_staff:
            return Scope(None)
        return Scope(
            tuple(sorted({g.id for g, _role in actor.roles.grid_roles})),
            tuple(sorted(level.value for level in actor.duty_levels)),
        )

    async def visible_grids(self, actor: Actor) -> list[Grid]:
        """The grids whose figures and tickets the actor may see, by code."""
        if actor.roles.is_staff:
            return await self._grids.all_grids()
        return sorted(
            {g.id: g for g, _role in actor.roles.grid_roles}.values(), key=lambda g: g.code
        )

    # --- pages ---

    async def change_mark(self) -> tuple[int, int]:
        """Moves whenever a ticket is filed or changes: live pages watch it."""
        return await self._views.change_mark()

    async def overview(self, actor: Actor, sort: str = "overdue") -> list[GridRow]:
        """One row per visible grid (open, overdue, this month's figures), worst first by `sort`."""
        grids = await self.visible_grids(actor)
        if not grids:
            return []
        report = await self._stats.report(self._stats.period("month"), grids)
        figures = {row.grid.id: row.figures for row in report.grids}
        open_now = await self._views.open_by_grid(self.scope(actor), self._clock.now())
        rows = [
            GridRow(g, *open_now.get(g.id, (0, 0)), figures.get(g.id, Figures())) for g in grids
        ]
        return worst_first(rows, sort if sort in OVERVIEW_SORTS else "overdue")

    async def tickets(self, actor: Actor, wanted: TicketFilter, page: int) -> TicketPage:
        """A page of the tickets the actor may see that match the filter; a grid that is not theirs
        is refused.
        """
        if wanted.grid_id is not None and not (
            actor.roles.is_staff or actor.roles.serves(wanted.grid_id)
        ):
            raise UserError("not_your_grid")
        page = max(1, page)
        tickets, total = await self._views.tickets(
            self.scope(actor),
            wanted,
            self._clock.now(),
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        return TicketPage(tickets, total, page, max(1, -(-total // PAGE_SIZE)))

    async def ticket(self, actor: Actor, ticket_id: int) -> TicketView:
        """A ticket with its whole history, if the viewer may handle it (else: unknown)."""
        async with self._uow() as uow:
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None or not may_handle(actor, ticket):
                # The same answer for "no such ticket" and "not yours": no existence leak.
                raise UserError("unknown_ticket", id=ticket_id)
            events = await uow.console.events(ticket_id)
            verifications = await uow.console.verifications(ticket_id)
            attachments = await uow.tickets.attachments(ticket_id)
            grid = await uow.grids.by_id(ticket.grid_id)
        ids = {
            ticket.reporter_id,
            *(e.actor_id for e in events if e.actor_id),
            *(v.telegram_id for v in verifications),
        }
        if ticket.handler_id:
            ids.add(ticket.handler_id)
        people = {}
        for person_id in ids:
            person = await self._people.get(person_id)
            if person is not None:
                people[person_id] = person
        return TicketView(
            ticket=ticket,
            grid=grid,
            events=events,
            attachments=attachments,
            verifications=verifications,
            people=people,
            actions=tuple(a for a in CONSOLE_ACTIONS if check(a, ticket, actor) is None),
        )

    async def figures(
        self, actor: Actor, period: Period, grid_id: int | None
    ) -> tuple[list[Grid], StatsReport]:
        """The visible grids (or the one asked for) and their figures for a period, with the daily
        chart.
        """
        grids = await self.visible_grids(actor)
        if grid_id is not None:
            grids = [g for g in grids if g.id == grid_id]
        if not grids:
            raise UserError("not_your_grid")
        return grids, await self._stats.report(period, grids, daily=True)

    def now(self) -> datetime:
        """The service clock's now, so the console's pages and the bot agree on the time."""
        return self._clock.now()
