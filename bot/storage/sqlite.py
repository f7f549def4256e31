"""The SQLite database (the embedded default): open (WAL, foreign keys), migrate, run
transactions.

Two connections to one file:

- The bot's connection, used directly on the event loop. Its statements are keyed
  lookups and small writes that take microseconds; handing each to a worker thread
  (aiosqlite) cost ~70 µs of CPU in thread wake-ups per statement, the larger part of
  what a busy bot spent on an update (docs/performance.md). SQLite transactions are per
  connection, so two coroutines interleaving statements would end up inside each other's
  transaction; `transaction()` therefore serialises writers with a lock.
- A read-only aiosqlite connection for reads that take long (statistics over a month,
  exports, the integrity check), so that they run on its thread and never stall the
  bot. In WAL mode it reads the last committed state and never blocks the writer.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.database import SQLITE, DatabaseError, NoUnitOfWork, Params, Row
from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)


def _bump(versions: dict[str, int], table: str) -> None:
    versions[table] = versions.get(table, 0) + 1


class _QuickReads:
    """Reads that take microseconds (by key, by index, a bounded list), on the loop."""

    _conn: sqlite3.Connection

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The row of a query that has at most one (by key, an aggregate, RETURNING one)."""
        rows = self._conn.execute(sql, params).fetchall()
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()


