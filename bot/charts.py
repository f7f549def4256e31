"""The weekly report's PNG: tickets per day by category, and on-time rate per grid.

matplotlib with the non-interactive Agg backend (no display). Labels are category codes
and grid codes: the stock fonts have no Chinese glyphs, and codes read the same everywhere.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: a server has no display

import matplotlib.pyplot as plt  # noqa: E402

from bot.domain.stats import StatsReport  # noqa: E402

MAX_GRIDS_SHOWN = 30


def weekly_chart(report: StatsReport) -> bytes:
    """The weekly report's PNG: tickets per day by category (stacked), and per grid, so the street's
    duty chat sees the week at a glance.
    """
    figure, (per_day, per_grid) = plt.subplots(2, 1, figsize=(9, 8), dpi=100)
    try:
        days = sorted(report.daily_by_category)
        categories = sorted({c for day in report.daily_by_category.values() for c in day})
        bottom = [0] * len(days)
        for category in categories:
            counts = [report.daily_by_category[d].get(category, 0) for d in days]
            per_day.bar([d[5:] for d in days], counts, bottom=bottom, label=category)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        per_day.set_title(f"Tickets received per day by category ({report.period.label})")
        per_day.set_ylabel("tickets")
        if categories:
            per_day.legend(fontsize="small", ncol=3)

        rated = [g for g in report.grids if g.figures.resolve_on_time_rate is not None]
        rated.sort(key=lambda g: g.figures.resolve_on_time_rate or 0.0)
        rated = rated[:MAX_GRIDS_SHOWN]  # the worst first: they need attention
        per_grid.barh(
            [g.grid.code for g in rated],
            [100 * (g.figures.resolve_on_time_rate or 0.0) for g in rated],
        )
        per_grid.set_xlim(0, 100)
        per_grid.set_xlabel("resolved on time, %")
        per_grid.set_title("On-time rate per grid (lowest first)")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
