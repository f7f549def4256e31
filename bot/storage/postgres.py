"""The PostgreSQL database: several gridbot processes on one database, through asyncpg.

- A pool of connections; a unit of work takes one, holds it in one transaction (BEGIN on
  entry, COMMIT or ROLLBACK on exit) and the repositories reach it through the task that
  opened it, as on SQLite. Reads outside a unit of work borrow a connection per query.
- The repositories' SQL is the SQLite SQL: `?` and `:name` placeholders are translated to
  `$1…` once per statement text (cached), skipping string literals, quoted names and
  comments. asyncpg's records are read by position and by name, as sqlite3.Row is.
- Migrations (bot.storage.migrations_pg) run at start in one transaction under an advisory
  lock, so two processes starting at once do not both migrate.

Caches across processes. The repositories cache rows that change a few times a year
(the grid of a chat, the duty chats) or that are nearly always absent (a pending
question), and drop them when `version(table)` moves. Another process's write must move
it too. Chosen: a counter row per table (`table_versions`), bumped in the writing
transaction itself and read once when a unit of work begins. A unit of work that starts
after another process committed therefore never serves that process's old rows, by
construction, for one indexed read of a few rows per unit of work. LISTEN/NOTIFY would
save that read but arrives asynchronously: a unit of work could start between a commit
and its notification (stale for a moment), and a dropped listening connection loses
notifications silently, so it would need this counter anyway to recover.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.storage.database import POSTGRESQL, DatabaseError, NoUnitOfWork, Params, Row
from bot.storage.migrations_pg import PG_MIGRATIONS

log = logging.getLogger(__name__)

# pg_advisory_xact_lock's key for "migrating gridbot's schema" ("grid" in ASCII).
MIGRATION_LOCK = 0x67726964
POOL_SIZE = 10

_TOKENS = re.compile(
    r"""('(?:[^']|'')*')"""  # a string literal: never translated
    r'|("(?:[^"]|"")*")'  # a quoted name
    r"|(--[^\n]*)"  # a comment
    r"|(::)"  # a cast, not a named placeholder
    r"|(\?)"
    r"|:([A-Za-z_][A-Za-z0-9_]*)"
)

_BUMP_VERSIONS = (
    "INSERT INTO table_versions (name, version) SELECT unnest($1::text[]), 1 "
    "ON CONFLICT (name) DO UPDATE SET version = table_versions.version + 1"
)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """PostgreSQL's text of a statement written with `?` or `:name` placeholders, and the
    parameter names in `$n` order (None for positional `?`).
    """
    names: list[str] = []
    positional = 0

    def placeholder(match: re.Match[str]) -> str:
        nonlocal positional
        if match.group(5):
            positional += 1
            return f"${positional}"
        name = match.group(6)
        if name is None:
            return match.group(0)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    text = _TOKENS.sub(placeholder, sql)
    if names and positional:
        raise ValueError(f"both ? and :name placeholders in one statement: {sql[:80]!r}")
    return text, (tuple(names) if names else None)


def statement(sql: str, params: Params) -> tuple[str, list[Any]]:
    """The translated text and its arguments in `$n` order."""
    text, names = translate(sql)
    if names is None:
        return text, list(params)
    assert isinstance(params, dict), f"named placeholders need a dict: {sql[:80]!r}"
    return text, [params[name] for name in names]


