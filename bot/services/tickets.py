"""Resident intake: messages become tickets (or +1s on an existing one), exactly once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.clock import Clock
from bot.domain.errors import UserError
from bot.domain.intake import Intake, IntakeParser
from bot.domain.loop import SlaPolicy
from bot.domain.models import Grid, Person, PersonRoles
from bot.domain.tickets import (
    DUPLICATE_WINDOW,
    AnswerKind,
    Closure,
    MessageAnswer,
    NewTicket,
    Source,
    Ticket,
    TicketStatus,
    is_probable_duplicate,
)
from bot.domain.timers import NewTimer
from bot.services.ports import UnitOfWork, UnitOfWorkFactory
from bot.services.timers import TimerService

log = logging.getLogger(__name__)


RATE_WINDOW = timedelta(hours=1)
# Telegram caps a message at 4,096 characters; a longer /report text is kept whole anyway.
MAX_TICKET_TEXT = 20_000
RESIDENTS_PER_WRITE = 200  # (grid, person) pairs noted before they are written anyway


class IntakeResult(StrEnum):
    """What became of a message in a grid chat."""

    IGNORED = "ignored"  # not a request
    CREATED = "created"
    FOLLOWED = "followed"  # linked to an open similar ticket as a +1
    ALREADY = "already"  # this message was handled before (re-delivered update)
    RATE_LIMITED = "rate_limited"


# A re-delivered message whose answer never went out is answered as it was first handled.
_RESULT_OF_ANSWER = {
    AnswerKind.ACK: IntakeResult.CREATED,
    AnswerKind.FOLLOWED: IntakeResult.FOLLOWED,
    AnswerKind.RATE_LIMITED: IntakeResult.RATE_LIMITED,
}


@dataclass(frozen=True, slots=True)
class IncomingReport:
    """A resident's message as the service needs it, free of Telegram types."""

    grid: Grid
    chat_id: int
    message_id: int | None
    sender: Person
    text: str
    source: Source
    private: bool = False
    photo_file_id: str | None = None
    forced: bool = False  # /report: file it even if the parser says no


@dataclass(frozen=True, slots=True)
class IntakeOutcome:
    """The result of intake, with the ticket and parse it concerns."""

    result: IntakeResult
    ticket: Ticket | None = None
    intake: Intake | None = None
    acknowledged: bool = False  # for ALREADY: whether the ack went out before
    tell_sender: bool = True  # for RATE_LIMITED: only the first refusal in a window is said


@dataclass(frozen=True, slots=True)
class IntakeSettings:
    """The per-person flood limit and the time limits a new ticket gets."""

    max_tickets_per_hour: int = 10
    sla: SlaPolicy = field(default_factory=SlaPolicy)


async def schedule_deadlines(
    uow: UnitOfWork,
    ticket_id: int,
    sla: SlaPolicy,
    start: datetime,
    claim_due: datetime | None,
    resolve_due: datetime | None,
) -> list[datetime]:
    """The reminder and deadline timers of a ticket's current time limits.

    Each timer carries the deadline it was made for: when the ticket's deadline moves
    (escalation, reopening), the old timers find a mismatch and do nothing.
    """
    timers: list[NewTimer] = []
    for stage, due in (("claim", claim_due), ("resolve", resolve_due)):
        if due is None:
            continue
        payload = {"due": int(due.timestamp())}
        timers.append(
            (f"ticket.{stage}_remind", ticket_id, sla.reminder_before(start, due), payload)
        )
        timers.append((f"ticket.{stage}_due", ticket_id, due, payload))
    await uow.timers.add_many(timers)
    return [due_at for _kind, _ref, due_at, _payload in timers]


