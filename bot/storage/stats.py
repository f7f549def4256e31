"""Aggregate SQL for the figures (bot.domain.stats) and the rows of exports."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.stats import Figures, Period
from bot.storage.database import Database, to_epoch

def _cohort(table: str = "") -> str:
    """The cohort: tickets received in the period, without those withdrawn as not a report."""
    return (f"{table}created_at >= :start AND {table}created_at < :end "
            f"AND COALESCE({table}closure, '') != 'not_a_request'")


_COHORT = _cohort()


def _grid_filter(grid_ids: list[int] | None, column: str = "grid_id") -> str:
    return "" if grid_ids is None else f" AND {column} IN ({','.join(str(int(g)) for g in grid_ids)})"


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def figures(
        self, period: Period, grid_ids: list[int] | None, now: datetime
    ) -> tuple[dict[int, Figures], dict[int, tuple[list[float], list[float]]]]:
        """Per-grid figures, and per-grid claim/resolve durations for medians."""
        params = {"start": to_epoch(period.start), "end": to_epoch(period.end),
                  "now": to_epoch(now)}
        grids = _grid_filter(grid_ids)
        result: dict[int, Figures] = defaultdict(Figures)
        for row in await self._db.fetchall(
            "SELECT grid_id, COUNT(*) AS received, "
            "SUM(status = 'closed') AS closed, "
            "SUM(claimed_at IS NOT NULL OR claim_late) AS claim_counted, "
            "SUM(claimed_at IS NOT NULL AND NOT claim_late) AS claim_on_time, "
            "SUM(resolved_at IS NOT NULL OR resolve_late) AS resolve_counted, "
            "SUM(resolved_at IS NOT NULL AND NOT resolve_late) AS resolve_on_time, "
            "SUM(reopened > 0) AS reopened, "
            "SUM(COALESCE(satisfaction, 0)) AS satisfaction_sum, "
            "COUNT(satisfaction) AS satisfaction_count "
            f"FROM tickets WHERE {_COHORT}{grids} GROUP BY grid_id",
            params,
        ):
            figures = result[row["grid_id"]]
            for key in ("received", "closed", "claim_counted", "claim_on_time",
                        "resolve_counted", "resolve_on_time", "reopened", "satisfaction_count"):
                setattr(figures, key, int(row[key] or 0))
            figures.satisfaction_sum = float(row["satisfaction_sum"] or 0)
        for column, attribute in (("category", "by_category"), ("urgency", "by_urgency"),
                                  ("closure", "by_closure")):
            for row in await self._db.fetchall(
                f"SELECT grid_id, {column} AS key, COUNT(*) AS n FROM tickets "
                f"WHERE {_COHORT}{grids} AND {column} IS NOT NULL GROUP BY grid_id, {column}",
                params,
            ):
                getattr(result[row["grid_id"]], attribute)[row["key"]] = int(row["n"])
        for row in await self._db.fetchall(
            "SELECT t.grid_id, COUNT(*) AS asked, COUNT(v.answered_at) AS answered "
            "FROM ticket_verifications v JOIN tickets t ON t.id = v.ticket_id "
            f"WHERE {_cohort('t.')}"
            f"{_grid_filter(grid_ids, 't.grid_id')} GROUP BY t.grid_id",
            params,
        ):
            result[row["grid_id"]].verifications_asked = int(row["asked"])
            result[row["grid_id"]].verifications_answered = int(row["answered"])
        for row in await self._db.fetchall(
            "SELECT grid_id, COUNT(*) AS n FROM tickets "
            "WHERE status IN ('open', 'claimed', 'reopened') AND (overdue_at IS NOT NULL "
            "OR (status = 'open' AND claim_due_at < :now) OR resolve_due_at < :now)"
            f"{grids} GROUP BY grid_id",
            params,
        ):
            result[row["grid_id"]].overdue_now = int(row["n"])
        for row in await self._db.fetchall(
            "SELECT grid_id, COUNT(*) AS n FROM patrol_logs WHERE at >= :start AND at < :end"
            f"{grids} GROUP BY grid_id",
            params,
        ):
            result[row["grid_id"]].patrol_logs = int(row["n"])
        durations: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        async for row in self._db.stream(
            "SELECT grid_id, claimed_at - created_at AS to_claim, "
            "resolved_at - created_at AS to_resolve FROM tickets "
            f"WHERE {_COHORT}{grids} AND claimed_at IS NOT NULL",
            params, batch=5000,
        ):
            claim, resolve = durations[row["grid_id"]]
            claim.append(float(row["to_claim"]))
            if row["to_resolve"] is not None:
                resolve.append(float(row["to_resolve"]))
        return dict(result), dict(durations)

    async def daily_by_category(
        self, period: Period, grid_ids: list[int] | None, tz: ZoneInfo
    ) -> dict[str, dict[str, int]]:
        """Tickets received per local day and category (for the weekly chart)."""
        offset = int(period.start.astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        rows = await self._db.fetchall(
            "SELECT date(created_at + :offset, 'unixepoch') AS day, category, COUNT(*) AS n "
            f"FROM tickets WHERE {_COHORT}{_grid_filter(grid_ids)} GROUP BY day, category",
            {"start": to_epoch(period.start), "end": to_epoch(period.end), "offset": offset},
        )
        days: dict[str, dict[str, int]] = defaultdict(dict)
        for row in rows:
            days[row["day"]][row["category"]] = int(row["n"])
        return dict(days)

    def export_rows(
        self, start: datetime, end: datetime, grid_ids: list[int] | None
    ) -> AsyncIterator[sqlite3.Row]:
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
