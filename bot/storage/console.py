"""SQL for the staff console: one-time login links, the filtered ticket list, live changes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.domain.tickets import Ticket
from bot.storage.database import Database, Transaction, to_epoch
from bot.storage.tickets import _TICKET_COLUMNS, ticket_from_row

# Open and past a time limit now, or escalated because one passed (bot.domain.loop.is_overdue).
OVERDUE_SQL = (
    "status IN ('open', 'claimed', 'reopened') AND (overdue_at IS NOT NULL "
    "OR (status = 'open' AND claim_due_at < :now) OR resolve_due_at < :now)"
)


@dataclass(frozen=True, slots=True)
class Scope:
    """The tickets a viewer may see: every grid (None), or these grids plus these levels."""

    grid_ids: tuple[int, ...] | None
    levels: tuple[str, ...] = ()

    def sql(self) -> str:
        if self.grid_ids is None:
            return "1"
        parts = []
        if self.grid_ids:
            parts.append(f"grid_id IN ({','.join(str(int(g)) for g in self.grid_ids)})")
        if self.levels:
            parts.append(f"level IN ({','.join(repr(str(lv)) for lv in self.levels)})")
        return f"({' OR '.join(parts)})" if parts else "0"


@dataclass(frozen=True, slots=True)
class TicketFilter:
    grid_id: int | None = None
    status: str | None = None  # a TicketStatus value, or "open" for every open state
    category: str | None = None
    urgency: str | None = None
    overdue: bool = False
    text: str = ""


class ConsoleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- login links ---

    @staticmethod
    async def add_login(tx: Transaction, secret_hash: str, telegram_id: int, now: datetime,
                        expires_at: datetime) -> None:
        await tx.execute(
            "DELETE FROM console_logins WHERE expires_at < ?", (to_epoch(now),)
        )
        await tx.execute(
            "INSERT INTO console_logins (secret_hash, telegram_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (secret_hash, telegram_id, to_epoch(now), to_epoch(expires_at)),
        )

    @staticmethod
    async def use_login(tx: Transaction, secret_hash: str, now: datetime) -> int | None:
        """The person a link logs in, once: a second use or a late one finds nothing."""
        row = await tx.fetchone(
            "UPDATE console_logins SET used_at = :now WHERE secret_hash = :hash "
            "AND used_at IS NULL AND expires_at > :now RETURNING telegram_id",
            {"now": to_epoch(now), "hash": secret_hash},
        )
        return int(row[0]) if row else None

    # --- tickets ---

    async def tickets(self, scope: Scope, wanted: TicketFilter, now: datetime, *,
                      offset: int, limit: int) -> tuple[list[Ticket], int]:
        """A page of tickets, the most recently changed first, and how many match in all."""
        where = [scope.sql()]
        params: dict[str, object] = {"now": to_epoch(now), "limit": limit, "offset": offset}
        if wanted.grid_id is not None:
            where.append("grid_id = :grid")
            params["grid"] = wanted.grid_id
        if wanted.status == "open":
            where.append("status IN ('open', 'claimed', 'reopened')")
        elif wanted.status:
            where.append("status = :status")
            params["status"] = wanted.status
        if wanted.category:
            where.append("category = :category")
            params["category"] = wanted.category
        if wanted.urgency:
            where.append("urgency = :urgency")
            params["urgency"] = wanted.urgency
        if wanted.overdue:
            where.append(f"({OVERDUE_SQL})")
        if wanted.text:
            # instr, not LIKE: the viewer's text is never a pattern.
            where.append("instr(text, :text) > 0")
            params["text"] = wanted.text
        condition = " AND ".join(where)
        # Off the loop: a text search or a filter without an index reads every ticket, and
        # the bot's chats must not wait for a desk screen.
        total = await self._db.fetchall_in_thread(
            f"SELECT COUNT(*) FROM tickets WHERE {condition}", params
        )
        rows = await self._db.fetchall_in_thread(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {condition} "
            "ORDER BY updated_at DESC, id DESC LIMIT :limit OFFSET :offset",
            params,
        )
        return [ticket_from_row(r) for r in rows], int(total[0][0]) if total else 0

    async def open_by_grid(self, scope: Scope, now: datetime) -> dict[int, tuple[int, int]]:
        """Per grid: (open tickets, of which overdue now)."""
        rows = await self._db.fetchall_in_thread(
            f"SELECT grid_id, COUNT(*) AS open, SUM({OVERDUE_SQL}) AS overdue FROM tickets "
            f"WHERE status IN ('open', 'claimed', 'reopened') AND {scope.sql()} GROUP BY grid_id",
            {"now": to_epoch(now)},
        )
        return {r["grid_id"]: (int(r["open"]), int(r["overdue"] or 0)) for r in rows}

    async def events(self, ticket_id: int) -> list[sqlite3.Row]:
        """A ticket's timeline, newest first."""
        return await self._db.fetchall(
            "SELECT at, actor_id, kind, from_status, to_status, note FROM ticket_events "
            "WHERE ticket_id = ? ORDER BY id DESC",
            (ticket_id,),
        )

    async def verifications(self, ticket_id: int) -> list[sqlite3.Row]:
        return await self._db.fetchall(
            "SELECT round, telegram_id, solved, score, asked_at, answered_at "
            "FROM ticket_verifications WHERE ticket_id = ? ORDER BY round DESC, asked_at",
            (ticket_id,),
        )

    async def change_mark(self) -> tuple[int, int]:
        """Moves whenever a ticket is filed or changes (every change records an event)."""
        row = await self._db.fetchone(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM tickets), "
            "(SELECT COALESCE(MAX(id), 0) FROM ticket_events)"
        )
        assert row is not None
        return int(row[0]), int(row[1])
