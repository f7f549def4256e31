"""SQL for the staff console: one-time login links, the filtered ticket list, live changes."""

from __future__ import annotations

from datetime import datetime

from bot.domain.ticket_views import Scope, TicketFilter
from bot.domain.tickets import Ticket, TicketEventRecord, VerificationRecord
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.database import aware as _aware
from bot.storage.tickets import _TICKET_COLUMNS, ticket_from_row

# Open and past a time limit now, or escalated because one passed (bot.domain.loop.is_overdue).
OVERDUE_SQL = (
    "status IN ('open', 'claimed', 'reopened') AND (overdue_at IS NOT NULL "
    "OR (status = 'open' AND claim_due_at < :now) OR resolve_due_at < :now)"
)


def _scope_sql(scope: Scope) -> str:
    """The WHERE condition of the tickets a viewer may see."""
    if scope.grid_ids is None:
        return "TRUE"
    parts = []
    if scope.grid_ids:
        parts.append(f"grid_id IN ({','.join(str(int(g)) for g in scope.grid_ids)})")
    if scope.levels:
        parts.append(f"level IN ({','.join(repr(str(lv)) for lv in scope.levels)})")
    return f"({' OR '.join(parts)})" if parts else "FALSE"


class ConsoleRepository:
    """The console's login links and ticket histories (ConsoleRepo) and its long reads
    (ConsoleView).
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- login links ---

    async def add_login(
        self, secret_hash: str, telegram_id: int, now: datetime, expires_at: datetime
    ) -> None:
        """Keep a console login link's hash until it expires (and drop expired ones)."""
        await self._db.execute("DELETE FROM console_logins WHERE expires_at < ?", (to_epoch(now),))
        await self._db.execute(
            "INSERT INTO console_logins (secret_hash, telegram_id, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (secret_hash, telegram_id, to_epoch(now), to_epoch(expires_at)),
        )

    async def use_login(self, secret_hash: str, now: datetime) -> int | None:
        """The person a link logs in, once: a second use or a late one finds nothing."""
        rows = await self._db.execute_returning(
            "UPDATE console_logins SET used_at = :now WHERE secret_hash = :hash "
            "AND used_at IS NULL AND expires_at > :now RETURNING telegram_id",
            {"now": to_epoch(now), "hash": secret_hash},
        )
        return int(rows[0][0]) if rows else None

    # --- tickets ---

    async def tickets(
        self, scope: Scope, wanted: TicketFilter, now: datetime, *, offset: int, limit: int
    ) -> tuple[list[Ticket], int]:
        """A page of tickets, the most recently changed first, and how many match in all."""
        where = [_scope_sql(scope)]
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
            # Not LIKE: the viewer's text is never a pattern.
            where.append(self._db.dialect.contains("text", ":text"))
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
            f"SELECT grid_id, COUNT(*) AS open, COUNT(*) FILTER (WHERE {OVERDUE_SQL}) AS overdue "
            "FROM tickets "
            f"WHERE status IN ('open', 'claimed', 'reopened') AND {_scope_sql(scope)} "
            "GROUP BY grid_id",
            {"now": to_epoch(now)},
        )
        return {r["grid_id"]: (int(r["open"]), int(r["overdue"] or 0)) for r in rows}

    async def events(self, ticket_id: int) -> list[TicketEventRecord]:
        """A ticket's timeline, newest first."""
        rows = await self._db.fetchall(
            "SELECT at, actor_id, kind, from_status, to_status, note FROM ticket_events "
            "WHERE ticket_id = ? ORDER BY id DESC",
            (ticket_id,),
        )
        return [
            TicketEventRecord(
                _aware(r["at"]),
                r["actor_id"],
                r["kind"],
                r["from_status"],
                r["to_status"],
                r["note"],
            )
            for r in rows
        ]

    async def verifications(self, ticket_id: int) -> list[VerificationRecord]:
        """Who was asked to verify a ticket and what they answered, latest round first."""
        rows = await self._db.fetchall(
            "SELECT round, telegram_id, solved, score, asked_at, answered_at "
            "FROM ticket_verifications WHERE ticket_id = ? ORDER BY round DESC, asked_at",
            (ticket_id,),
        )
        return [
            VerificationRecord(
                r["round"],
                r["telegram_id"],
                None if r["solved"] is None else bool(r["solved"]),
                r["score"],
                _aware(r["asked_at"]),
                from_epoch(r["answered_at"]),
            )
            for r in rows
        ]

    async def change_mark(self) -> tuple[int, int]:
        """Moves whenever a ticket is filed or changes (every change records an event)."""
        row = await self._db.fetchone(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM tickets), "
            "(SELECT COALESCE(MAX(id), 0) FROM ticket_events)"
        )
        assert row is not None
        return int(row[0]), int(row[1])
