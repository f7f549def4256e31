"""The closed loop: claim, resolve, verify, reopen, transfer, escalate, reject, time limits.

Every transition is one conditional UPDATE (TicketRepository.transition) recorded as an
event; deadlines are durable timers. Methods return outcomes; handlers say things.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from bot.domain.clock import Clock
from bot.domain.errors import UserError
from bot.domain.events import TicketEvent
from bot.domain.loop import (
    REJECT_CODES,
    TRANSITIONS,
    Action,
    Actor,
    SlaPolicy,
    check,
    next_level,
    sort_for_work,
)
from bot.domain.models import Person, Role
from bot.domain.text import whole_number
from bot.domain.tickets import OPEN_STATES, Closure, Level, Ticket, TicketStatus
from bot.services.grids import GridService
from bot.services.tickets import schedule_deadlines
from bot.services.timers import TimerService
from bot.storage.database import Database, Transaction
from bot.storage.people import PeopleRepository
from bot.storage.tickets import TicketRepository
from bot.storage.timers import Timer

log = logging.getLogger(__name__)

MAX_NOTE = 2000
# Reasons the bot gives itself are codes, so templates can say them in each language
# (the `reason` macro); people's own reasons are free text.
REASON_NOT_SOLVED = "@not_solved"
REASON_BUTTON = "@button"
UNCLAIMED = frozenset({TicketStatus.OPEN, TicketStatus.REOPENED})


@dataclass(frozen=True, slots=True)
class LoopOutcome:
    action: TicketEvent
    ticket: Ticket
    previous: TicketStatus | None = None
    actor_id: int | None = None
    note: str | None = None
    target: Person | None = None  # transfer: the new handler
    asked: tuple[int, ...] = ()  # resolve: who is asked to verify
    round: int = 0
    automatic: bool = False  # escalations by a deadline, closures by timeout
    extra: dict[str, object] = field(default_factory=dict)


class _ClaimedAt(TypedDict, total=False):
    """The optional transition field, typed so mypy knows no other keyword rides along."""

    claimed_at: datetime


class LoopService:
    def __init__(
        self, db: Database, clock: Clock, sla: SlaPolicy, timers: TimerService,
        grids: GridService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sla = sla
        self._timers = timers
        self._grids = grids
        self.tickets = TicketRepository(db)
        self._people = PeopleRepository(db)

    async def _name(self, telegram_id: int | None) -> str:
        """Refusals name who has the ticket ("已被 王网格长 认领")."""
        person = await self._people.get(telegram_id) if telegram_id else None
        return person.display_name if person else ""

    @property
    def sla(self) -> SlaPolicy:
        return self._sla

    async def actor(self, telegram_id: int) -> Actor:
        roles = await self._grids.roles_of(telegram_id)
        return Actor(telegram_id, roles, frozenset(Level(level) for level in roles.duty_levels))

    async def ticket_for(self, ticket_id: int, actor: Actor) -> Ticket:
        """A ticket an actor may see; others get "unknown ticket" (no existence leak)."""
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            raise UserError("unknown_ticket", id=ticket_id)
        return ticket

    async def checked(self, ticket_id: int, action: Action, actor: Actor) -> Ticket:
        """The ticket, if `actor` may do `action` to it now; otherwise the refusal saying why."""
        ticket = await self.ticket_for(ticket_id, actor)
        problem = check(action, ticket, actor)
        if problem == "not_your_grid_ticket":
            raise UserError("not_your_grid_ticket", id=ticket.id, level=ticket.level.value)
        if problem == "claimed_by_other":
            raise UserError("claimed_by_other", id=ticket.id,
                            by=await self._name(ticket.handler_id), action=action.value)
        if problem == "wrong_state":
            raise UserError("wrong_state", id=ticket.id, status=ticket.status.value,
                            action=action.value)
        if problem == "top_level":
            raise UserError("top_level", id=ticket.id)
        return ticket

    async def _after(self, ticket_id: int) -> Ticket:
        ticket = await self.tickets.get(ticket_id)
        assert ticket is not None
        return ticket

    async def claim(self, ticket_id: int, actor: Actor) -> LoopOutcome:
        current = await self.ticket_for(ticket_id, actor)
        if current.status is TicketStatus.CLAIMED and current.handler_id:
            raise UserError("already_claimed", id=current.id,
                            by=await self._name(current.handler_id))
        ticket = await self.checked(ticket_id, Action.CLAIM, actor)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            previous = await TicketRepository.transition(
                tx, ticket.id, from_states=TRANSITIONS[Action.CLAIM][0],
                to_status=TicketStatus.CLAIMED, actor_id=actor.telegram_id, now=now,
                kind="claimed", handler_id=actor.telegram_id, claimed_at=now,
            )
        if previous is None:
            # Lost the race (or the state moved): say who has it.
            current = await self._after(ticket.id)
            raise UserError("already_claimed", id=ticket.id,
                            by=await self._name(current.handler_id))
        return LoopOutcome(TicketEvent.CLAIMED, await self._after(ticket.id), previous,
                           actor.telegram_id)

    async def resolve(
        self, ticket_id: int, actor: Actor, note: str, proof_file_id: str | None = None
    ) -> LoopOutcome:
        """办结: handled. The reporter and every +1 follower are asked to verify."""
        ticket = await self.checked(ticket_id, Action.RESOLVE, actor)
        note = note.strip()[:MAX_NOTE]
        if not note:
            raise UserError("close_needs_note", id=ticket_id)
        now = self._clock.now()
        due = now + self._sla.verification_timeout
        asked = [ticket.reporter_id, *await self.tickets.followers(ticket.id)]
        round_ = await self.tickets.verification_round(ticket.id) + 1
        # Resolved straight away: claimed at the same moment.
        claimed: _ClaimedAt = {"claimed_at": now} if ticket.status is TicketStatus.OPEN else {}
        async with self._db.transaction() as tx:
            previous = await TicketRepository.transition(
                tx, ticket.id, from_states=TRANSITIONS[Action.RESOLVE][0],
                to_status=TicketStatus.RESOLVED, actor_id=actor.telegram_id, now=now,
                kind="resolved", note=note, resolved_at=now, verification_due_at=due,
                handler_id=ticket.handler_id or actor.telegram_id, **claimed,
            )
            if previous is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="resolve")
            if proof_file_id:
                await TicketRepository.add_attachment(
                    tx, ticket.id, kind="photo", file_id=proof_file_id,
                    added_by=actor.telegram_id, now=now,
                )
            await TicketRepository.ask_verification(tx, ticket.id, round_, asked, now)
            await TimerService.add(tx, "ticket.verify_due", ticket.id, due,
                                   {"due": int(due.timestamp()), "round": round_})
        await self._timers.scheduled(due)
        return LoopOutcome(TicketEvent.RESOLVED, await self._after(ticket.id), previous,
                           actor.telegram_id,
                           note=note, asked=tuple(asked), round=round_)

    async def reopen(self, ticket_id: int, actor: Actor, reason: str) -> LoopOutcome:
        ticket = await self.checked(ticket_id, Action.REOPEN, actor)
        reason = reason.strip()[:MAX_NOTE]
        if not reason:
            raise UserError("reopen_needs_reason", id=ticket_id)
        return await self._reopen(ticket, actor.telegram_id, reason)

    async def _reopen(self, ticket: Ticket, actor_id: int, reason: str) -> LoopOutcome:
        """Back to the same handler, with fresh time limits to resolve."""
        now = self._clock.now()
        _claim_due, resolve_due = self._sla.deadlines(ticket.urgency, ticket.category, now)
        async with self._db.transaction() as tx:
            previous = await TicketRepository.transition(
                tx, ticket.id, from_states=TRANSITIONS[Action.REOPEN][0],
                to_status=TicketStatus.REOPENED, actor_id=actor_id, now=now, kind="reopened",
                note=reason, count_reopen=True, closure=None, closed_at=None,
                resolve_due_at=resolve_due, verification_due_at=None,
            )
            if previous is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="reopen")
            await TimerService.cancel(tx, "ticket.verify", ticket.id, now)
            moments = await schedule_deadlines(tx, ticket.id, self._sla, now, None, resolve_due)
        await self._timers.scheduled(min(moments))
        return LoopOutcome(TicketEvent.REOPENED, await self._after(ticket.id), previous, actor_id,
                           note=reason)

    async def transfer(self, ticket_id: int, actor: Actor, target: Person) -> LoopOutcome:
        ticket = await self.checked(ticket_id, Action.TRANSFER, actor)
        target_actor = await self.actor(target.telegram_id)
        if not (target_actor.roles.serves(ticket.grid_id)
                or (ticket.level is not Level.GRID and ticket.level in target_actor.duty_levels)):
            raise UserError("transfer_target", name=target.display_name, id=ticket.id)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            previous = await TicketRepository.transition(
                tx, ticket.id, from_states=TRANSITIONS[Action.TRANSFER][0],
                to_status=TicketStatus.CLAIMED, actor_id=actor.telegram_id, now=now,
                kind="transferred", note=f"→{target.telegram_id}",
                handler_id=target.telegram_id, claimed_at=now,
            )
        if previous is None:
            raise UserError("wrong_state", id=ticket.id, status="changed", action="transfer")
        return LoopOutcome(TicketEvent.TRANSFERRED, await self._after(ticket.id), previous,
                           actor.telegram_id, target=target)

    async def escalate(self, ticket_id: int, actor: Actor, reason: str) -> LoopOutcome:
        ticket = await self.checked(ticket_id, Action.ESCALATE, actor)
        reason = reason.strip()[:MAX_NOTE]
        if not reason:
            raise UserError("escalate_needs_reason", id=ticket_id)
        async with self._db.transaction() as tx:
            outcome = await self._escalate(tx, ticket, actor.telegram_id, reason, automatic=False)
        if outcome is None:
            raise UserError("wrong_state", id=ticket.id, status="changed", action="escalate")
        await self._timers.rearm()
        return outcome

    async def _escalate(
        self, tx: Transaction, ticket: Ticket, actor_id: int | None, reason: str, *,
        automatic: bool,
    ) -> LoopOutcome | None:
        level = next_level(ticket.level)
        if level is None:
            return None
        now = self._clock.now()
        claim_due, resolve_due = self._sla.deadlines(ticket.urgency, ticket.category, now)
        previous = await TicketRepository.transition(
            tx, ticket.id, from_states=TRANSITIONS[Action.ESCALATE][0],
            to_status=TicketStatus.OPEN, actor_id=actor_id, now=now,
            kind="escalated_auto" if automatic else "escalated", note=f"{level.value}: {reason}",
            level=level.value, handler_id=None, escalated_at=now, claim_due_at=claim_due,
            resolve_due_at=resolve_due,
        )
        if previous is None:
            return None
        await schedule_deadlines(tx, ticket.id, self._sla, now, claim_due, resolve_due)
        after = await self.tickets.get(ticket.id)
        assert after is not None
        return LoopOutcome(TicketEvent.ESCALATED, after, previous, actor_id, note=reason,
                           automatic=automatic)

    async def reject(self, ticket_id: int, actor: Actor, args: str) -> LoopOutcome:
        """/reject ID CODE [OF-ID] REASON: closed without being fixed, and says why."""
        parts = args.split(maxsplit=1)
        code = parts[0].lower() if parts else ""
        rest = parts[1] if len(parts) > 1 else ""
        if code not in REJECT_CODES:
            raise UserError("reject_usage", codes=", ".join(REJECT_CODES))
        duplicate_of = None
        if REJECT_CODES[code] is Closure.DUPLICATE:
            head, _sep, rest = rest.partition(" ")
            duplicate_of = whole_number(head)
            if duplicate_of is None:
                raise UserError("reject_duplicate_usage")
            if duplicate_of == ticket_id or await self.tickets.get(duplicate_of) is None:
                raise UserError("unknown_ticket", id=duplicate_of)
        reason = rest.strip()[:MAX_NOTE]
        if not reason:
            raise UserError("reject_needs_reason", id=ticket_id)
        ticket = await self.checked(ticket_id, Action.REJECT, actor)
        now = self._clock.now()
        note = f"#{duplicate_of} {reason}" if duplicate_of else reason
        async with self._db.transaction() as tx:
            previous = await TicketRepository.close(
                tx, ticket.id, closure=REJECT_CODES[code], from_states=OPEN_STATES,
                actor_id=actor.telegram_id, now=now, note=note,
            )
            if previous is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="reject")
            await TimerService.cancel(tx, "ticket.", ticket.id, now)
        return LoopOutcome(TicketEvent.REJECTED, await self._after(ticket.id), previous,
                           actor.telegram_id, note=note,
                           extra={"code": code, "duplicate_of": duplicate_of})

    async def note(self, ticket_id: int, actor: Actor, text: str) -> LoopOutcome:
        text = text.strip()[:MAX_NOTE]
        if not text:
            raise UserError("note_usage")
        ticket = await self.checked(ticket_id, Action.NOTE, actor)
        async with self._db.transaction() as tx:
            await TicketRepository.record_event(
                tx, ticket.id, at=self._clock.now(), actor_id=actor.telegram_id, kind="note",
                note=text,
            )
        return LoopOutcome(TicketEvent.NOTED, ticket, ticket.status, actor.telegram_id, note=text)

    async def verify(
        self, ticket_id: int, round_: int, telegram_id: int, *, solved: bool | None = None,
        score: int | None = None,
    ) -> LoopOutcome:
        """A resident's answer: solved closes (reporter), not solved reopens; scores average."""
        ticket = await self.tickets.get(ticket_id)
        if ticket is None or not await self.tickets.is_asked(ticket_id, round_, telegram_id):
            raise UserError("not_asked", id=ticket_id)
        if round_ != await self.tickets.verification_round(ticket_id):
            raise UserError("verification_over", id=ticket_id)
        if score is not None and not 1 <= score <= 5:
            raise UserError("not_asked", id=ticket_id)
        if solved is not None and ticket.status is not TicketStatus.RESOLVED:
            # Already confirmed, reopened or closed by timeout: the question is over (a score
            # may still come in afterwards).
            raise UserError("verification_over", id=ticket_id)
        now = self._clock.now()
        if solved is False:
            async with self._db.transaction() as tx:
                await TicketRepository.answer_verification(
                    tx, ticket.id, round_, telegram_id, solved=False, now=now
                )
            return await self._reopen(ticket, telegram_id, REASON_NOT_SOLVED)
        async with self._db.transaction() as tx:
            await TicketRepository.answer_verification(
                tx, ticket.id, round_, telegram_id, solved=solved, score=score, now=now
            )
            previous = None
            if solved and ticket.status is TicketStatus.RESOLVED:
                previous = await TicketRepository.close(
                    tx, ticket.id, closure=Closure.CONFIRMED,
                    from_states=frozenset({TicketStatus.RESOLVED}), actor_id=telegram_id,
                    now=now,
                )
                if previous is not None:
                    await TimerService.cancel(tx, "ticket.", ticket.id, now)
        action = (TicketEvent.CONFIRMED if previous is not None
                  else TicketEvent.SCORED if score else TicketEvent.ANSWERED)
        return LoopOutcome(action, await self._after(ticket.id), previous, telegram_id,
                           extra={"score": score})

    # --- timers: reminders, breaches, verification timeouts ---

    async def on_timer(self, timer: Timer, tx: Transaction, now: datetime) -> LoopOutcome | None:
        ticket = await self.tickets.get(timer.ref_id)
        if ticket is None:
            return None
        due = timer.payload.get("due")
        stage = timer.kind.removeprefix("ticket.")
        if stage.startswith("claim"):
            current = ticket.claim_due_at
            live = ticket.status in UNCLAIMED and ticket.status is not TicketStatus.REOPENED
        elif stage.startswith("resolve"):
            current = ticket.resolve_due_at
            live = ticket.is_open
        else:  # verify_due
            current = ticket.verification_due_at
            live = ticket.status is TicketStatus.RESOLVED
        if not live or current is None or int(current.timestamp()) != due:
            return None  # the ticket moved on; this timer belongs to an older deadline
        if stage.endswith("_remind"):
            return LoopOutcome(TicketEvent(f"remind_{stage.split('_')[0]}"), ticket, ticket.status,
                               automatic=True)
        if stage == "verify_due":
            previous = await TicketRepository.close(
                tx, ticket.id, closure=Closure.CONFIRMED_BY_TIMEOUT,
                from_states=frozenset({TicketStatus.RESOLVED}), actor_id=None, now=now,
            )
            if previous is None:
                return None
            after = await self.tickets.get(ticket.id)
            assert after is not None
            return LoopOutcome(TicketEvent.CONFIRMED_BY_TIMEOUT, after, previous, automatic=True)
        await TicketRepository.mark_overdue(tx, ticket.id, now, stage.split('_')[0])
        outcome = await self._escalate(
            tx, ticket, None, f"@{stage.split('_')[0]}_deadline", automatic=True
        )
        if outcome is None:
            await TicketRepository.record_event(tx, ticket.id, at=now, actor_id=None,
                                                kind="overdue_top_level", note=stage)
            return LoopOutcome(TicketEvent.OVERDUE_TOP_LEVEL, ticket, ticket.status, automatic=True)
        return outcome

    # --- listings, patrol logs, duty staff ---

    async def open_for(
        self, actor: Actor, grid_id: int | None, *, category: str | None = None,
        status: TicketStatus | None = None,
    ) -> list[Ticket]:
        if grid_id is not None:
            if not (actor.roles.is_staff or actor.roles.serves(grid_id)):
                raise UserError("not_your_grid")
            grid_ids: list[int] | None = [grid_id]
        elif actor.roles.is_staff:
            grid_ids = None
        else:
            grid_ids = sorted({g.id for g, _role in actor.roles.grid_roles})
        tickets = await self.tickets.open_in_grids(grid_ids, category=category, status=status)
        if grid_id is None and actor.duty_levels:
            seen = {t.id for t in tickets}
            for level in actor.duty_levels:
                tickets += [t for t in await self.tickets.at_level(level.value) if t.id not in seen]
        return sort_for_work(tickets)

    async def log_patrol(self, grid_id: int, author_id: int, text: str) -> int:
        text = text.strip()[:MAX_NOTE]
        if not text:
            raise UserError("log_usage")
        async with self._db.transaction() as tx:
            return await TicketRepository.add_patrol_log(tx, grid_id, author_id, text,
                                                         self._clock.now())

    async def set_duty(self, level: str, person: Person, *, on: bool, by: int) -> bool:
        if level not in (Level.COMMUNITY, Level.STREET, Level.DISTRICT):
            raise UserError("duty_usage")
        async with self._db.transaction() as tx:
            return await TicketRepository.set_duty(tx, level, person.telegram_id, by=by,
                                                   now=self._clock.now(), on=on)

    async def heads_of(self, grid_id: int) -> list[Person]:
        members = await self._grids.grids.members_of([grid_id])
        return [m.person for m in members[grid_id] if m.role is Role.HEAD]
