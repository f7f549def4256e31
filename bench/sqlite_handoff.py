"""What one statement costs through aiosqlite's worker thread, and directly.

    python bench/sqlite_handoff.py [--statements 5000]

Why gridbot runs its short statements on the event loop (docs/performance.md): the
hand-off to aiosqlite's thread and back costs far more than the statement itself.
Prints wall and CPU microseconds per operation for SELECT 1 and for BEGIN IMMEDIATE +
INSERT + COMMIT on a WAL database, both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite

SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"


async def timed(label: str, count: int, step: Callable[[], Awaitable[object] | object]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        result = step()
        if isinstance(result, Awaitable):
            await result
    print(
        f"{label:42} {1e6 * (time.perf_counter() - wall) / count:7.1f} µs wall "
        f"{1e6 * (time.process_time() - cpu) / count:7.1f} µs CPU"
    )


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        threaded = await aiosqlite.connect(Path(tmp) / "a.db", isolation_level=None)
        await threaded.execute("PRAGMA journal_mode = WAL")
        await threaded.execute("PRAGMA synchronous = NORMAL")
        await threaded.execute(SCHEMA)
        direct = sqlite3.connect(Path(tmp) / "b.db", isolation_level=None)
        direct.execute("PRAGMA journal_mode = WAL")
        direct.execute("PRAGMA synchronous = NORMAL")
        direct.execute(SCHEMA)

        async def threaded_write() -> None:
            await threaded.execute("BEGIN IMMEDIATE")
            await threaded.execute("INSERT INTO t (v) VALUES ('x')")
            await threaded.execute("COMMIT")

        def direct_write() -> None:
            direct.execute("BEGIN IMMEDIATE")
            direct.execute("INSERT INTO t (v) VALUES ('x')")
            direct.execute("COMMIT")

        await timed("SELECT 1, aiosqlite", count, lambda: threaded.execute_fetchall("SELECT 1"))
        await timed("SELECT 1, directly", count, lambda: direct.execute("SELECT 1").fetchall())
        await timed("BEGIN + INSERT + COMMIT, aiosqlite", count, threaded_write)
        await timed("BEGIN + INSERT + COMMIT, directly", count, direct_write)
        await threaded.close()
        direct.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=5000)
    asyncio.run(main(parser.parse_args().statements))
