"""Durable timers: every reminder, deadline, notice run and digest is a row, so restarts lose
none.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.timers import NewTimer, Timer
from bot.storage.database import Database, from_epoch, to_epoch


class TimerRepository:
    """Durable timers in the `timers` table (TimerRepo)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: str,
        ref_id: int,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule once: the same (kind, ref, moment) twice is one timer."""
        added = await self._db.execute(
            "INSERT INTO timers (kind, ref_id, due_at, payload) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (kind, ref_id, to_epoch(due_at), json.dumps(payload or {}, ensure_ascii=False)),
        )
        return added == 1

    async def add_many(self, timers: list[NewTimer]) -> None:
        """`add` for several (kind, ref, moment, payload) in one statement."""
        await self._db.executemany(
            "INSERT INTO timers (kind, ref_id, due_at, payload) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [
                (kind, ref_id, to_epoch(due_at), json.dumps(payload, ensure_ascii=False))
                for kind, ref_id, due_at, payload in timers
            ],
        )

    async def cancel(self, kind_prefix: str, ref_id: int, now: datetime) -> int:
        """Cancel the pending timers of a reference whose kind starts with `kind_prefix`;
        how many.
        """
        return await self._db.execute(
            "UPDATE timers SET done_at = ?, outcome = 'cancelled' "
            "WHERE ref_id = ? AND kind LIKE ? AND done_at IS NULL",
            (to_epoch(now), ref_id, f"{kind_prefix}%"),
        )

    async def finish(self, timer_id: int, now: datetime, outcome: str) -> bool:
        """Mark done if still pending and nobody else holds it; False means someone else
        handled it or is handling it.

        The timer's handler runs in the same unit of work, so the mark commits with what
        the timer did, or not at all. With several processes (PostgreSQL) the row is
        claimed with SKIP LOCKED: a process that finds another one firing this timer moves
        on instead of waiting for it. Exactly once either way: when that one commits, the
        timer is done; when it fails, the timer stays pending for the next wake-up.
        """
        finished = await self._db.execute(
            "UPDATE timers SET done_at = ?, outcome = ? WHERE id = "
            "(SELECT id FROM timers WHERE id = ? AND done_at IS NULL"
            f"{self._db.dialect.skip_locked})",
            (to_epoch(now), outcome, timer_id),
        )
        return finished == 1

    async def due(self, now: datetime, limit: int = 200) -> list[Timer]:
        """Pending timers due by now, earliest first, at most `limit`."""
        rows = await self._db.fetchall(
            "SELECT id, kind, ref_id, due_at, payload FROM timers "
            "WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_epoch(now), limit),
        )
        return [self._timer(r) for r in rows]

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending timer is due (None: none pending): the loop sleeps
        until then.
        """
        row = await self._db.fetchone("SELECT MIN(due_at) FROM timers WHERE done_at IS NULL")
        return from_epoch(row[0]) if row and row[0] is not None else None

    async def pending(self, kind_prefix: str = "", ref_id: int | None = None) -> list[Timer]:
        """Timers not yet done, by kind prefix and optionally reference, earliest first."""
        sql = (
            "SELECT id, kind, ref_id, due_at, payload FROM timers"
            " WHERE done_at IS NULL AND kind LIKE ?"
        )
        params: list[Any] = [f"{kind_prefix}%"]
        if ref_id is not None:
            sql += " AND ref_id = ?"
            params.append(ref_id)
        return [self._timer(r) for r in await self._db.fetchall(sql + " ORDER BY due_at", params)]

    @staticmethod
    def _timer(row: Any) -> Timer:
        due = from_epoch(row["due_at"])
        assert due is not None
        return Timer(row["id"], row["kind"], row["ref_id"], due, json.loads(row["payload"]))
