"""Durable timers: every reminder, deadline, notice run and digest is a row, so restarts lose
none."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.database import Database, Transaction, from_epoch, to_epoch


@dataclass(frozen=True, slots=True)
class Timer:
    id: int
    kind: str
    ref_id: int
    due_at: datetime
    payload: dict[str, Any]


# (kind, ref_id, due_at, payload), as `TimerRepository.add` takes them.
NewTimer = tuple[str, int, datetime, dict[str, Any]]


class TimerRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def add(
        tx: Transaction, kind: str, ref_id: int, due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule once: the same (kind, ref, moment) twice is one timer."""
        cur = await tx.execute(
            "INSERT OR IGNORE INTO timers (kind, ref_id, due_at, payload) VALUES (?, ?, ?, ?)",
            (kind, ref_id, to_epoch(due_at), json.dumps(payload or {}, ensure_ascii=False)),
        )
        return cur.rowcount == 1

    @staticmethod
    async def add_many(
        tx: Transaction, timers: list[NewTimer]
    ) -> None:
        """`add` for several (kind, ref, moment, payload) in one statement."""
        await tx.executemany(
            "INSERT OR IGNORE INTO timers (kind, ref_id, due_at, payload) VALUES (?, ?, ?, ?)",
            [(kind, ref_id, to_epoch(due_at), json.dumps(payload, ensure_ascii=False))
             for kind, ref_id, due_at, payload in timers],
        )

    @staticmethod
    async def cancel(tx: Transaction, kind_prefix: str, ref_id: int, now: datetime) -> int:
        cur = await tx.execute(
            "UPDATE timers SET done_at = ?, outcome = 'cancelled' "
            "WHERE ref_id = ? AND kind LIKE ? AND done_at IS NULL",
            (to_epoch(now), ref_id, f"{kind_prefix}%"),
        )
        return cur.rowcount

    @staticmethod
    async def finish(tx: Transaction, timer_id: int, now: datetime, outcome: str) -> bool:
        """Mark done if still pending; False means someone else already handled it."""
        cur = await tx.execute(
            "UPDATE timers SET done_at = ?, outcome = ? WHERE id = ? AND done_at IS NULL",
            (to_epoch(now), outcome, timer_id),
        )
        return cur.rowcount == 1

    async def due(self, now: datetime, limit: int = 200) -> list[Timer]:
        rows = await self._db.fetchall(
            "SELECT id, kind, ref_id, due_at, payload FROM timers "
            "WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_epoch(now), limit),
        )
        return [self._timer(r) for r in rows]

    async def next_due_at(self) -> datetime | None:
        row = await self._db.fetchone(
            "SELECT MIN(due_at) FROM timers WHERE done_at IS NULL"
        )
        return from_epoch(row[0]) if row and row[0] is not None else None

    async def pending(self, kind_prefix: str = "", ref_id: int | None = None) -> list[Timer]:
        sql = ("SELECT id, kind, ref_id, due_at, payload FROM timers"
               " WHERE done_at IS NULL AND kind LIKE ?")
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