class Transaction(_QuickReads):
    """Statements inside one BEGIN IMMEDIATE … COMMIT.

    BEGIN comes with the first statement: a unit of work whose reads are all served from
    caches (the grid of a chat, the duty chats) costs SQLite nothing.
    """

    def __init__(self, conn: sqlite3.Connection, versions: dict[str, int]) -> None:
        self._conn = conn
        self._versions = versions
        self.touched: set[str] = set()
        self.begun = False

    def _begin(self) -> None:
        if not self.begun:
            self._conn.execute("BEGIN IMMEDIATE")
            self.begun = True

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """One row (or None), inside the transaction (BEGIN with the first statement)."""
        self._begin()
        return await super().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query, inside the transaction."""
        self._begin()
        return await super().fetchall(sql, params)

    def touches(self, table: str) -> None:
        """Declare a write to a table whose readers cache rows (see Database.version).

        The version moves now, so that a read later in this transaction misses the
        cache, and again when the transaction ends.
        """
        self.touched.add(table)
        _bump(self._versions, table)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement inside the transaction; how many rows it changed."""
        self._begin()
        return self._conn.execute(sql, params).rowcount

    async def execute_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one write with a RETURNING clause inside the transaction; the rows returned."""
        self._begin()
        return self._conn.execute(sql, params).fetchall()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each of `rows`, inside the transaction."""
        self._begin()
        self._conn.executemany(sql, rows)


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Only this process writes, one transaction at a time: a wait here means another
    # program holds the file (a backup tool, a second bot started by mistake).
    conn.execute("PRAGMA busy_timeout = 5000")
    # WAL with synchronous=NORMAL is durable against process crashes (not power loss),
    # which is the failure we must survive; FULL would fsync on every ticket.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class SqliteDatabase(_QuickReads):
    """One SQLite file: a writer connection for transactions and a reader for long reads; build
    with `SqliteDatabase.open`.
    """

    dialect = SQLITE

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._versions: dict[str, int] = {}
        # The open transaction and the task that opened it: a unit of work opened again by
        # the same task (a use case calling another) joins it instead of waiting for itself.
        self._open: Transaction | None = None
        self._owner: asyncio.Task[Any] | None = None
        self.path = path
        self.where = path

    # --- writes: only inside the open transaction (storage.unit_of_work) ---

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """One row (or None): inside the current task's open transaction if any, else a
        quick read.
        """
        tx = self._open
        if tx is not None and self._owner is asyncio.current_task():
            return await tx.fetchone(sql, params)  # inside the unit of work's transaction
        return await super().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query: inside the current task's open transaction if any, else a quick
        read.
        """
        tx = self._open
        if tx is not None and self._owner is asyncio.current_task():
            return await tx.fetchall(sql, params)
        return await super().fetchall(sql, params)

    def _current(self) -> Transaction:
        if self._open is None or self._owner is not asyncio.current_task():
            raise NoUnitOfWork("a write outside a unit of work")
        return self._open

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write in the current task's unit of work (NoUnitOfWork outside one); how many
        rows it changed.
        """
        return await self._current().execute(sql, params)

    async def execute_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a write with RETURNING in the current task's unit of work; the rows returned."""
        return await self._current().execute_returning(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each of `rows` in the current task's unit of work (NoUnitOfWork
        outside one).
        """
        await self._current().executemany(sql, rows)

    def touches(self, table: str) -> None:
        """Declare, in the current task's unit of work, a write to a table whose readers
        cache rows.
        """
        self._current().touches(table)

    @classmethod
    async def open(cls, path: str | Path) -> SqliteDatabase:
        """Open (creating the file and its folder if needed) and migrate; DatabaseError when
        unusable.
        """
        path = str(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = cls(_connect(path), path)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{path}: cannot open the database: {exc}") from exc
        await db.migrate()
        return db

    async def close(self) -> None:
        """Close both connections; nothing may use the database after."""
        if self._reader is not None:
            await self._reader.close()
            self._reader = None
        self._conn.close()

    async def schema_version(self) -> int:
        """The number of migrations applied (SQLite's user_version)."""
        row = await self.fetchone("PRAGMA user_version")
        assert row is not None
        return int(row[0])

    async def migrate(self) -> None:
        """Apply the migrations not yet applied, each with its version in one script so a crash
        leaves both or neither; refuse a newer schema.
        """
        current = await self.schema_version()
        if current > len(MIGRATIONS):
            raise DatabaseError(
                f"{self.path}: schema version {current} is newer than this gridbot "
                f"understands ({len(MIGRATIONS)}); upgrade gridbot"
            )
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            log.info("applying database migration %d", number)
            async with self._write_lock:
                # executescript commits on its own; keep schema and version in one script
                # so a crash leaves either both or neither.
                self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )

    def version(self, table: str) -> int:
        """Changes with every transaction that declared a write to `table` (Transaction.touches).

        A reader that caches rows of the table keeps a result only if the version is the
        same after its query as before, and drops its cache when the version moves.
        """
        return self._versions.get(table, 0)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on an exception); joined, not nested, when
        the same task already has one open.
        """
        task = asyncio.current_task()
        if self._open is not None and self._owner is task:
            yield self._open
            return
        async with self._write_lock:
            tx = Transaction(self._conn, self._versions)
            self._open, self._owner = tx, task
            try:
                yield tx
            except BaseException:
                if tx.begun:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                if tx.begun:
                    self._conn.execute("COMMIT")
            finally:
                self._open = self._owner = None
                # After COMMIT/ROLLBACK, never before: a read that ran inside the open
                # transaction must not outlive it in a cache.
                for table in tx.touched:
                    _bump(self._versions, table)

    async def _read_only(self) -> aiosqlite.Connection:
        if self._reader is None:
            # resolve() is a few stats, once per connection: not worth a thread.
            uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"  # noqa: ASYNC240
            reader = await aiosqlite.connect(uri, uri=True)
            reader.row_factory = sqlite3.Row
            self._reader = reader
        return self._reader

    async def fetchall_in_thread(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a query that may take long (aggregates over many tickets), off the loop."""
        return list(await (await self._read_only()).execute_fetchall(sql, params))

    async def stream(
        self, sql: str, params: Params = (), batch: int = 500
    ) -> AsyncGenerator[Row, None]:
        """Rows one batch at a time, off the loop: an export of a million rows holds `batch`."""
        async with (await self._read_only()).execute(sql, params) as cur:
            while True:
                rows = await cur.fetchmany(batch)
                if not rows:
                    return
                for row in rows:
                    yield row

    async def integrity_check(self) -> str:
        """SQLite's integrity check of the file, run off the loop: "ok" when sound."""
        rows = await self.fetchall_in_thread("PRAGMA integrity_check")
        return str(rows[0][0]) if rows else "no answer"
