"""Benchmark: statistics and exports at street scale.

1,000 grids and 1,000,000 tickets (with their events and verifications) spread over a
year; then: month figures for all grids, one grid's /open list, and a month's CSV export
(peak memory with tracemalloc, to show it streams). Run:

    .venv/bin/python bench/stats.py [--tickets 1000000] [--grids 1000] [--db PATH]

Prints a readable summary and one JSON line. Generation takes about a minute; an existing
--db with enough tickets is reused.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sqlite3
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain.clock import FakeClock  # noqa: E402
from bot.services.grids import GridService  # noqa: E402
from bot.services.stats import StatsService  # noqa: E402
from bot.storage.unit_of_work import SqlStorage  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
CATEGORIES = [
    "property",
    "municipal",
    "environment",
    "safety",
    "order",
    "dispute",
    "assistance",
    "service",
    "suggestion",
    "other",
]
YEAR = 365 * 86400


def generate(path: Path, grids: int, tickets: int) -> None:
    conn = sqlite3.connect(path)
    have = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    if have >= tickets:
        conn.close()
        return
    rng = random.Random(7)
    now = int(NOW.timestamp())
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR IGNORE INTO grids (id, code, name, chat_id, active, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 1, ?, ?)",
        [
            (g, f"G{g:04d}", f"网格{g}", -1_000_000 - g, now - YEAR, now - YEAR)
            for g in range(1, grids + 1)
        ],
    )
    batch_tickets, batch_events, batch_verifications = [], [], []
    # As in production, ids ascend with filing time.
    moments = sorted(now - rng.randrange(YEAR) for _ in range(tickets - have))
    for tid, created in zip(range(have + 1, tickets + 1), moments, strict=True):
        urgency = rng.choices(["emergency", "high", "normal"], [1, 10, 89])[0]
        claim_window = {"emergency": 600, "high": 3600, "normal": 86400}[urgency]
        resolve_window = {"emergency": 7200, "high": 86400, "normal": 3 * 86400}[urgency]
        age = now - created
        claimed = created + int(rng.expovariate(1 / (claim_window * 0.5)))
        claimed = claimed if claimed < now else None
        resolved = claimed + int(rng.expovariate(1 / (resolve_window * 0.5))) if claimed else None
        resolved = resolved if resolved and resolved < now else None
        closed = resolved + rng.randrange(3600, 2 * 86400) if resolved else None
        closed = closed if closed and closed < now else None
        status = (
            "closed" if closed else "resolved" if resolved else "claimed" if claimed else "open"
        )
        closure = (
            rng.choice(["confirmed"] * 8 + ["confirmed_by_timeout", "not_ours"]) if closed else None
        )
        claim_late = int(
            claimed is None
            and age > claim_window
            or bool(claimed and claimed - created > claim_window)
        )
        resolve_late = int(bool(resolved and resolved - created > resolve_window))
        score = rng.randint(3, 5) if closure == "confirmed" else None
        batch_tickets.append(
            (
                tid,
                rng.randrange(1, grids + 1),
                1000 + rng.randrange(50_000),
                -1,
                tid,
                "generated",
                rng.choice(CATEGORIES),
                urgency,
                str(rng.randrange(1, 40)),
                status,
                "group",
                closure,
                created,
                closed or resolved or claimed or created,
                claimed,
                resolved,
                closed,
                claim_late,
                resolve_late,
                score,
                created + claim_window,
                created + resolve_window,
            )
        )
        batch_events.append((tid, created, "created"))
        if claimed:
            batch_events.append((tid, claimed, "claimed"))
        if resolved:
            batch_events.append((tid, resolved, "resolved"))
            batch_verifications.append((tid, 1, 1000, resolved, closed if score else None))
        if closed:
            batch_events.append((tid, closed, "closed"))
        if len(batch_tickets) >= 50_000 or tid == tickets:
            conn.executemany(
                "INSERT INTO tickets (id, grid_id, reporter_id, chat_id, message_id, text, "
                "category, urgency, building, status, source, closure, created_at, updated_at, "
                "claimed_at, resolved_at, closed_at, claim_late, resolve_late, satisfaction, "
                "claim_due_at, resolve_due_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch_tickets,
            )
            conn.executemany(
                "INSERT INTO ticket_events (ticket_id, at, kind) VALUES (?, ?, ?)", batch_events
            )
            conn.executemany(
                "INSERT INTO ticket_verifications (ticket_id, round, telegram_id, asked_at, "
                "answered_at) VALUES (?, ?, ?, ?, ?)",
                batch_verifications,
            )
            batch_tickets, batch_events, batch_verifications = [], [], []
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def measure(path: Path, grids: int, tickets: int, repeats: int) -> dict[str, object]:
    started = time.perf_counter()
    storage = await SqlStorage.open(path)  # creates the schema
    generate(path, grids, tickets)
    generation = time.perf_counter() - started
    clock = FakeClock(NOW)
    grid_service = GridService(storage.unit_of_work, clock, frozenset({1}))
    stats = StatsService(storage.stats, clock, grid_service, TZ, lambda code: code)
    period = stats.period("2026-10")  # a whole month

    month_times = []
    for _ in range(repeats):
        t = time.perf_counter()
        report = await stats.report(period, None)
        month_times.append(time.perf_counter() - t)

    grid = await grid_service.grid_by_code("G0500")
    assert grid is not None
    open_times = []
    for _ in range(repeats * 10):
        t = time.perf_counter()
        async with storage.unit_of_work() as uow:
            await uow.tickets.open_in_grids([grid.id])
        open_times.append(time.perf_counter() - t)

    tracemalloc.start()
    t = time.perf_counter()
    rows = await stats.export("csv", period.start, period.end, None, _Counting())
    export_seconds = time.perf_counter() - t
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await storage.close()
    return {
        "grids": grids,
        "tickets": tickets,
        "month_tickets": report.total.received,
        "generation_seconds": round(generation, 1),
        "month_stats_all_grids_seconds_median": round(statistics.median(month_times), 3),
        "open_one_grid_ms_median": round(1000 * statistics.median(open_times), 2),
        "open_one_grid_ms_max": round(1000 * max(open_times), 2),
        "csv_export_rows": rows,
        "csv_export_seconds": round(export_seconds, 2),
        "csv_export_peak_python_memory_mb": round(peak / 2**20, 2),
        # One stat after the run, nothing else on the loop: not worth a thread.
        "db_size_mb": round(path.stat().st_size / 2**20, 1),  # noqa: ASYNC240
    }


class _Counting(io.TextIOBase):
    """A file that keeps nothing: what the export holds in memory is the export's own."""

    def write(self, text: str) -> int:
        return len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=1000)
    parser.add_argument("--db", default="bench/out/stats.db")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    path = Path(args.db)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(measure(path, args.grids, args.tickets, args.repeats))
    print(
        f"{result['tickets']:,} tickets in {result['grids']} grids "
        f"({result['month_tickets']:,} in the measured month), DB {result['db_size_mb']} MB"
    )
    print(
        f"month stats, all grids:   {result['month_stats_all_grids_seconds_median']} s "
        "(target ≤ 1 s)"
    )
    print(
        f"one grid's /open:         {result['open_one_grid_ms_median']} ms median, "
        f"{result['open_one_grid_ms_max']} ms max (target ≤ 10 ms)"
    )
    print(
        f"month CSV export:         {result['csv_export_rows']:,} rows in "
        f"{result['csv_export_seconds']} s, peak Python memory "
        f"{result['csv_export_peak_python_memory_mb']} MB"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
