"""Tickets and everything hanging off them; all ticket SQL lives here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.domain.intake import Location
from bot.domain.models import Urgency
from bot.domain.tickets import (
    AnswerKind,
    Attachment,
    Closure,
    Level,
    MessageAnswer,
    NewTicket,
    PatrolLog,
    Source,
    Ticket,
    TicketStatus,
)
from bot.storage.database import Database, Row, from_epoch, to_epoch
from bot.storage.database import aware as _aware

_TICKET_COLUMNS = (
    "id, grid_id, reporter_id, chat_id, message_id, text, category, urgency, building, unit, "
    "floor, room, status, source, private, level, handler_id, closure, closure_note, reasons, "
    "ack_message_id, followers, created_at, updated_at, claim_due_at, resolve_due_at, "
    "verification_due_at, reopened, satisfaction, overdue_at"
)


def ticket_from_row(row: Row) -> Ticket:
    """A Ticket from a row of the ticket columns (times as aware UTC)."""
    created = from_epoch(row["created_at"])
    updated = from_epoch(row["updated_at"])
    assert created is not None and updated is not None
    return Ticket(
        id=row["id"],
        grid_id=row["grid_id"],
        reporter_id=row["reporter_id"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        text=row["text"],
        category=row["category"],
        urgency=Urgency(row["urgency"]),
        location=Location(row["building"], row["unit"], row["floor"], row["room"]),
        status=TicketStatus(row["status"]),
        source=Source(row["source"]),
        private=bool(row["private"]),
        level=Level(row["level"]),
        handler_id=row["handler_id"],
        closure=Closure(row["closure"]) if row["closure"] else None,
        reasons=tuple(r for r in row["reasons"].split("\n") if r),
        ack_message_id=row["ack_message_id"],
        followers=row["followers"],
        created_at=created,
        updated_at=updated,
        claim_due_at=from_epoch(row["claim_due_at"]),
        resolve_due_at=from_epoch(row["resolve_due_at"]),
        verification_due_at=from_epoch(row["verification_due_at"]),
        closure_note=row["closure_note"],
        reopened=row["reopened"],
        satisfaction=row["satisfaction"],
        overdue_at=from_epoch(row["overdue_at"]),
    )


class TicketRepository:
    """Tickets and what hangs off them, in SQL (TicketRepo)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id, or None."""
        row = await self._db.fetchone(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        )
        return ticket_from_row(row) if row else None

    async def by_message(self, chat_id: int, message_id: int) -> tuple[Ticket, str] | None:
        """The ticket a message made, joined or acknowledged, and that message's role."""
        row = await self._db.fetchone(
            "SELECT ticket_id, role FROM ticket_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        if row is None:
            return None
        ticket = await self.get(row["ticket_id"])
        return (ticket, row["role"]) if ticket else None

    async def ticket_id_of_message(self, chat_id: int, message_id: int) -> int | None:
        """The ticket a message in a chat belongs to (report, join, acknowledgement or card)."""
        row = await self._db.fetchone(
            "SELECT ticket_id FROM ticket_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return int(row["ticket_id"]) if row else None

    async def answer_of(self, chat_id: int, message_id: int) -> MessageAnswer | None:
        """What a resident's message was owed, and whether it went out (None: never handled)."""
        row = await self._db.fetchone(
            "SELECT kind, ticket_id, answered_at FROM message_answers "
            "WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        if row is None:
            return None
        return MessageAnswer(
            chat_id,
            message_id,
            AnswerKind(row["kind"]),
            row["ticket_id"],
            row["answered_at"] is not None,
        )

    async def cards_of(self, ticket_id: int) -> list[tuple[int, int, str]]:
        """The bot's messages standing for a ticket (acknowledgement, cards): chat, id, role."""
        rows = await self._db.fetchall(
            "SELECT chat_id, message_id, role FROM ticket_messages "
            "WHERE ticket_id = ? AND role IN ('ack', 'card') ORDER BY role, chat_id, message_id",
            (ticket_id,),
        )
        return [(r["chat_id"], r["message_id"], r["role"]) for r in rows]

    async def duty_staff(self, level: str) -> list[int]:
        """The people on duty at an escalation level, earliest assigned first."""
        rows = await self._db.fetchall(
            "SELECT telegram_id FROM duty_staff WHERE level = ? ORDER BY assigned_at", (level,)
        )
        return [r["telegram_id"] for r in rows]

    async def open_in_grid_since(
        self, grid_id: int, category: str, since: datetime
    ) -> list[Ticket]:
        """A grid's open public tickets of a category filed since a moment: the candidates a new
        report may duplicate.
        """
        rows = await self._db.fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE grid_id = ? AND category = ? "
            "AND status IN ('open', 'claimed', 'reopened') AND created_at >= ? AND private = 0 "
            "ORDER BY created_at DESC LIMIT 50",
            (grid_id, category, to_epoch(since)),
        )
        return [ticket_from_row(r) for r in rows]

    async def count_by_reporter_since(self, reporter_id: int, since: datetime) -> int:
        """How many tickets a person has filed since a moment (the per-person flood limit)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM tickets WHERE reporter_id = ? AND created_at >= ?",
            (reporter_id, to_epoch(since)),
        )
        return int(row[0]) if row else 0

    async def of_person(self, telegram_id: int, limit: int = 20) -> list[Ticket]:
        """Tickets a person reported or follows, newest first."""
        rows = await self._db.fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE reporter_id = ? OR id IN "
            "(SELECT ticket_id FROM ticket_followers WHERE telegram_id = ?) "
            "ORDER BY created_at DESC LIMIT ?",
            (telegram_id, telegram_id, limit),
        )
        return [ticket_from_row(r) for r in rows]

    async def is_follower(self, ticket_id: int, telegram_id: int) -> bool:
        """Whether the person follows the ticket (is told when it changes)."""
        row = await self._db.fetchone(
            "SELECT 1 FROM ticket_followers WHERE ticket_id = ? AND telegram_id = ?",
            (ticket_id, telegram_id),
        )
        return row is not None

    async def attachments(self, ticket_id: int) -> list[Attachment]:
        """A ticket's photos and locations, in the order they were added."""
        rows = await self._db.fetchall(
            "SELECT kind, file_id, latitude, longitude, added_by FROM ticket_attachments "
            "WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [
            Attachment(r["kind"], r["file_id"], r["latitude"], r["longitude"], r["added_by"])
            for r in rows
        ]

    async def grids_of_resident(self, telegram_id: int) -> list[int]:
        """The grids whose chats the person has written in, most recently seen first."""
        rows = await self._db.fetchall(
            "SELECT grid_id FROM grid_residents WHERE telegram_id = ? ORDER BY last_seen DESC",
            (telegram_id,),
        )
        return [r["grid_id"] for r in rows]

    async def private_reporting_grid(self, telegram_id: int) -> int | None:
        """The grid a person's private reports go to, as last chosen (None: not chosen yet)."""
        row = await self._db.fetchone(
            "SELECT grid_id FROM private_reporting WHERE telegram_id = ?", (telegram_id,)
        )
        return row["grid_id"] if row else None

    # --- writes, inside the caller's transaction ---

    async def create(self, new: NewTicket) -> Ticket:
        """The ticket as filed (from the INSERT itself), with its link and first event."""
        at = to_epoch(new.created_at)
        rows = await self._db.execute_returning(
            "INSERT INTO tickets (grid_id, reporter_id, chat_id, message_id, text, category, "
            "urgency, building, unit, floor, room, status, source, private, reasons, confidence, "
            "created_at, updated_at, claim_due_at, resolve_due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?) "
            f"RETURNING {_TICKET_COLUMNS}",
            (
                new.grid_id,
                new.reporter_id,
                new.chat_id,
                new.message_id,
                new.text,
                new.category,
                new.urgency.value,
                new.location.building,
                new.location.unit,
                new.location.floor,
                new.location.room,
                new.source.value,
                int(new.private),
                "\n".join(new.reasons),
                new.confidence,
                at,
                at,
                to_epoch(new.claim_due_at),
                to_epoch(new.resolve_due_at),
            ),
        )
        ticket = ticket_from_row(rows[0])
        if new.message_id is not None:
            await self.link_message(new.chat_id, new.message_id, ticket.id, "report")
        await self.record_event(
            ticket.id,
            at=new.created_at,
            actor_id=new.reporter_id,
            kind="created",
            to_status=TicketStatus.OPEN.value,
            note=new.source.value,
        )
        return ticket

    async def link_message(self, chat_id: int, message_id: int, ticket_id: int, role: str) -> bool:
        """Tie a message to a ticket in a role; False when it was already tied (a re-delivered
        update).
        """
        linked = await self._db.execute(
            "INSERT INTO ticket_messages (chat_id, message_id, ticket_id, role) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (chat_id, message_id, ticket_id, role),
        )
        return linked == 1

    async def owe_answer(
        self,
        chat_id: int,
        message_id: int,
        kind: AnswerKind,
        ticket_id: int | None,
        now: datetime,
    ) -> None:
        """Record, with the message's effect, what it is owed (SILENT: owed nothing)."""
        at = to_epoch(now)
        await self._db.execute(
            "INSERT INTO message_answers (chat_id, message_id, kind, ticket_id, created_at, "
            "answered_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE "
            "SET kind = excluded.kind, ticket_id = excluded.ticket_id, "
            "answered_at = excluded.answered_at, answer_message_id = NULL",
            (
                chat_id,
                message_id,
                kind.value,
                ticket_id,
                at,
                at if kind is AnswerKind.SILENT else None,
            ),
        )

    async def mark_answered(
        self,
        chat_id: int,
        message_id: int,
        answer_message_id: int | None,
        now: datetime,
    ) -> None:
        """Record that a message's owed answer went out (and which message it was), so a re-delivery
        does not answer twice.
        """
        await self._db.execute(
            "UPDATE message_answers SET answered_at = ?, answer_message_id = ? "
            "WHERE chat_id = ? AND message_id = ?",
            (to_epoch(now), answer_message_id, chat_id, message_id),
        )

    async def set_ack(self, ticket_id: int, chat_id: int, message_id: int) -> None:
        """Remember the bot's acknowledgement of a ticket and tie that message to it."""
        await self._db.execute(
            "UPDATE tickets SET ack_message_id = ? WHERE id = ?", (message_id, ticket_id)
        )
        await self.link_message(chat_id, message_id, ticket_id, "ack")

    async def add_follower(self, ticket_id: int, telegram_id: int, now: datetime) -> bool:
        """+1; False when this person already follows (or reported) it."""
        reporter = await self._db.fetchone(
            "SELECT reporter_id FROM tickets WHERE id = ?", (ticket_id,)
        )
        if reporter is None or reporter["reporter_id"] == telegram_id:
            return False
        added = await self._db.execute(
            "INSERT INTO ticket_followers (ticket_id, telegram_id, at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (ticket_id, telegram_id, to_epoch(now)),
        )
        if added != 1:
            return False
        await self._db.execute(
            "UPDATE tickets SET followers = followers + 1, updated_at = ? WHERE id = ?",
            (to_epoch(now), ticket_id),
        )
        await self.record_event(ticket_id, at=now, actor_id=telegram_id, kind="followed")
        return True

    async def update_content(
        self,
        ticket_id: int,
        *,
        text: str,
        category: str,
        urgency: Urgency,
        location: Location,
        reasons: tuple[str, ...],
        now: datetime,
        actor_id: int,
    ) -> bool:
        """An edited report rewrites its ticket, but only while nobody has taken it up."""
        changed = await self._db.execute(
            "UPDATE tickets SET text = ?, category = ?, urgency = ?, building = ?, unit = ?, "
            "floor = ?, room = ?, reasons = ?, updated_at = ? WHERE id = ? AND status = 'open'",
            (
                text,
                category,
                urgency.value,
                location.building,
                location.unit,
                location.floor,
                location.room,
                "\n".join(reasons),
                to_epoch(now),
                ticket_id,
            ),
        )
        if changed == 1:
            await self.record_event(
                ticket_id, at=now, actor_id=actor_id, kind="edited", note=text[:500]
            )
        return changed == 1

    # Columns a transition may set; anything else is a programming error.
    _TRANSITION_FIELDS = frozenset(
        {
            "handler_id",
            "level",
            "closure",
            "closure_note",
            "claimed_at",
            "resolved_at",
            "closed_at",
            "claim_due_at",
            "resolve_due_at",
            "escalated_at",
            "verification_due_at",
            "satisfaction",
            "overdue_at",
        }
    )

    async def transition(
        self,
        ticket: Ticket,
        *,
        from_states: frozenset[TicketStatus],
        to_status: TicketStatus | None,
        actor_id: int | None,
        now: datetime,
        kind: str,
        note: str | None = None,
        count_reopen: bool = False,
        **fields: object,
    ) -> Ticket | None:
        """One atomic conditional UPDATE of `ticket` as read in this unit of work: only from
        `from_states` and only if its status is still the one read; the ticket after, or None.

        Two heads pressing [认领] at once: their units of work run one after the other, and
        the second finds the status moved on, so exactly one wins. The ticket after comes
        back from the UPDATE itself (RETURNING): no second read.
        """
        unknown = set(fields) - TicketRepository._TRANSITION_FIELDS
        if unknown:
            raise ValueError(f"not a transition field: {sorted(unknown)}")
        if ticket.status not in from_states:
            return None
        values = {k: to_epoch(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        if to_status is not None:
            values["status"] = to_status.value
        values["updated_at"] = to_epoch(now)
        assignments = ", ".join(f"{k} = ?" for k in values)
        if count_reopen:
            assignments += ", reopened = reopened + 1"
        rows = await self._db.execute_returning(
            f"UPDATE tickets SET {assignments} WHERE id = ? AND status = ? "
            f"RETURNING {_TICKET_COLUMNS}",
            (*values.values(), ticket.id, ticket.status.value),
        )
        if not rows:
            return None
        await self.record_event(
            ticket.id,
            at=now,
            actor_id=actor_id,
            kind=kind,
            from_status=ticket.status.value,
            to_status=(to_status or ticket.status).value,
            note=note,
        )
        return ticket_from_row(rows[0])

    async def close(
        self,
        ticket: Ticket,
        *,
        closure: Closure,
        from_states: frozenset[TicketStatus],
        actor_id: int | None,
        now: datetime,
        note: str | None = None,
    ) -> Ticket | None:
        """`transition` to CLOSED with how it closed (resolved, withdrawn, duplicate, …) and the
        closing note.
        """
        return await self.transition(
            ticket,
            from_states=from_states,
            to_status=TicketStatus.CLOSED,
            actor_id=actor_id,
            now=now,
            kind="closed",
            note=closure.value + (f": {note}" if note else ""),
            closure=closure.value,
            closure_note=note,
            closed_at=now,
        )

    async def mark_overdue(self, ticket_id: int, now: datetime, stage: str) -> None:
        """A time limit (stage "claim" or "resolve") passed: on record for good."""
        late_column = {"claim": "claim_late", "resolve": "resolve_late"}[stage]
        await self._db.execute(
            f"UPDATE tickets SET overdue_at = COALESCE(overdue_at, ?), {late_column} = 1 "
            "WHERE id = ?",
            (to_epoch(now), ticket_id),
        )

    async def set_category(
        self, ticket_id: int, category: str, *, actor_id: int, now: datetime
    ) -> str | None:
        """Correct a ticket's category and record the change; the category it had before (None: no
        such ticket).
        """
        row = await self._db.fetchone("SELECT category FROM tickets WHERE id = ?", (ticket_id,))
        if row is None:
            return None
        await self._db.execute(
            "UPDATE tickets SET category = ?, updated_at = ? WHERE id = ?",
            (category, to_epoch(now), ticket_id),
        )
        await self.record_event(
            ticket_id,
            at=now,
            actor_id=actor_id,
            kind="category",
            note=f"{row['category']}→{category}",
        )
        return str(row["category"])

    async def add_attachment(
        self,
        ticket_id: int,
        *,
        kind: str,
        added_by: int,
        now: datetime,
        file_id: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None:
        """Add a photo or a location to a ticket and record who added it."""
        await self._db.execute(
            "INSERT INTO ticket_attachments (ticket_id, kind, file_id, latitude, longitude, "
            "added_by, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, kind, file_id, latitude, longitude, added_by, to_epoch(now)),
        )
        await self.record_event(ticket_id, at=now, actor_id=added_by, kind=f"attached_{kind}")

    async def record_event(
        self,
        ticket_id: int,
        *,
        at: datetime,
        actor_id: int | None,
        kind: str,
        from_status: str | None = None,
        to_status: str | None = None,
        note: str | None = None,
    ) -> None:
        """Append a line to the ticket's history (what happened, who did it, from which status to
        which).
        """
        await self._db.execute(
            "INSERT INTO ticket_events (ticket_id, at, actor_id, kind, from_status, to_status, "
            "note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, to_epoch(at), actor_id, kind, from_status, to_status, note),
        )

    async def note_residents(self, seen: Iterable[tuple[int, int, datetime]]) -> None:
        """(grid, person, when) for each person seen writing in a grid chat."""
        await self._db.executemany(
            "INSERT INTO grid_residents (grid_id, telegram_id, last_seen) VALUES (?, ?, ?) "
            "ON CONFLICT (grid_id, telegram_id) DO UPDATE SET last_seen = excluded.last_seen",
            [(grid_id, telegram_id, to_epoch(at)) for grid_id, telegram_id, at in seen],
        )

    async def set_private_reporting_grid(
        self, telegram_id: int, grid_id: int, now: datetime
    ) -> None:
        """Remember the grid a person's private reports go to from now on."""
        await self._db.execute(
            "INSERT INTO private_reporting (telegram_id, grid_id, at) VALUES (?, ?, ?) "
            "ON CONFLICT (telegram_id) DO UPDATE SET grid_id = excluded.grid_id, at = excluded.at",
            (telegram_id, grid_id, to_epoch(now)),
        )

    async def open_in_grids(
        self,
        grid_ids: list[int] | None,
        *,
        category: str | None = None,
        status: TicketStatus | None = None,
        limit: int = 50,
    ) -> list[Ticket]:
        """Open tickets (all grids when grid_ids is None), most urgent then oldest first."""
        where = ["status IN ('open', 'claimed', 'reopened')"]
        params: list[object] = []
        if grid_ids is not None:
            if not grid_ids:
                return []
            where.append(f"grid_id IN ({','.join('?' * len(grid_ids))})")
            params.extend(grid_ids)
        if category:
            where.append("category = ?")
            params.append(category)
        if status:
            where = [w for w in where if not w.startswith("status")] + ["status = ?"]
            params.append(status.value)
        rows = await self._db.fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {' AND '.join(where)} "
            "ORDER BY CASE urgency WHEN 'emergency' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, "
            "created_at, id LIMIT ?",
            (*params, limit),
        )
        return [ticket_from_row(r) for r in rows]

    async def at_level(self, level: str, limit: int = 50) -> list[Ticket]:
        """Open tickets escalated to a level (street, district), oldest first: the duty
        chat's list.
        """
        rows = await self._db.fetchall(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE level = ? "
            "AND status IN ('open', 'claimed', 'reopened') ORDER BY created_at LIMIT ?",
            (level, limit),
        )
        return [ticket_from_row(r) for r in rows]

    async def followers(self, ticket_id: int) -> list[int]:
        """The people who follow a ticket, in the order they joined."""
        rows = await self._db.fetchall(
            "SELECT telegram_id FROM ticket_followers WHERE ticket_id = ? ORDER BY at",
            (ticket_id,),
        )
        return [r["telegram_id"] for r in rows]

    async def verification_round(self, ticket_id: int) -> int:
        """The latest round in which residents were asked whether a ticket is solved (0: never)."""
        row = await self._db.fetchone(
            "SELECT COALESCE(MAX(round), 0) FROM ticket_verifications WHERE ticket_id = ?",
            (ticket_id,),
        )
        return int(row[0]) if row else 0

    async def is_asked(self, ticket_id: int, round_: int, telegram_id: int) -> bool:
        """Whether this person was asked to verify the ticket in this round: only they may
        answer.
        """
        row = await self._db.fetchone(
            "SELECT 1 FROM ticket_verifications WHERE ticket_id = ? AND round = ? "
            "AND telegram_id = ?",
            (ticket_id, round_, telegram_id),
        )
        return row is not None

    async def ask_verification(
        self, ticket_id: int, round_: int, people: list[int], now: datetime
    ) -> None:
        """Ask these people, once each, to verify a resolved ticket in this round."""
        await self._db.executemany(
            "INSERT INTO ticket_verifications (ticket_id, round, telegram_id, asked_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(ticket_id, round_, p, to_epoch(now)) for p in people],
        )

    async def answer_verification(
        self,
        ticket_id: int,
        round_: int,
        telegram_id: int,
        *,
        solved: bool | None = None,
        score: int | None = None,
        now: datetime,
    ) -> None:
        """Record a person's verification answer: solved or not, and/or a satisfaction score."""
        if solved is not None:
            await self._db.execute(
                "UPDATE ticket_verifications SET solved = ?, answered_at = ? "
                "WHERE ticket_id = ? AND round = ? AND telegram_id = ?",
                (int(solved), to_epoch(now), ticket_id, round_, telegram_id),
            )
        if score is not None:
            await self._db.execute(
                "UPDATE ticket_verifications SET score = ?, answered_at = ? "
                "WHERE ticket_id = ? AND round = ? AND telegram_id = ?",
                (score, to_epoch(now), ticket_id, round_, telegram_id),
            )
            await self._db.execute(
                "UPDATE tickets SET satisfaction = (SELECT AVG(score) FROM ticket_verifications "
                "WHERE ticket_id = ? AND score IS NOT NULL) WHERE id = ?",
                (ticket_id, ticket_id),
            )

    async def set_duty(
        self, level: str, telegram_id: int, *, by: int, now: datetime, on: bool
    ) -> bool:
        """Put a person on or take them off duty at a level; False when nothing changed."""
        if on:
            changed = await self._db.execute(
                "INSERT INTO duty_staff (level, telegram_id, assigned_by, assigned_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (level, telegram_id, by, to_epoch(now)),
            )
        else:
            changed = await self._db.execute(
                "DELETE FROM duty_staff WHERE level = ? AND telegram_id = ?", (level, telegram_id)
            )
        return changed == 1

    async def add_patrol_log(self, grid_id: int, author_id: int, text: str, now: datetime) -> int:
        """Keep a grid worker's patrol note; its id."""
        rows = await self._db.execute_returning(
            "INSERT INTO patrol_logs (grid_id, author_id, text, at) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            (grid_id, author_id, text, to_epoch(now)),
        )
        return int(rows[0][0])

    async def patrol_logs(self, grid_ids: list[int], limit: int = 10) -> list[PatrolLog]:
        """The latest patrol notes of these grids with their authors' names, newest first."""
        if not grid_ids:
            return []
        marks = ",".join("?" * len(grid_ids))
        rows = await self._db.fetchall(
            f"SELECT l.id, l.grid_id, l.author_id, l.text, l.at, p.display_name FROM patrol_logs l "
            f"LEFT JOIN people p ON p.telegram_id = l.author_id WHERE l.grid_id IN ({marks}) "
            "ORDER BY l.at DESC, l.id DESC LIMIT ?",
            (*grid_ids, limit),
        )
        return [
            PatrolLog(
                r["id"], r["grid_id"], r["author_id"], r["text"], _aware(r["at"]), r["display_name"]
            )
            for r in rows
        ]

    async def closed_between(self, grid_id: int, start: datetime, end: datetime) -> int:
        """How many of a grid's tickets were closed in [start, end) (the daily digest)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM tickets WHERE grid_id = ? AND closed_at >= ? AND closed_at < ?",
            (grid_id, to_epoch(start), to_epoch(end)),
        )
        return int(row[0]) if row else 0
