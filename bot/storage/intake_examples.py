"""Labelled examples that the street's own corrections leave behind (table intake_examples)."""

from __future__ import annotations

from datetime import datetime

from bot.domain.intake_eval import EvalRecord
from bot.storage.database import Database, to_epoch


class IntakeExampleRepository:
    """One example per ticket: a ``/category`` correction or a [不是报事] withdrawal."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        ticket_id: int,
        text: str,
        *,
        category: str | None,
        actor_id: int,
        now: datetime,
    ) -> None:
        """Keep ``text`` as a request of ``category``, or as no request when it is ``None``."""
        await self._db.execute(
            "INSERT INTO intake_examples "
            "(ticket_id, text, is_request, category, kind, actor_id, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (ticket_id) DO UPDATE SET text = excluded.text, "
            "is_request = excluded.is_request, category = excluded.category, "
            "kind = excluded.kind, actor_id = excluded.actor_id, "
            "created_at = excluded.created_at",
            (
                ticket_id,
                text,
                int(category is not None),
                category,
                "withdrawn" if category is None else "category",
                actor_id,
                to_epoch(now),
            ),
        )

    async def all(self) -> list[EvalRecord]:
        """Every example, oldest first; urgency and location were never corrected: unknown."""
        rows = await self._db.fetchall(
            "SELECT text, is_request, category FROM intake_examples ORDER BY created_at, ticket_id"
        )
        return [
            EvalRecord(
                text=row["text"],
                is_request=bool(row["is_request"]),
                category=row["category"],
                urgency=None,
                building=None,
                unit=None,
                room=None,
                location_known=False,
            )
            for row in rows
        ]
