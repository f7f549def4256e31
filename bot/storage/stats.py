"""Aggregate SQL for the figures (bot.domain.stats) and the rows of exports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncGenerator
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.exports import Row
from bot.domain.stats import Figures, Period, Tally
from bot.storage.database import Database, to_epoch


def _cohort(table: str = "") -> str:
    """The cohort: tickets received in the period, without those withdrawn as not a report."""
    return (
        f"{table}created_at >= :start AND {table}created_at < :end "
        f"AND COALESCE({table}closure, '') != 'not_a_request'"
    )


_COHORT = _cohort()


def _grid_filter(grid_ids: list[int] | None, column: str = "grid_id") -> str:
    if grid_ids is None:
        return ""
    return f" AND {column} IN ({','.join(str(int(g)) for g in grid_ids)})"


class StatsRepository:
    """Figures and exports read on the reader connection, off the loop (StatsView)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(
        self, period: Period, grid_ids: list[int] | None, now: datetime
    ) -> tuple[dict[int, Figures], dict[int, tuple[list[float], list[float]]]]:
        """Per-grid figures, and per-grid claim/resolve durations for medians.

        One streamed pass over the cohort does the counts, breakdowns and durations (several
        GROUP BY queries would each re-read the same rows); verifications are then one
        range scan by ticket id, since ids ascend with filing time.
        """
        params = {
            "start": to_epoch(period.start),
            "end": to_epoch(period.end),
            "now": to_epoch(now),
        }
        grids = _grid_filter(grid_ids)
        tally = Tally()
        grid_of: dict[int, int] = {}
        async for row in self._db.stream(
            "SELECT id, grid_id, category, urgency, closure, status, claim_late, resolve_late, "
            "reopened, satisfaction, claimed_at - created_at AS to_claim, "
            "resolved_at - created_at AS to_resolve "
            f"FROM tickets WHERE {_COHORT}{grids}",
            params,
            batch=5000,
        ):
            grid_of[row[0]] = row[1]
            tally.ticket(
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                row[11],
            )
        if grid_of:
            async for row in self._db.stream(
                "SELECT ticket_id, COUNT(*) AS asked, COUNT(answered_at) AS answered "
                "FROM ticket_verifications WHERE ticket_id BETWEEN ? AND ? GROUP BY ticket_id",
                (min(grid_of), max(grid_of)),
                batch=5000,
            ):
                grid_id = grid_of.get(row[0])
                if grid_id is not None:
                    tally.verifications(grid_id, row[1], row[2])
        result = tally.figures
        for row in await self._db.fetchall_in_thread(
            "SELECT grid_id, COUNT(*) AS n FROM tickets "
            "WHERE status IN ('open', 'claimed', 'reopened') AND (overdue_at IS NOT NULL "
            "OR (status = 'open' AND claim_due_at < :now) OR resolve_due_at < :now)"
            f"{grids} GROUP BY grid_id",
            params,
        ):
            result[row["grid_id"]].overdue_now = int(row["n"])
        for row in await self._db.fetchall_in_thread(
            "SELECT grid_id, COUNT(*) AS n FROM patrol_logs WHERE at >= :start AND at < :end"
            f"{grids} GROUP BY grid_id",
            params,
        ):
            result[row["grid_id"]].patrol_logs = int(row["n"])
        return dict(result), dict(tally.durations)

    async def daily_by_category(
        self, period: Period, grid_ids: list[int] | None, tz: ZoneInfo
    ) -> dict[str, dict[str, int]]:
        """Tickets received per local day and category (for the weekly chart)."""
        offset = int(period.start.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        rows = await self._db.fetchall_in_thread(
            f"SELECT {self._db.dialect.day_of('created_at + :offset')} AS day, category, "
            "COUNT(*) AS n "
            f"FROM tickets WHERE {_COHORT}{_grid_filter(grid_ids)} GROUP BY day, category",
            {"start": to_epoch(period.start), "end": to_epoch(period.end), "offset": offset},
        )
        days: dict[str, dict[str, int]] = defaultdict(dict)
        for row in rows:
            days[row["day"]][row["category"]] = int(row["n"])
        return dict(days)

    def export_rows(
        self, start: datetime, end: datetime, grid_ids: list[int] | None
    ) -> AsyncGenerator[Row, None]:
        """Every ticket filed in [start, end), with its grid, oldest first, streamed."""
        return self._db.stream(
            "SELECT t.id, t.created_at, t.claimed_at, t.resolved_at, t.closed_at, t.updated_at, "
            "t.claim_due_at, t.resolve_due_at, t.escalated_at, t.category, t.urgency, "
            "t.building, t.unit, t.floor, t.room, t.status, t.level, t.closure, t.closure_note, "
            "t.satisfaction, t.reopened, t.followers, t.source, t.private, t.claim_late, "
            "t.resolve_late, g.code AS grid_code, g.name AS grid_name FROM tickets t "
            "JOIN grids g ON g.id = t.grid_id WHERE t.created_at >= ? AND t.created_at < ?"
            f"{_grid_filter(grid_ids, 't.grid_id')} ORDER BY t.created_at, t.id",
            (to_epoch(start), to_epoch(end)),
        )
