"""Benchmark: one notice to 1,000 grids through the real bot, Telegram's limits enforced.

    python bench/broadcast.py                 # 1,000 grids, the shipped defaults
    python bench/broadcast.py --grids 200 --rate 29.5 --parallel 4 --tracemalloc
    python bench/broadcast.py --no-freeze     # see what the emulator's garbage costs

The emulator answers 429 like Telegram's flood control (30 messages/s overall, 20/min per
group). A staff member schedules `/notice now all` with a per-grid template and confirms;
the clock runs from the [确认] press to the final report. Printed: one JSON object, then a
readable summary. Exits 1 if a target is missed (time, 429s, lost or doubled deliveries).

The emulator lives in the bot's process, and its world (1,000 chats, every call and
message recorded) makes the garbage collector's full passes take ~40 ms: long enough to
hold one request back and bunch it with the next, which the emulator's exact sliding
window answers with a 429. A bot talking to Telegram carries none of that, so what setup
built is frozen (`gc.freeze()`) before the run; `--no-freeze` measures without.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "1")  # PTB 22 warns on every RetryAfter otherwise

from bot.config import NoticesConfig, TelegramConfig  # noqa: E402
from bot.domain.clock import FakeClock  # noqa: E402
from bot.offline import OfflineBot  # noqa: E402

STAFF = 9001
TELEGRAM_OVERALL = 30  # messages per second, as the emulator enforces it
TELEGRAM_PER_GROUP = 20  # messages per minute per group
TARGET_FACTOR = 1.05
TEXT = "各位{{ grid.name }}的居民：本周六 8:00–12:00 停水，请提前储水。今天是 {{ today }}。"


def rss_mb() -> float:
    """Resident set size now (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Result:
    grids: int
    overall_max_rate: float
    parallel_sends: int
    elapsed_s: float
    messages_per_s: float
    floor_s: float
    target_s: float
    rejected_429: int
    sent: int
    failed: int
    lost: int
    doubled: int
    rss_before_mb: float
    rss_after_mb: float
    tracemalloc_growth_mb: float | None
    tracemalloc_peak_mb: float | None
    tracemalloc_bot_growth_mb: float | None
    gc_frozen: bool

    @property
    def traced(self) -> bool:
        return self.tracemalloc_peak_mb is not None

    @property
    def ok(self) -> bool:
        # Tracing every allocation slows the bot down severalfold: time is judged untraced.
        in_time = self.traced or self.elapsed_s <= self.target_s
        return (
            in_time
            and self.rejected_429 == 0
            and self.lost == 0
            and self.doubled == 0
            and self.failed == 0
        )


async def run(grids: int, rate: float, parallel: int, trace: bool, freeze: bool) -> Result:
    with tempfile.TemporaryDirectory(prefix="gridbot-bench-") as scratch:
        bot = OfflineBot(
            Path(scratch) / "bench.db",
            staff=(STAFF,),
            clock=FakeClock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC)),
            settings={
                "telegram": {
                    "overall_max_rate": rate,
                    "group_max_rate": TelegramConfig().group_max_rate,
                },
                "notices": {"parallel_sends": parallel},
            },
        )
        await bot.start()
        try:
            return await measure(bot, grids, rate, parallel, trace, freeze)
        finally:
            await bot.stop()