def _rowcount(status: str) -> int:
    """How many rows a command changed, from its status ("INSERT 0 1", "UPDATE 3")."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0


def _bump(versions: dict[str, int], table: str) -> None:
    versions[table] = versions.get(table, 0) + 1


class PostgresTransaction:
    """Statements on the one connection of a unit of work, inside its transaction."""

    def __init__(self, conn: asyncpg.Connection, local_versions: dict[str, int]) -> None:
        self._conn = conn
        self._local_versions = local_versions
        self.touched: set[str] = set()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The row of a query that has at most one, or None."""
        text, args = statement(sql, params)
        row: Row | None = await self._conn.fetchrow(text, *args)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        text, args = statement(sql, params)
        rows: list[Row] = await self._conn.fetch(text, *args)
        return rows

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write; how many rows it changed."""
        text, args = statement(sql, params)
        return _rowcount(await self._conn.execute(text, *args))

    async def execute_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one write with a RETURNING clause; the rows it returned."""
        return await self.fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each of `rows`."""
        text, names = translate(sql)
        if names is None:
            args = [list(row) for row in rows]
        else:
            args = [[row[name] for name in names] for row in rows]  # type: ignore[call-overload]
        if args:
            await self._conn.executemany(text, args)

    def touches(self, table: str) -> None:
        """Declare a write to a cached table: its counter row moves when this transaction
        commits (in it), and this process's version moves now and again at the end.
        """
        self.touched.add(table)
        _bump(self._local_versions, table)


class PostgresDatabase:
    """A PostgreSQL database through an asyncpg pool; build with `PostgresDatabase.open`."""

    dialect = POSTGRESQL

    def __init__(self, pool: asyncpg.Pool, where: str) -> None:
        self._pool = pool
        self.where = where
        # Versions of cached tables: this process's own writes, and the counters every
        # process bumps (table_versions) as last read. A change in either moves version().
        self._local_versions: dict[str, int] = {}
        self._shared_versions: dict[str, int] = {}
        # The open transaction of each task: a unit of work opened again by the same task
        # joins it; another task gets its own connection and transaction.
        self._open: dict[asyncio.Task[Any] | None, PostgresTransaction] = {}

    @classmethod
    async def open(cls, url: str, *, pool_size: int = POOL_SIZE) -> PostgresDatabase:
        """Connect and migrate; DatabaseError, in one line, when the server cannot be used."""
        from bot.config import redacted_url

        where = redacted_url(url)
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseError(f"{where}: cannot connect to PostgreSQL: {exc}") from exc
        db = cls(pool, where)
        try:
            await db.migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        """Close the pool; nothing may use the database after."""
        await self._pool.close()

    # --- schema ---

    async def schema_version(self) -> int:
        """The number of migrations applied (the schema_version table)."""
        async with self._pool.acquire() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
            if not exists:
                return 0
            return int(await conn.fetchval("SELECT version FROM schema_version") or 0)

    async def migrate(self) -> None:
        """Apply the migrations not yet applied, all in one transaction under an advisory
        lock (a second process starting at once waits, then finds nothing to do); refuse a
        newer schema.
        """
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"
                )
                current = await conn.fetchval("SELECT version FROM schema_version")
                if current is None:
                    await conn.execute("INSERT INTO schema_version (version) VALUES (0)")
                    current = 0
                if current > len(PG_MIGRATIONS):
                    raise DatabaseError(
                        f"{self.where}: schema version {current} is newer than this gridbot "
                        f"understands ({len(PG_MIGRATIONS)}); upgrade gridbot"
                    )
                for number, script in enumerate(PG_MIGRATIONS[current:], start=current + 1):
                    log.info("applying PostgreSQL migration %d", number)
                    await conn.execute(script)
                    await conn.execute("UPDATE schema_version SET version = $1", number)
        except asyncpg.PostgresError as exc:
            raise DatabaseError(f"{self.where}: cannot migrate the schema: {exc}") from exc

    # --- caches ---

    def version(self, table: str) -> int:
        """Moves with this process's writes to `table` at once, and with other processes'
        when the next unit of work begins (their counter row, read then).
        """
        return self._local_versions.get(table, 0) + self._shared_versions.get(table, 0)

    async def _read_shared_versions(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch("SELECT name, version FROM table_versions")
        # Counters only grow; units of work beginning at once may read them in any order,
        # and an older reading must not move a version back to one a stale cache holds.
        shared = self._shared_versions
        for name, version in rows:
            if version > shared.get(name, 0):
                shared[name] = version

    # --- transactions ---

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """BEGIN … COMMIT on one pooled connection (ROLLBACK on an exception); joined, not
        nested, when the same task already has one open.
        """
        task = asyncio.current_task()
        joined = self._open.get(task)
        if joined is not None:
            yield joined
            return
        async with self._pool.acquire() as conn:
            tx = PostgresTransaction(conn, self._local_versions)
            pg_transaction = conn.transaction()
            await pg_transaction.start()
            self._open[task] = tx
            try:
                await self._read_shared_versions(conn)
                yield tx
                if tx.touched:
                    await conn.execute(_BUMP_VERSIONS, sorted(tx.touched))
            except BaseException:
                try:
                    await pg_transaction.rollback()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    # The connection is gone: the server rolls back by itself.
                    log.warning("rollback failed; the server drops the transaction", exc_info=True)
                raise
            else:
                await pg_transaction.commit()
            finally:
                del self._open[task]
                # After COMMIT/ROLLBACK, never before: a read inside the transaction must
                # not outlive it in a cache.
                for table in tx.touched:
                    _bump(self._local_versions, table)

    def _current(self) -> PostgresTransaction:
        tx = self._open.get(asyncio.current_task())
        if tx is None:
            raise NoUnitOfWork("a write outside a unit of work")
        return tx

    # --- reads: inside the current task's transaction if any, else on a pooled connection ---

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """One row (or None): in the current task's transaction if any, else on its own."""
        tx = self._open.get(asyncio.current_task())
        if tx is not None:
            return await tx.fetchone(sql, params)
        text, args = statement(sql, params)
        async with self._pool.acquire() as conn:
            row: Row | None = await conn.fetchrow(text, *args)
            return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row: in the current task's transaction if any, else on its own."""
        tx = self._open.get(asyncio.current_task())
        if tx is not None:
            return await tx.fetchall(sql, params)
        return await self.fetchall_in_thread(sql, params)

    async def fetchall_in_thread(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a long query, on a connection of its own (the server does the work)."""
        text, args = statement(sql, params)
        async with self._pool.acquire() as conn:
            rows: list[Row] = await conn.fetch(text, *args)
            return rows

    async def stream(
        self, sql: str, params: Params = (), batch: int = 500
    ) -> AsyncGenerator[Row, None]:
        """Rows one batch at a time through a server-side cursor: an export holds `batch`."""
        text, args = statement(sql, params)
        async with self._pool.acquire() as conn, conn.transaction():
            async for row in conn.cursor(text, *args, prefetch=batch):
                yield row

    # --- writes: only inside the current task's unit of work ---

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write in the current task's unit of work (NoUnitOfWork outside one)."""
        return await self._current().execute(sql, params)

    async def execute_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a write with RETURNING in the current task's unit of work; the rows returned."""
        return await self._current().execute_returning(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement per row in the current task's unit of work."""
        await self._current().executemany(sql, rows)

    def touches(self, table: str) -> None:
        """Declare, in the current task's unit of work, a write to a cached table."""
        self._current().touches(table)
