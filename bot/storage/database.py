"""What the repositories need from a database, whichever backend runs it.

Two adapters implement `Database`: SQLite (bot.storage.sqlite, the embedded default) and
PostgreSQL (bot.storage.postgres, for several processes on one database). The
repositories in bot.storage are written once against this interface, in SQL both
backends run: `?` or `:name` placeholders, `INSERT … ON CONFLICT`, `RETURNING`,
`COUNT(*) FILTER (WHERE …)`, integer 0/1 flags, epoch seconds. Where the two truly differ,
the `Dialect` names the difference once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]


class Row(Protocol):
    """A result row read by position or by column name (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class DatabaseError(Exception):
    """The database cannot be used (newer schema than this code, unreadable file, no server)."""


class NoUnitOfWork(RuntimeError):
    """A write outside any unit of work: it would commit on its own, half a use case."""


def to_epoch(moment: datetime) -> int:
    """Seconds since the epoch of an aware moment; a naive one is refused, never guessed."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached storage; every datetime must be aware")
    return int(moment.timestamp())


def from_epoch(seconds: int | None) -> datetime | None:
    """The aware UTC moment of a stored epoch column, or None for NULL."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def aware(seconds: int) -> datetime:
    """A NOT NULL time column as an aware datetime."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few pieces of SQL the two backends spell differently, each named once."""

    name: str
    # The UTC calendar day (YYYY-MM-DD) of an epoch-seconds expression.
    day_format: str
    # Whether `needle` occurs in `haystack`, literally (never a LIKE pattern).
    contains_format: str
    # Appended to a SELECT that claims rows: other processes skip the rows this one holds.
    skip_locked: str

    def day_of(self, seconds: str) -> str:
        """SQL for the calendar day (YYYY-MM-DD, UTC) of an epoch-seconds expression."""
        return self.day_format.format(seconds)

    def contains(self, haystack: str, needle: str) -> str:
        """SQL that is true when the text `needle` occurs in `haystack`."""
        return self.contains_format.format(haystack, needle)


SQLITE = Dialect(
    name="sqlite",
    day_format="date({}, 'unixepoch')",
    contains_format="instr({}, {}) > 0",
    # One process, one writer at a time: nobody else can hold a row.
    skip_locked="",
)
POSTGRESQL = Dialect(
    name="postgresql",
    day_format="to_char(to_timestamp({}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    contains_format="strpos({}, {}) > 0",
    skip_locked=" FOR UPDATE SKIP LOCKED",
)


class Transaction(Protocol):
    """Statements inside one transaction (a unit of work's)."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """The row of a query that has at most one, or None."""
        ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Every row of a query."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write; how many rows it changed."""
        ...

    async def execute_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one write with a RETURNING clause; the rows it returned."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each of `rows`."""
        ...

    def touches(self, table: str) -> None:
        """Declare a write to a table whose readers cache rows (see Database.version)."""
        ...


class Database(Transaction, Protocol):
    """One database: quick reads, writes inside the current task's unit of work, long reads.

    `fetchone`/`fetchall` run inside the current task's open transaction when it has one
    (so a use case reads its own writes), else on their own. `execute`, `executemany`,
    `execute_returning` and `touches` outside a transaction raise NoUnitOfWork.
    """

    dialect: Dialect
    where: str  # the file, or the server and database: for messages to an operator

    def version(self, table: str) -> int:
        """Changes whenever a write to `table` may have committed, in this process or another.

        A reader that caches rows of the table keeps a result only if the version is the
        same after its query as before, and drops its cache when the version moves.
        """
        ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """One transaction: COMMIT on a clean exit, ROLLBACK on an exception; joined, not
        nested, when the same task already has one open.
        """
        ...

    async def fetchall_in_thread(self, sql: str, params: Params = ()) -> list[Row]:
        """Rows of a query that may take long (aggregates over many tickets), off the loop."""
        ...

    def stream(self, sql: str, params: Params = (), batch: int = 500) -> AsyncGenerator[Row, None]:
        """Rows one batch at a time: an export of a million rows holds `batch`."""
        ...

    async def schema_version(self) -> int:
        """The number of migrations applied."""
        ...

    async def close(self) -> None:
        """Close every connection; nothing may use the database after."""
        ...
