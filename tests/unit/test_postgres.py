"""PostgreSQL's own guarantees: several processes on one database, the schema SQLite has.

Each "process" here is a storage of its own (its own connection pool, its own caches) on
one database, as two gridbot processes would be.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.domain.intake import Location
from bot.domain.models import Urgency
from bot.domain.tickets import NewTicket, Source
from bot.domain.timers import Timer
from bot.services.ports import UnitOfWork
from bot.services.timers import TimerService
from bot.storage.database import DatabaseError
from bot.storage.migrations_pg import PG_MIGRATIONS
from bot.storage.postgres import PostgresDatabase, translate
from bot.storage.unit_of_work import SqlStorage
from tests.conftest import PostgresServer

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.postgresql


def test_placeholders_are_translated_outside_literals_and_casts() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?") == (
        "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2",
        None,
    )
    assert translate("UPDATE t SET a = :now WHERE b = :hash AND c < :now AND d = 'x:y'") == (
        "UPDATE t SET a = $1 WHERE b = $2 AND c < $1 AND d = 'x:y'",
        ("now", "hash"),
    )
    assert translate("SELECT $1::text[] -- what? :no\n") == (
        "SELECT $1::text[] -- what? :no\n",
        None,
    )
    # Translated once per statement text.
    assert translate("SELECT ?") is translate("SELECT ?")


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> PostgresServer:
    return request.getfixturevalue("postgres_server")  # type: ignore[no-any-return]


@pytest.fixture
async def url(server: PostgresServer) -> AsyncIterator[str]:
    name, url = await server.fresh()
    yield url
    await server.drop(name)


@pytest.fixture
async def two_processes(url: str) -> AsyncIterator[tuple[SqlStorage, SqlStorage]]:
    first, second = await SqlStorage.open_url(url), await SqlStorage.open_url(url)
    yield first, second
    await first.close()
    await second.close()


async def test_two_processes_starting_at_once_migrate_once(server: PostgresServer) -> None:
    name = f"gridbot_empty_{id(server)}"
    await server._admin(f"CREATE DATABASE {name}")
    url = server.admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        opened = await asyncio.gather(*(PostgresDatabase.open(url) for _ in range(3)))
        assert [await db.schema_version() for db in opened] == [len(PG_MIGRATIONS)] * 3
        for db in opened:
            await db.close()
    finally:
        await server.drop(name)


async def test_a_newer_schema_is_refused(url: str) -> None:
    db = await PostgresDatabase.open(url)
    async with db.transaction() as tx:
        await tx.execute("UPDATE schema_version SET version = 99")
    await db.close()
    with pytest.raises(DatabaseError, match=r"schema version 99 is newer than this gridbot"):
        await PostgresDatabase.open(url)


async def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(DatabaseError, match="cannot connect to PostgreSQL"):
        await PostgresDatabase.open("postgresql://nobody:secret@127.0.0.1:1/none")


def _sqlite_schema(path: Path) -> tuple[dict[str, list[str]], set[str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
    finally:
        conn.close()
    return columns, indexes


async def test_both_backends_have_the_same_tables_columns_and_indexes(
    url: str, tmp_path: Path
) -> None:
    lite = await SqlStorage.open(tmp_path / "same.db")
    await lite.close()
    lite_columns, lite_indexes = _sqlite_schema(tmp_path / "same.db")
    pg = await PostgresDatabase.open(url)
    try:
        rows = await pg.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        )
        pg_columns: dict[str, list[str]] = {}
        for table, column in rows:
            pg_columns.setdefault(table, []).append(column)
        pg_indexes = {
            r[0]
            for r in await pg.fetchall(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
            )
        }
    finally:
        await pg.close()
    for own in ("schema_version", "table_versions"):  # PostgreSQL's bookkeeping
        pg_columns.pop(own)
    assert pg_columns == lite_columns
    assert pg_indexes == lite_indexes


def _new_ticket(grid_id: int, n: int) -> NewTicket:
    return NewTicket(
        grid_id=grid_id,
        reporter_id=3000 + n,
        chat_id=-1,
        message_id=n,
        text=f"第{n}件",
        category="other",
        urgency=Urgency.NORMAL,
        location=Location(None, None, None, None),
        source=Source.GROUP,
        private=False,
        reasons=(),
        confidence=1.0,
        created_at=NOW,
        claim_due_at=NOW + timedelta(hours=1),
        resolve_due_at=NOW + timedelta(days=1),
    )


async def test_ticket_numbers_never_collide_across_processes(
    two_processes: tuple[SqlStorage, SqlStorage],
) -> None:
    first, second = two_processes
    async with first.unit_of_work() as uow:
        grid_id = await uow.grids.create(
            code="G01", name="一网格", chat_id=-1, chat_title=None, now=NOW
        )

    async def file(storage: SqlStorage, n: int) -> int:
        async with storage.unit_of_work() as uow:
            return (await uow.tickets.create(_new_ticket(grid_id, n))).id

    ids = await asyncio.gather(*(file((first, second)[n % 2], n) for n in range(40)))
    assert sorted(ids) == list(range(1, 41))


async def test_a_grid_another_process_changed_is_not_served_from_a_cache(
    two_processes: tuple[SqlStorage, SqlStorage],
) -> None:
    first, second = two_processes
    async with first.unit_of_work() as uow:
        await uow.grids.create(code="G01", name="一网格", chat_id=-1, chat_title=None, now=NOW)
    async with first.unit_of_work() as uow:
        grid = await uow.grids.by_chat(-1)
        assert grid is not None and grid.active  # now cached in the first process
    async with second.unit_of_work() as uow:
        assert await uow.grids.set_active_by_chat(-1, False, NOW) == 1
    async with first.unit_of_work() as uow:
        grid = await uow.grids.by_chat(-1)
        assert grid is not None and not grid.active


async def test_a_due_timer_fires_once_across_processes(
    two_processes: tuple[SqlStorage, SqlStorage],
) -> None:
    fired: list[tuple[str, int]] = []
    clock = FakeClock(NOW)

    def process(name: str, storage: SqlStorage) -> TimerService:
        timers = TimerService(storage.unit_of_work, clock)

        async def handler(timer: Timer, uow: UnitOfWork, now: datetime) -> None:
            fired.append((name, timer.ref_id))
            await asyncio.sleep(0.01)  # while the other process looks at the same timers

        timers.on("test.once", handler)
        return timers

    first, second = two_processes
    async with first.unit_of_work() as uow:
        for ref in range(20):
            await uow.timers.add("test.once", ref, NOW - timedelta(minutes=1))
    counts = await asyncio.gather(process("a", first).fire_due(), process("b", second).fire_due())
    assert sorted(ref for _name, ref in fired) == list(range(20))
    assert sum(counts) == 20
