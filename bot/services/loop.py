"""The closed loop: claim, resolve, verify, reopen, transfer, escalate, reject, time limits.

Every use case is one unit of work: the ticket is read once, checked, and changed by one
conditional UPDATE (a repository's `transition`) recorded as an event, with its timers;
deadlines are durable timers. Methods return outcomes; handlers say things.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from bot.domain.tickets import (
    OPEN_STATES,
    Attachment,
    Closure,
    Level,
    PatrolLog,
    Ticket,
    TicketStatus,
)
from bot.domain.timers import Timer
from bot.services.grids import GridService
from bot.services.ports import UnitOfWork, UnitOfWorkFactory
from bot.services.tickets import schedule_deadlines
from bot.services.timers import TimerService

log = logging.getLogger(__name__)

MAX_NOTE = 2000
# Reasons the bot gives itself are codes, so templates can say them in each language
# (the `reason` macro); people's own reasons are free text.
REASON_NOT_SOLVED = "@not_solved"
REASON_BUTTON = "@button"
CLOSE_NOTE = "ticket.close_note"  # the pending action of a [办结] waiting for its note
UNCLAIMED = frozenset({TicketStatus.OPEN, TicketStatus.REOPENED})


@dataclass(frozen=True, slots=True)
class LoopOutcome:
    """What a step of a ticket's life did, for the notifier: the event, the ticket after it and who
    is to be told what.
    """

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
    """A ticket's life after filing: claim, transfer, escalate, note, resolve, verify, reopen, and
    the deadlines that act on their own.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        sla: SlaPolicy,
        timers: TimerService,
        grids: GridService,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sla = sla
        self._timers = timers
        self._grids = grids

    @staticmethod
    async def _name(uow: UnitOfWork, telegram_id: int | None) -> str:
        """Refusals name who has the ticket ("已被 王网格长 认领")."""
        person = await uow.people.get(telegram_id) if telegram_id else None
        return person.display_name if person else ""

    @property
    def sla(self) -> SlaPolicy:
        """The time limits in force (claim, resolve, verify)."""
        return self._sla

    async def actor(self, telegram_id: int) -> Actor:
        """The person with everything that decides what they may do to a ticket."""
        roles = await self._grids.roles_of(telegram_id)
        return Actor(telegram_id, roles, frozenset(Level(level) for level in roles.duty_levels))

    async def ticket(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id, or None."""
        async with self._uow() as uow:
            return await uow.tickets.get(ticket_id)

    async def attachments(self, ticket_id: int) -> list[Attachment]:
        """A ticket's photos and locations, in the order they were added."""
        async with self._uow() as uow:
            return await uow.tickets.attachments(ticket_id)

    async def checked(self, ticket_id: int, action: Action, actor: Actor) -> Ticket:
        """The ticket, if `actor` may do `action` to it now; otherwise the refusal saying why."""
        async with self._uow() as uow:
            return await self._checked(uow, ticket_id, action, actor)

    async def _checked(
        self, uow: UnitOfWork, ticket_id: int, action: Action, actor: Actor
    ) -> Ticket:
        """The one read of the ticket a command acts on, and the check of the action."""
        ticket = await uow.tickets.get(ticket_id)
        if ticket is None:
            raise UserError("unknown_ticket", id=ticket_id)
        if action is Action.CLAIM and ticket.status is TicketStatus.CLAIMED and ticket.handler_id:
            raise UserError(
                "already_claimed", id=ticket.id, by=await self._name(uow, ticket.handler_id)
            )
        problem = check(action, ticket, actor)
        if problem == "not_your_grid_ticket":
            raise UserError("not_your_grid_ticket", id=ticket.id, level=ticket.level.value)
        if problem == "claimed_by_other":
            raise UserError(
                "claimed_by_other",
                id=ticket.id,
                by=await self._name(uow, ticket.handler_id),
                action=action.value,
            )
        if problem == "wrong_state":
            raise UserError(
                "wrong_state", id=ticket.id, status=ticket.status.value, action=action.value
            )
        if problem == "top_level":
            raise UserError("top_level", id=ticket.id)
        return ticket

    async def claim(self, ticket_id: int, actor: Actor) -> LoopOutcome:
        """Take the ticket on; one conditional UPDATE, so of two heads pressing at once only one
        wins.
        """
        async with self._uow() as uow:
            ticket = await self._checked(uow, ticket_id, Action.CLAIM, actor)
            now = self._clock.now()
            claimed = await uow.tickets.transition(
                ticket,
                from_states=TRANSITIONS[Action.CLAIM][0],
                to_status=TicketStatus.CLAIMED,
                actor_id=actor.telegram_id,
                now=now,
                kind="claimed",
                handler_id=actor.telegram_id,
                claimed_at=now,
            )
            if claimed is None:
                raise UserError(
                    "already_claimed", id=ticket.id, by=await self._name(uow, ticket.handler_id)
                )
        return LoopOutcome(TicketEvent.CLAIMED, claimed, ticket.status, actor.telegram_id)

    async def resolve(
        self, ticket_id: int, actor: Actor, note: str, proof_file_id: str | None = None
    ) -> LoopOutcome:
        """办结: handled. The reporter and every +1 follower are asked to verify."""
        note = note.strip()[:MAX_NOTE]
        async with self._uow() as uow:
            ticket = await self._checked(uow, ticket_id, Action.RESOLVE, actor)
            if not note:
                raise UserError("close_needs_note", id=ticket_id)
            now = self._clock.now()
            due = now + self._sla.verification_timeout
            asked = [ticket.reporter_id, *await uow.tickets.followers(ticket.id)]
            round_ = await uow.tickets.verification_round(ticket.id) + 1
            # Resolved straight away: claimed at the same moment.
            claimed: _ClaimedAt = {"claimed_at": now} if ticket.status is TicketStatus.OPEN else {}
            resolved = await uow.tickets.transition(
                ticket,
                from_states=TRANSITIONS[Action.RESOLVE][0],
                to_status=TicketStatus.RESOLVED,
                actor_id=actor.telegram_id,
                now=now,
                kind="resolved",
                note=note,
                resolved_at=now,
                verification_due_at=due,
                handler_id=ticket.handler_id or actor.telegram_id,
                **claimed,
            )
            if resolved is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="resolve")
            if proof_file_id:
                await uow.tickets.add_attachment(
                    ticket.id,
                    kind="photo",
                    file_id=proof_file_id,
                    added_by=actor.telegram_id,
                    now=now,
                )
            await uow.tickets.ask_verification(ticket.id, round_, asked, now)
            await uow.timers.add(
                "ticket.verify_due", ticket.id, due, {"due": int(due.timestamp()), "round": round_}
            )
        await self._timers.scheduled(due)
        return LoopOutcome(
            TicketEvent.RESOLVED,
            resolved,
            ticket.status,
            actor.telegram_id,
            note=note,
            asked=tuple(asked),
            round=round_,
        )

    async def reopen(self, ticket_id: int, actor: Actor, reason: str) -> LoopOutcome:
        """Reopen a resolved or closed ticket, with a reason; its deadlines start again."""
        reason = reason.strip()[:MAX_NOTE]
        async with self._uow() as uow:
            ticket = await self._checked(uow, ticket_id, Action.REOPEN, actor)
            if not reason:
                raise UserError("reopen_needs_reason", id=ticket_id)
            outcome, first_due = await self._reopen(uow, ticket, actor.telegram_id, reason)
        await self._timers.scheduled(first_due)
        return outcome

    async def _reopen(
        self, uow: UnitOfWork, ticket: Ticket, actor_id: int, reason: str
    ) -> tuple[LoopOutcome, datetime]:
        """Back to the same handler, with fresh time limits to resolve."""
        now = self._clock.now()
        _claim_due, resolve_due = self._sla.deadlines(ticket.urgency, ticket.category, now)
        reopened = await uow.tickets.transition(
            ticket,
            from_states=TRANSITIONS[Action.REOPEN][0],
            to_status=TicketStatus.REOPENED,
            actor_id=actor_id,
            now=now,
            kind="reopened",
            note=reason,
            count_reopen=True,
            closure=None,
            closed_at=None,
            resolve_due_at=resolve_due,
            verification_due_at=None,
        )
        if reopened is None:
            raise UserError("wrong_state", id=ticket.id, status="changed", action="reopen")
        await uow.timers.cancel("ticket.verify", ticket.id, now)
        moments = await schedule_deadlines(uow, ticket.id, self._sla, now, None, resolve_due)
        return (
            LoopOutcome(TicketEvent.REOPENED, reopened, ticket.status, actor_id, note=reason),
            min(moments),
        )

    async def transfer(self, ticket_id: int, actor: Actor, target: Person) -> LoopOutcome:
        """Hand the ticket to someone who serves its grid (or its level's duty staff)."""
        target_actor = await self.actor(target.telegram_id)
        async with self._uow() as uow:
            ticket = await self._checked(uow, ticket_id, Action.TRANSFER, actor)
            if not (
                target_actor.roles.serves(ticket.grid_id)
                or (ticket.level is not Level.GRID and ticket.level in target_actor.duty_levels)
            ):
                raise UserError("transfer_target", name=target.display_name, id=ticket.id)
            now = self._clock.now()
            transferred = await uow.tickets.transition(
                ticket,
                from_states=TRANSITIONS[Action.TRANSFER][0],
                to_status=TicketStatus.CLAIMED,
                actor_id=actor.telegram_id,
                now=now,
                kind="transferred",
                note=f"→{target.telegram_id}",
                handler_id=target.telegram_id,
                claimed_at=now,
            )
            if transferred is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="transfer")
        return LoopOutcome(
            TicketEvent.TRANSFERRED, transferred, ticket.status, actor.telegram_id, target=target
        )

    async def escalate(self, ticket_id: int, actor: Actor, reason: str) -> LoopOutcome:
        """Send the ticket up a level (to the next duty chat), with a reason."""
        reason = reason.strip()[:MAX_NOTE]
        async with self._uow() as uow:
            ticket = await self._checked(uow, ticket_id, Action.ESCALATE, actor)
            if not reason:
                raise UserError("escalate_needs_reason", id=ticket_id)
            outcome = await self._escalate(uow, ticket, actor.telegram_id, reason, automatic=False)
            if outcome is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="escalate")
        await self._timers.rearm()
        return outcome

    async def _escalate(
        self,
        uow: UnitOfWork,
        ticket: Ticket,
        actor_id: int | None,
        reason: str,
        *,
        automatic: bool,
    ) -> LoopOutcome | None:
        level = next_level(ticket.level)
        if level is None:
            return None
        now = self._clock.now()
        claim_due, resolve_due = self._sla.deadlines(ticket.urgency, ticket.category, now)
        escalated = await uow.tickets.transition(
            ticket,
            from_states=TRANSITIONS[Action.ESCALATE][0],
            to_status=TicketStatus.OPEN,
            actor_id=actor_id,
            now=now,
            kind="escalated_auto" if automatic else "escalated",
            note=f"{level.value}: {reason}",
            level=level.value,
            handler_id=None,
            escalated_at=now,
            claim_due_at=claim_due,
            resolve_due_at=resolve_due,
        )
        if escalated is None:
            return None
        await schedule_deadlines(uow, ticket.id, self._sla, now, claim_due, resolve_due)
        return LoopOutcome(
            TicketEvent.ESCALATED,
            escalated,
            ticket.status,
            actor_id,
            note=reason,
            automatic=automatic,
        )

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
        reason = rest.strip()[:MAX_NOTE]
        async with self._uow() as uow:
            if duplicate_of is not None and (
                duplicate_of == ticket_id or await uow.tickets.get(duplicate_of) is None
            ):
                raise UserError("unknown_ticket", id=duplicate_of)
            if not reason:
                raise UserError("reject_needs_reason", id=ticket_id)
            ticket = await self._checked(uow, ticket_id, Action.REJECT, actor)
            now = self._clock.now()
            note = f"#{duplicate_of} {reason}" if duplicate_of else reason
            rejected = await uow.tickets.close(
                ticket,
                closure=REJECT_CODES[code],
                from_states=OPEN_STATES,
                actor_id=actor.telegram_id,
                now=now,
                note=note,
            )
            if rejected is None:
                raise UserError("wrong_state", id=ticket.id, status="changed", action="reject")
            await uow.timers.cancel("ticket.", ticket.id, now)
        return LoopOutcome(
            TicketEvent.REJECTED,
            rejected,
            ticket.status,
            actor.telegram_id,
            note=note,
            extra={"code": code, "duplicate_of": duplicate_of},
        )

    async def note(self, ticket_id: int, actor: Actor, text: str) -> LoopOutcome:
        """Add a note to the ticket's history, checked like every action (`_checked`)."""
        text = text.strip()[:MAX_NOTE]
        if not text:
            raise UserError("note_usage")
        async with self._uow() as uow:
            ticket = await self._checked(uow, ticket_id, Action.NOTE, actor)
            await uow.tickets.record_event(
                ticket.id, at=self._clock.now(), actor_id=actor.telegram_id, kind="note", note=text
            )
        return LoopOutcome(TicketEvent.NOTED, ticket, ticket.status, actor.telegram_id, note=text)

    async def verify(
        self,
        ticket_id: int,
        round_: int,
        telegram_id: int,
        *,
        solved: bool | None = None,
        score: int | None = None,
    ) -> LoopOutcome:
        """A resident's answer: solved closes (reporter), not solved reopens; scores average.

        The answer and what it does (the reopening, the closure) commit together.
        """
        first_due: datetime | None = None
        async with self._uow() as uow:
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None or not await uow.tickets.is_asked(ticket_id, round_, telegram_id):
                raise UserError("not_asked", id=ticket_id)
            if round_ != await uow.tickets.verification_round(ticket_id):
                raise UserError("verification_over", id=ticket_id)
            if score is not None and not 1 <= score <= 5:
                raise UserError("not_asked", id=ticket_id)
            if solved is not None and ticket.status is not TicketStatus.RESOLVED:
                # Already confirmed, reopened or closed by timeout: the question is over (a
                # score may still come in afterwards).
                raise UserError("verification_over", id=ticket_id)
            now = self._clock.now()
            await uow.tickets.answer_verification(
                ticket.id, round_, telegram_id, solved=solved, score=score, now=now
            )
            if solved is False:
                outcome, first_due = await self._reopen(uow, ticket, telegram_id, REASON_NOT_SOLVED)
            else:
                after = closed = None
                if solved:
                    closed = await uow.tickets.close(
                        ticket,
                        closure=Closure.CONFIRMED,
                        from_states=frozenset({TicketStatus.RESOLVED}),
                        actor_id=telegram_id,
                        now=now,
                    )
                    if closed is not None:
                        await uow.timers.cancel("ticket.", ticket.id, now)
                if closed is None and score is not None:
                    after = await uow.tickets.get(ticket.id)  # its satisfaction moved
                action = (
                    TicketEvent.CONFIRMED
                    if closed is not None
                    else TicketEvent.SCORED
                    if score
                    else TicketEvent.ANSWERED
                )
                outcome = LoopOutcome(
                    action,
                    closed or after or ticket,
                    ticket.status if closed is not None else None,
                    telegram_id,
                    extra={"score": score},
                )
        if first_due is not None:
            await self._timers.scheduled(first_due)
        return outcome

    # --- timers: reminders, breaches, verification timeouts ---

    async def on_timer(self, timer: Timer, uow: UnitOfWork, now: datetime) -> LoopOutcome | None:
        """A ticket deadline fired, inside the timer's unit of work: remind, close a resolved ticket
        nobody verified, or mark overdue and escalate; None when the ticket moved on since the
        timer was set.
        """
        ticket = await uow.tickets.get(timer.ref_id)
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
            return LoopOutcome(
                TicketEvent(f"remind_{stage.split('_')[0]}"), ticket, ticket.status, automatic=True
            )
        if stage == "verify_due":
            closed = await uow.tickets.close(
                ticket,
                closure=Closure.CONFIRMED_BY_TIMEOUT,
                from_states=frozenset({TicketStatus.RESOLVED}),
                actor_id=None,
                now=now,
            )
            if closed is None:
                return None
            return LoopOutcome(
                TicketEvent.CONFIRMED_BY_TIMEOUT, closed, ticket.status, automatic=True
            )
        await uow.tickets.mark_overdue(ticket.id, now, stage.split("_")[0])
        outcome = await self._escalate(
            uow, ticket, None, f"@{stage.split('_')[0]}_deadline", automatic=True
        )
        if outcome is None:
            await uow.tickets.record_event(
                ticket.id, at=now, actor_id=None, kind="overdue_top_level", note=stage
            )
            return LoopOutcome(TicketEvent.OVERDUE_TOP_LEVEL, ticket, ticket.status, automatic=True)
        return outcome

    # --- listings, patrol logs, duty staff ---

    async def open_for(
        self,
        actor: Actor,
        grid_id: int | None,
        *,
        category: str | None = None,
        status: TicketStatus | None = None,
    ) -> list[Ticket]:
        """The open tickets an actor may see: one grid (theirs, or any for staff), else all of
        theirs plus their duty levels'.
        """
        if grid_id is not None:
            if not (actor.roles.is_staff or actor.roles.serves(grid_id)):
                raise UserError("not_your_grid")
            grid_ids: list[int] | None = [grid_id]
        elif actor.roles.is_staff:
            grid_ids = None
        else:
            grid_ids = sorted({g.id for g, _role in actor.roles.grid_roles})
        async with self._uow() as uow:
            tickets = await uow.tickets.open_in_grids(grid_ids, category=category, status=status)
            if grid_id is None and actor.duty_levels:
                seen = {t.id for t in tickets}
                for level in actor.duty_levels:
                    tickets += [
                        t for t in await uow.tickets.at_level(level.value) if t.id not in seen
                    ]
        return sort_for_work(tickets)

    async def log_patrol(self, grid_id: int, author_id: int, text: str) -> int:
        """Keep a grid worker's patrol note (/log); its id."""
        text = text.strip()[:MAX_NOTE]
        if not text:
            raise UserError("log_usage")
        async with self._uow() as uow:
            return await uow.tickets.add_patrol_log(grid_id, author_id, text, self._clock.now())

    async def patrol_logs(self, grid_ids: list[int], limit: int = 10) -> list[PatrolLog]:
        """The latest patrol notes of these grids, newest first."""
        async with self._uow() as uow:
            return await uow.tickets.patrol_logs(grid_ids, limit)

    async def set_duty(self, level: str, person: Person, *, on: bool, by: int) -> bool:
        """Put a person on or off duty at an escalation level; False when nothing changed."""
        if level not in (Level.COMMUNITY, Level.STREET, Level.DISTRICT):
            raise UserError("duty_usage")
        async with self._uow() as uow:
            return await uow.tickets.set_duty(
                level, person.telegram_id, by=by, now=self._clock.now(), on=on
            )

    async def ask_close_note(
        self, chat_id: int, actor: Actor, ticket_id: int, ttl: timedelta
    ) -> None:
        """[办结] pressed: the presser's next message in this chat is the closing note."""
        async with self._uow() as uow:
            await self._checked(uow, ticket_id, Action.RESOLVE, actor)
            now = self._clock.now()
            await uow.pending.create(
                kind=CLOSE_NOTE,
                chat_id=chat_id,
                actor_id=actor.telegram_id,
                payload={"ticket_id": ticket_id},
                now=now,
                expires_at=now + ttl,
            )

    async def take_close_note(self, chat_id: int, telegram_id: int) -> int | None:
        """The ticket whose closing note this person's message in this chat is, once."""
        async with self._uow() as uow:
            pending = await uow.pending.take_latest(
                CLOSE_NOTE, chat_id, telegram_id, self._clock.now()
            )
        return int(pending.payload["ticket_id"]) if pending else None

    async def duty_staff(self, level: str) -> list[int]:
        """The people on duty at a level, earliest assigned first."""
        async with self._uow() as uow:
            return await uow.tickets.duty_staff(level)

    async def heads_of(self, grid_id: int) -> list[Person]:
        """A grid's heads."""
        async with self._uow() as uow:
            members = await uow.grids.members_of([grid_id])
        return [m.person for m in members[grid_id] if m.role is Role.HEAD]