async def measure(
    bot: OfflineBot, grids: int, rate: float, parallel: int, trace: bool, freeze: bool
) -> Result:
    emulator = bot.emulator
    services = bot.runtime.services
    bot.person(STAFF, "街道·小李")
    chats: dict[str, int] = {}
    async with bot.storage.unit_of_work() as uow:
        for n in range(1, grids + 1):
            code = f"G{n:04d}"
            chat = emulator.create_group(f"第{n}网格群")["id"]
            emulator.chat(chat).bot_status = "member"
            await uow.grids.create(
                code=code,
                name=f"第{n}网格",
                chat_id=chat,
                chat_title=None,
                now=services.clock.now(),
            )
            chats[code] = chat
    emulator.enforce_limits(
        overall_per_second=TELEGRAM_OVERALL, per_group_per_minute=TELEGRAM_PER_GROUP
    )
    preview = await bot.says_privately(STAFF, f"/notice now all\n{TEXT}")
    asking = next(m for m in preview.messages if m.get("reply_markup"))
    confirm = asking["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await asyncio.sleep(1.1)  # let the preview's sends leave Telegram's one-second window
    rejected_before = emulator.rejected_429
    if freeze:
        gc.collect()
        gc.freeze()

    if trace:
        tracemalloc.start(12)
    traced_before = tracemalloc.get_traced_memory()[0] if trace else 0
    snapshot_before = tracemalloc.take_snapshot() if trace else None
    rss_before = rss_mb()
    started = time.perf_counter()
    emulator.press_button(STAFF, asking["message_id"], STAFF, confirm)
    await emulator.wait_until_delivered(10)
    assert bot.application is not None and bot.runtime.broadcasts is not None
    await bot.application.update_queue.join()
    await bot.runtime.broadcasts.idle()
    elapsed = time.perf_counter() - started
    rss_after = rss_mb()
    growth = peak = bot_growth = None
    if trace and snapshot_before is not None:
        current, traced_peak = tracemalloc.get_traced_memory()
        bot_growth = kept_outside_emulator(snapshot_before, tracemalloc.take_snapshot())
        tracemalloc.stop()
        growth, peak = (current - traced_before) / 2**20, traced_peak / 2**20

    rows = await bot.db.fetchall(
        "SELECT g.chat_id, d.status, d.message_id FROM notice_deliveries d "
        "JOIN grids g ON g.id = d.grid_id"
    )
    recorded = {r["chat_id"]: (r["status"], r["message_id"]) for r in rows}
    # Each grid must hold exactly the one message its delivery row names.
    lost = doubled = 0
    for chat in chats.values():
        received = emulator.chat(chat).bot_message_ids
        status, message_id = recorded.get(chat, ("missing", None))
        if len(received) > 1:
            doubled += 1
        elif status != "sent" or received != [message_id]:
            lost += 1
    floor = grids / TELEGRAM_OVERALL
    return Result(
        grids=grids,
        overall_max_rate=rate,
        parallel_sends=parallel,
        elapsed_s=round(elapsed, 2),
        messages_per_s=round(grids / elapsed, 2),
        floor_s=round(floor, 2),
        target_s=round(floor * TARGET_FACTOR, 2),
        rejected_429=emulator.rejected_429 - rejected_before,
        sent=sum(1 for s, _m in recorded.values() if s == "sent"),
        failed=sum(1 for s, _m in recorded.values() if s == "failed"),
        lost=lost,
        doubled=doubled,
        rss_before_mb=round(rss_before, 1),
        rss_after_mb=round(rss_after, 1),
        tracemalloc_growth_mb=round(growth, 2) if growth is not None else None,
        tracemalloc_peak_mb=round(peak, 2) if peak is not None else None,
        tracemalloc_bot_growth_mb=round(bot_growth, 2) if bot_growth is not None else None,
        gc_frozen=freeze,
    )


def kept_outside_emulator(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> float:
    """MB still allocated after the run by code that is not the emulator's.

    The emulator keeps every call and message it saw (that is its job); what the bot keeps
    must stay flat. An allocation counts as the emulator's when any frame of its
    traceback is in bot/emulator/ or tornado (the emulator's HTTP server).
    """
    kept = 0
    for stat in after.compare_to(before, "traceback"):
        frames = [frame.filename for frame in stat.traceback]
        if not any("/bot/emulator/" in name or "/tornado/" in name for name in frames):
            kept += stat.size_diff
    return kept / 2**20


def summary(result: Result) -> str:
    verdict = "OK" if result.ok else "TARGET MISSED"
    lines = [
        f"{verdict}: one notice to {result.grids} grids in {result.elapsed_s} s "
        f"({result.messages_per_s} messages/s)",
        f"  floor at 30 messages/s: {result.floor_s} s; target (x{TARGET_FACTOR}): "
        f"{result.target_s} s"
        + (" (not judged while tracing allocations)" if result.traced else ""),
        f"  429 answers: {result.rejected_429}; sent {result.sent}, failed {result.failed}, "
        f"lost {result.lost}, doubled {result.doubled}",
        f"  RSS {result.rss_before_mb} MB before, {result.rss_after_mb} MB after",
        f"  limiter: overall_max_rate {result.overall_max_rate}/s, parallel_sends "
        f"{result.parallel_sends}; setup frozen for the GC: {result.gc_frozen}",
    ]
    if result.tracemalloc_peak_mb is not None:
        lines.insert(
            4,
            f"  tracemalloc: {result.tracemalloc_growth_mb} MB kept "
            f"({result.tracemalloc_bot_growth_mb} MB outside the emulator), "
            f"{result.tracemalloc_peak_mb} MB peak during the run",
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=1000)
    parser.add_argument(
        "--rate",
        type=float,
        default=TelegramConfig().overall_max_rate,
        help="[telegram] overall_max_rate (default: the shipped default)",
    )
    parser.add_argument(
        "--parallel",
        type=int,
        default=NoticesConfig().parallel_sends,
        help="[notices] parallel_sends (default: the shipped default)",
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace Python allocations (slower)"
    )
    parser.add_argument(
        "--no-freeze",
        dest="freeze",
        action="store_false",
        help="leave the emulator's setup to the garbage collector",
    )
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.grids, args.rate, args.parallel, args.tracemalloc, args.freeze))
    print(json.dumps({**result.__dict__, "ok": result.ok}, ensure_ascii=False))
    print(summary(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
