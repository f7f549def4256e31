"""Fetched updates, stored before Telegram is told they arrived (see bot.inbox)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.storage.database import Database, to_epoch


class InboxRepository:
    """The inbox table: updates stored before Telegram is told they arrived (InboxStore)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def store(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Store (update id, JSON) pairs; the ids that were stored before (re-delivered)."""
        if not updates:
            return set()
        ids = [update_id for update_id, _payload in updates]
        async with self._db.transaction() as tx:
            marks = ",".join("?" * len(ids))
            known = {
                row["update_id"]
                for row in await tx.fetchall(
                    f"SELECT update_id FROM inbox WHERE update_id IN ({marks})", ids
                )
            }
            await tx.executemany(
                "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(update_id, payload, to_epoch(now)) for update_id, payload in updates],
            )
        return known

    async def unhandled(self) -> list[str]:
        """The JSON of every stored update not yet handled, oldest first."""
        rows = await self._db.fetchall(
            "SELECT payload FROM inbox WHERE handled = 0 ORDER BY update_id"
        )
        return [row["payload"] for row in rows]

    async def mark_handled(self, update_ids: Iterable[int], *, forget_before: datetime) -> None:
        """Mark updates handled, and forget handled ones received before `forget_before`."""
        ids = list(update_ids)
        async with self._db.transaction() as tx:
            if ids:
                marks = ",".join("?" * len(ids))
                await tx.execute(f"UPDATE inbox SET handled = 1 WHERE update_id IN ({marks})", ids)
            await tx.execute(
                "DELETE FROM inbox WHERE handled = 1 AND received_at < ?",
                (to_epoch(forget_before),),
            )