class TicketService:
    """Residents' reports become tickets: parse, deduplicate, file, link messages, limit floods."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        parser: IntakeParser,
        settings: IntakeSettings,
        timers: TimerService,
    ) -> None:
        self._uow = uow
        self._timers = timers
        self._clock = clock
        self.parser = parser
        self._settings = settings
        self._residents_noted: set[tuple[int, int]] = set()
        self._residents_unwritten: list[tuple[int, int, datetime]] = []
        # Whom we told they reached the cap, and when: one notice per person per window,
        # not one per message (a flood of 200 drew 190 replies). Kept in memory: after a
        # restart a flooder hears it once more, which is harmless.
        self._told_rate_limited: dict[int, datetime] = {}

    def _first_refusal(self, telegram_id: int, now: datetime) -> bool:
        told = self._told_rate_limited
        last = told.get(telegram_id)
        if last is not None and now - last < RATE_WINDOW:
            return False
        for person in [p for p, at in told.items() if now - at >= RATE_WINDOW]:
            del told[person]  # bounded by the people refused within the last window
        told[telegram_id] = now
        return True

    async def note_resident(self, grid_id: int, telegram_id: int) -> None:
        """Remember who writes in which grid (once per process per pair: it rarely changes).

        Not a write per message: new pairs wait for the next unit of work that writes
        anyway (a ticket filed), for a reader of them (a private report's grid), or for a
        batch to fill. A crash may forget the last few; the resident is then asked which
        grid a private report is for.
        """
        key = (grid_id, telegram_id)
        if key in self._residents_noted:
            return
        self._residents_noted.add(key)
        self._residents_unwritten.append((grid_id, telegram_id, self._clock.now()))
        if len(self._residents_unwritten) >= RESIDENTS_PER_WRITE:
            async with self._uow() as uow:
                await self._write_residents(uow)

    async def _write_residents(self, uow: UnitOfWork) -> None:
        if self._residents_unwritten:
            seen, self._residents_unwritten = self._residents_unwritten, []
            await uow.tickets.note_residents(seen)

    async def intake(self, report: IncomingReport) -> IntakeOutcome:
        """File, follow or refuse a resident's message in one unit of work, with the answer
        it is owed: a re-delivered message gets the answer it did not get, once.
        """
        text = report.text.strip()[:MAX_TICKET_TEXT]
        parsed = self.parser.parse(text, addressed=report.private)
        if not parsed.is_request and not report.forced:
            # Chit-chat: no answer was ever owed, nothing to look up (and no query).
            return IntakeOutcome(IntakeResult.IGNORED, intake=parsed)
        async with self._uow() as uow:
            if report.message_id is not None:
                owed = await uow.tickets.answer_of(report.chat_id, report.message_id)
                # A /report on a message refused by the cap files it after all.
                if owed is not None and not (report.forced and owed.ticket_id is None):
                    return await self._redelivered(uow, owed)
            now = self._clock.now()
            if not report.private:
                duplicate = await self._find_duplicate(uow, report.grid.id, parsed, text, now)
                if duplicate is not None and duplicate.reporter_id != report.sender.telegram_id:
                    return await self._follow(uow, duplicate, report, parsed, now)
            recent = await uow.tickets.count_by_reporter_since(
                report.sender.telegram_id, now - RATE_WINDOW
            )
            if recent >= self._settings.max_tickets_per_hour:
                tell = self._first_refusal(report.sender.telegram_id, now)
                if report.message_id is not None:
                    await uow.tickets.owe_answer(
                        report.chat_id,
                        report.message_id,
                        AnswerKind.RATE_LIMITED if tell else AnswerKind.SILENT,
                        None,
                        now,
                    )
                return IntakeOutcome(IntakeResult.RATE_LIMITED, intake=parsed, tell_sender=tell)
            ticket, first_due = await self._file(uow, report, parsed, text, now)
            await self._write_residents(uow)
        await self._timers.scheduled(first_due)
        log.info(
            "ticket #%s %s/%s in grid %s",
            ticket.id,
            ticket.category,
            ticket.urgency.value,
            report.grid.code,
        )
        return IntakeOutcome(IntakeResult.CREATED, ticket, parsed)

    async def _follow(
        self,
        uow: UnitOfWork,
        duplicate: Ticket,
        report: IncomingReport,
        parsed: Intake,
        now: datetime,
    ) -> IntakeOutcome:
        """The message reports an open ticket again: a "+1" from its sender."""
        await uow.tickets.add_follower(duplicate.id, report.sender.telegram_id, now)
        if report.message_id is not None:
            await uow.tickets.link_message(
                report.chat_id, report.message_id, duplicate.id, "follow"
            )
            await uow.tickets.owe_answer(
                report.chat_id, report.message_id, AnswerKind.FOLLOWED, duplicate.id, now
            )
        await self._attach_photo(uow, duplicate.id, report, now)
        return IntakeOutcome(IntakeResult.FOLLOWED, await uow.tickets.get(duplicate.id), parsed)

    async def _file(
        self, uow: UnitOfWork, report: IncomingReport, parsed: Intake, text: str, now: datetime
    ) -> tuple[Ticket, datetime]:
        """A new ticket with its events, timers and the acknowledgement it is owed."""
        category = parsed.category if parsed.is_request else (parsed.category or "other")
        claim_due, resolve_due = self._settings.sla.deadlines(parsed.urgency, category, now)
        ticket = await uow.tickets.create(
            NewTicket(
                grid_id=report.grid.id,
                reporter_id=report.sender.telegram_id,
                chat_id=report.chat_id,
                message_id=report.message_id,
                text=text,
                category=category,
                urgency=parsed.urgency,
                location=parsed.location,
                source=report.source,
                private=report.private,
                reasons=parsed.reasons,
                confidence=parsed.confidence,
                created_at=now,
                claim_due_at=claim_due,
                resolve_due_at=resolve_due,
            )
        )
        if report.message_id is not None:
            await uow.tickets.owe_answer(
                report.chat_id, report.message_id, AnswerKind.ACK, ticket.id, now
            )
        await self._attach_photo(uow, ticket.id, report, now)
        moments = await schedule_deadlines(
            uow, ticket.id, self._settings.sla, now, claim_due, resolve_due
        )
        return ticket, min(moments)

    async def _redelivered(self, uow: UnitOfWork, owed: MessageAnswer) -> IntakeOutcome:
        """A message handled before: its answer again if it never went out, else nothing."""
        ticket = await uow.tickets.get(owed.ticket_id) if owed.ticket_id is not None else None
        if owed.answered:
            return IntakeOutcome(IntakeResult.ALREADY, ticket, acknowledged=True)
        log.info(
            "message %s in chat %s handled before; its answer (%s) is sent now",
            owed.message_id,
            owed.chat_id,
            owed.kind.value,
        )
        return IntakeOutcome(_RESULT_OF_ANSWER[owed.kind], ticket)

    @staticmethod
    async def _attach_photo(
        uow: UnitOfWork, ticket_id: int, report: IncomingReport, now: datetime
    ) -> None:
        if report.photo_file_id:
            await uow.tickets.add_attachment(
                ticket_id,
                kind="photo",
                file_id=report.photo_file_id,
                added_by=report.sender.telegram_id,
                now=now,
            )

    @staticmethod
    async def _find_duplicate(
        uow: UnitOfWork, grid_id: int, parsed: Intake, text: str, now: datetime
    ) -> Ticket | None:
        candidates = await uow.tickets.open_in_grid_since(
            grid_id, parsed.category, now - DUPLICATE_WINDOW
        )
        for candidate in candidates:
            if is_probable_duplicate(
                candidate,
                category=parsed.category,
                building=parsed.location.building,
                text=text,
                reasons=parsed.reasons,
                now=now,
            ):
                return candidate
        return None

    async def acknowledged(
        self, ticket_id: int, chat_id: int, message_id: int, report: tuple[int, int] | None = None
    ) -> None:
        """The ticket's acknowledgement (`message_id` in `chat_id`) went out; it answers the
        resident's message `report` (chat, message) in the same transaction.
        """
        async with self._uow() as uow:
            await uow.tickets.set_ack(ticket_id, chat_id, message_id)
            if report is not None:
                await uow.tickets.mark_answered(
                    *report,
                    None if (chat_id, message_id) == report else message_id,
                    self._clock.now(),
                )

    async def answered(
        self,
        chat_id: int,
        message_id: int,
        sent_in: int | None,
        sent_id: int | None,
        *,
        ticket_id: int | None = None,
    ) -> None:
        """A resident's message got its answer (message `sent_id` in chat `sent_in`; None when
        the chat refused it). An answer about a ticket answers for it too (a reply to it
        needs no number).
        """
        async with self._uow() as uow:
            await uow.tickets.mark_answered(chat_id, message_id, sent_id, self._clock.now())
            if sent_in is not None and sent_id is not None and ticket_id is not None:
                await uow.tickets.link_message(sent_in, sent_id, ticket_id, "alert")

    async def link_card(
        self, ticket_id: int, chat_id: int, message_id: int, *, buttons: bool = True
    ) -> None:
        """A message the bot sent about a ticket answers for it (a reply needs no number).
        A card's buttons follow the ticket's state; news ("已由…认领") and questions keep theirs
        (the schema calls those links 'alert').
        """
        async with self._uow() as uow:
            await uow.tickets.link_message(
                chat_id, message_id, ticket_id, "card" if buttons else "alert"
            )

    async def edited(
        self, chat_id: int, message_id: int, text: str, editor_id: int
    ) -> Ticket | None:
        """An edited report updates its ticket while it is still open and unclaimed."""
        async with self._uow() as uow:
            seen = await uow.tickets.by_message(chat_id, message_id)
            if seen is None or seen[1] != "report" or seen[0].reporter_id != editor_id:
                return None
            ticket = seen[0]
            parsed = self.parser.parse(text)
            category = parsed.category if parsed.is_request else ticket.category
            changed = await uow.tickets.update_content(
                ticket.id,
                text=text.strip()[:MAX_TICKET_TEXT],
                category=category,
                urgency=parsed.urgency if parsed.is_request else ticket.urgency,
                location=ticket.location if parsed.location.is_empty() else parsed.location,
                reasons=parsed.reasons,
                now=self._clock.now(),
                actor_id=editor_id,
            )
            return await uow.tickets.get(ticket.id) if changed else None

    async def follow(self, ticket_id: int, person: Person) -> Ticket:
        """[我也遇到 +1]."""
        async with self._uow() as uow:
            ticket = await _must_get(uow, ticket_id)
            if not ticket.is_open:
                raise UserError("ticket_not_open", id=ticket.id)
            if ticket.reporter_id == person.telegram_id:
                raise UserError("follow_own_ticket", id=ticket.id)
            if not await uow.tickets.add_follower(ticket.id, person.telegram_id, self._clock.now()):
                raise UserError("already_following", id=ticket.id)
            return await _must_get(uow, ticket_id)

    async def cancel_not_a_request(
        self, ticket_id: int, roles: PersonRoles, actor_id: int
    ) -> Ticket:
        """[不是报事]: the reporter, the grid's heads/workers or staff withdraw a misread ticket."""
        async with self._uow() as uow:
            ticket = await _must_get(uow, ticket_id)
            if not (
                ticket.reporter_id == actor_id or roles.is_staff or roles.serves(ticket.grid_id)
            ):
                raise UserError("not_your_ticket", id=ticket.id)
            if ticket.closure is Closure.NOT_A_REQUEST:
                # Withdrawn already (a re-delivered press whose answer never went out, or a
                # second press): the same answer again, not a refusal.
                return ticket
            now = self._clock.now()
            withdrawn = await uow.tickets.close(
                ticket,
                closure=Closure.NOT_A_REQUEST,
                from_states=frozenset({TicketStatus.OPEN}),
                actor_id=actor_id,
                now=now,
            )
            if withdrawn is None:
                raise UserError("ticket_not_cancellable", id=ticket.id)
            # The recogniser misread it: keep it as an example of what is not a request.
            await uow.intake_examples.record(
                ticket.id, ticket.text, category=None, actor_id=actor_id, now=now
            )
            return withdrawn

    async def set_category(
        self, ticket_id: int, code: str, roles: PersonRoles, actor_id: int
    ) -> Ticket:
        """Correct a ticket's category (heads and workers of its grid, staff); kept as a labelled
        example for `gridbot train-intake`.
        """
        async with self._uow() as uow:
            ticket = await _must_get(uow, ticket_id)
            if not (roles.is_staff or roles.serves(ticket.grid_id)):
                raise UserError("not_your_grid_ticket", id=ticket.id)
            if code not in self.parser.vocabulary.categories:
                raise UserError(
                    "unknown_category",
                    code=code[:40],
                    codes=", ".join(self.parser.vocabulary.categories),
                )
            now = self._clock.now()
            await uow.tickets.set_category(ticket.id, code, actor_id=actor_id, now=now)
            # Who must act, in the street's own words: an example for `gridbot train-intake`.
            await uow.intake_examples.record(
                ticket.id, ticket.text, category=code, actor_id=actor_id, now=now
            )
            return await _must_get(uow, ticket_id)

    async def attach(
        self,
        chat_id: int,
        replied_message_id: int,
        person: Person,
        *,
        kind: str,
        file_id: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Ticket | None:
        """A photo or location sent as a reply to the bot's acknowledgement joins that ticket."""
        async with self._uow() as uow:
            seen = await uow.tickets.by_message(chat_id, replied_message_id)
            if seen is None:
                return None
            ticket = seen[0]
            await uow.tickets.add_attachment(
                ticket.id,
                kind=kind,
                file_id=file_id,
                latitude=latitude,
                longitude=longitude,
                added_by=person.telegram_id,
                now=self._clock.now(),
            )
            return ticket

    async def by_message(self, chat_id: int, message_id: int) -> tuple[Ticket, str] | None:
        """The ticket a message made, joined or stands for, and that message's role."""
        async with self._uow() as uow:
            return await uow.tickets.by_message(chat_id, message_id)

    async def ticket_id_of_message(self, chat_id: int, message_id: int) -> int | None:
        """Which ticket a message made, joined or stands for (no read of the ticket itself)."""
        async with self._uow() as uow:
            return await uow.tickets.ticket_id_of_message(chat_id, message_id)

    async def cards_of(self, ticket_id: int) -> list[tuple[int, int, str]]:
        """The bot's messages standing for a ticket (acknowledgement, cards): chat, id, role."""
        async with self._uow() as uow:
            return await uow.tickets.cards_of(ticket_id)

    async def of_person(self, telegram_id: int, limit: int = 20) -> list[Ticket]:
        """Tickets a person reported or follows, newest first (/my)."""
        async with self._uow() as uow:
            return await uow.tickets.of_person(telegram_id, limit)

    async def status_for(self, ticket_id: int, roles: PersonRoles, telegram_id: int) -> Ticket:
        """A resident sees their own (or followed) tickets; grid staff see their grid's."""
        async with self._uow() as uow:
            ticket = await uow.tickets.get(ticket_id)
            if ticket is None:
                raise UserError("unknown_ticket", id=ticket_id)
            if (
                ticket.reporter_id == telegram_id
                or roles.is_staff
                or roles.serves(ticket.grid_id)
                or await uow.tickets.is_follower(ticket_id, telegram_id)
            ):
                return ticket
        raise UserError("unknown_ticket", id=ticket_id)

    async def private_grid_choice(self, telegram_id: int) -> tuple[int | None, list[int]]:
        """(the grid for a private report, or None; the grids to choose from if several)."""
        async with self._uow() as uow:
            await self._write_residents(uow)
            chosen = await uow.tickets.private_reporting_grid(telegram_id)
            if chosen is not None:
                return chosen, []
            grids = await uow.tickets.grids_of_resident(telegram_id)
        if len(grids) == 1:
            return grids[0], []
        return None, grids

    async def may_choose_private_grid(self, telegram_id: int, grid_id: int) -> bool:
        """Only a grid the person was offered, or has written in, may take their reports."""
        _chosen, offered = await self.private_grid_choice(telegram_id)
        async with self._uow() as uow:
            known = await uow.tickets.grids_of_resident(telegram_id)
        return grid_id in set(offered) | set(known)

    async def choose_private_grid(self, telegram_id: int, grid_id: int) -> None:
        """Remember the grid a person's private reports go to."""
        async with self._uow() as uow:
            await uow.tickets.set_private_reporting_grid(telegram_id, grid_id, self._clock.now())


async def _must_get(uow: UnitOfWork, ticket_id: int) -> Ticket:
    ticket = await uow.tickets.get(ticket_id)
    if ticket is None:
        raise UserError("unknown_ticket", id=ticket_id)
    return ticket
