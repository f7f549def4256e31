"""Figures, weekly report data and exports, scoped to the grids a person may see."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import UserError
from bot.domain.exports import CsvWriter, Open311Writer
from bot.domain.models import Grid, PersonRoles
from bot.domain.stats import Figures, GridFigures, Period, StatsReport, median, parse_period
from bot.services.grids import GridService
from bot.services.ports import StatsView

EXPORT_FORMATS = ("csv", "open311")
PROGRESS_EVERY = 5000


class StatsService:
    """Figures per grid for a period (/stats, the weekly report, the console), read outside any unit
    of work.
    """

    def __init__(
        self,
        view: StatsView,
        clock: Clock,
        grids: GridService,
        tz: ZoneInfo,
        category_label: Callable[[str], str],
    ) -> None:
        self._clock = clock
        self._grids = grids
        self._tz = tz
        self._label = category_label
        self._view = view

    def period(self, text: str) -> Period:
        """The period a /stats argument names (today, 7d, 30d, month, week, lastweek, YYYY-MM), in
        local time.
        """
        return parse_period(text, self._clock.now(), self._tz)

    async def visible_grids(
        self, roles: PersonRoles, code: str | None, chat_grid: Grid | None
    ) -> list[Grid]:
        """Which grids' figures this person may read: staff all; heads/workers their own."""
        if chat_grid is not None and not code:
            wanted = [chat_grid]
        elif code and code.lower() != "all":
            grid = await self._grids.grid_by_code(code)
            if grid is None:
                raise UserError("unknown_grid", code=code[:40])
            wanted = [grid]
        elif roles.is_staff:
            wanted = await self._grids.all_grids()
            if not wanted:
                raise UserError("no_grids_yet")
        else:
            wanted = [g for g, _role in roles.grid_roles]
        allowed = [g for g in wanted if roles.is_staff or roles.serves(g.id)]
        if not allowed:
            raise UserError("not_your_grid")
        return allowed

    async def report(
        self, period: Period, grids: list[Grid] | None, *, daily: bool = False
    ) -> StatsReport:
        """Figures per grid (every grid when `grids` is None) and in total."""
        every_grid = await self._grids.all_grids()
        if grids is None:
            grids = every_grid
        # All grids: no id list, so SQLite reads the period's range straight from the index.
        ids = None if len(grids) == len(every_grid) else [g.id for g in grids]
        per_grid, durations = await self._view.figures(period, ids, self._clock.now())
        total = Figures()
        all_claims: list[float] = []
        all_resolves: list[float] = []
        rows = []
        for grid in grids:
            figures = per_grid.get(grid.id, Figures())
            claims, resolves = durations.get(grid.id, ([], []))
            figures.median_claim_seconds = median(claims)
            figures.median_resolve_seconds = median(resolves)
            all_claims += claims
            all_resolves += resolves
            total.add(figures)
            rows.append(GridFigures(grid, figures))
        total.median_claim_seconds = median(all_claims)
        total.median_resolve_seconds = median(all_resolves)
        by_day = await self._view.daily_by_category(period, ids, self._tz) if daily else {}
        return StatsReport(period, tuple(rows), total, by_day)

    async def export(
        self,
        kind: str,
        start: datetime,
        end: datetime,
        grids: list[Grid] | None,
        out: TextIO,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Stream tickets filed in [start, end) to `out`; returns how many.

        `progress` is called with the count every PROGRESS_EVERY tickets (a terminal's
        "exporting… 20000" line). The row stream is closed even when writing fails (a
        reader that went away), so no cursor outlives the export.
        """
        if kind not in EXPORT_FORMATS:
            raise UserError("bad_export_format", given=kind[:20])
        ids = None if grids is None else [g.id for g in grids]
        writer: CsvWriter | Open311Writer = (
            CsvWriter(out, self._tz, self._label)
            if kind == "csv"
            else Open311Writer(out, self._tz, self._label)
        )
        writer.begin()
        async with aclosing(self._view.export_rows(start, end, ids)) as rows:
            async for row in rows:
                writer.write(row)
                if progress is not None and writer.count % PROGRESS_EVERY == 0:
                    progress(writer.count)
        writer.end()
        return writer.count
