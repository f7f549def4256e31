"""Grid use cases on a real SQLite file: bind, rebind, move, unbind, roles, migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.domain.errors import UserError
from bot.domain.models import Role
from bot.services.grids import BindResult, ChatRef, GridService
from bot.services.people import PeopleService
from bot.storage.sqlite import SqliteDatabase
from bot.storage.unit_of_work import SqlStorage
from tests.conftest import open_storage

STAFF = 1000
CHAT_A = ChatRef(-1001, "幸福里一群", "group")
CHAT_B = ChatRef(-1002, "幸福里新群", "supergroup")


@pytest.fixture
async def db(database: dict[str, str]) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(database)
    yield storage
    await storage.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def grids(db: SqlStorage, clock: FakeClock) -> GridService:
    return GridService(db.unit_of_work, clock, frozenset({STAFF}))


@pytest.fixture
def people(db: SqlStorage, clock: FakeClock) -> PeopleService:
    return PeopleService(db.unit_of_work, clock)


async def test_migrations_are_applied_once(tmp_path: Path) -> None:
    first = await SqliteDatabase.open(tmp_path / "m.db")
    version = await first.schema_version()
    await first.close()
    again = await SqliteDatabase.open(tmp_path / "m.db")
    assert await again.schema_version() == version >= 1
    row = await again.fetchone("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    assert await again.integrity_check() == "ok"
    await again.close()


async def test_bind_creates_then_renames(grids: GridService) -> None:
    created = await grids.bind(STAFF, CHAT_A, "G01", "幸福里 第一网格")
    assert created.result is BindResult.CREATED
    assert (created.grid.code, created.grid.name, created.grid.chat_id) == (
        "G01",
        "幸福里 第一网格",
        -1001,
    )
    renamed = await grids.bind(STAFF, CHAT_A, "G01", "幸福里一网格")
    assert renamed.result is BindResult.RENAMED
    assert renamed.grid.name == "幸福里一网格" and renamed.previous is not None
    recoded = await grids.bind(STAFF, CHAT_A, "G1", None)
    assert recoded.result is BindResult.RENAMED
    assert recoded.grid.code == "G1" and recoded.grid.name == "幸福里一网格"
    assert (await grids.bind(STAFF, CHAT_A, "G1", None)).result is BindResult.UNCHANGED
    assert len(await grids.overview()) == 1


async def test_bind_validates_input(grids: GridService) -> None:
    with pytest.raises(UserError) as bad_code:
        await grids.bind(STAFF, CHAT_A, "G 01!", "x")
    assert bad_code.value.code == "bad_grid_code"
    with pytest.raises(UserError) as no_name:
        await grids.bind(STAFF, CHAT_A, "G01", None)
    assert no_name.value.code == "bind_needs_name"
    with pytest.raises(UserError) as long_name:
        await grids.bind(STAFF, CHAT_A, "G01", "长" * 65)
    assert long_name.value.code == "bad_grid_name"
    assert await grids.overview() == []


async def test_moving_a_code_needs_one_confirmation(grids: GridService) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    asked = await grids.bind(STAFF, CHAT_B, "g01", None)
    assert asked.result is BindResult.NEEDS_CONFIRMATION and asked.pending_id
    # Nothing moved until confirmed.
    assert (await grids.grid_for_chat(CHAT_A.chat_id)) is not None
    moved = await grids.confirm_move(STAFF, asked.pending_id, CHAT_B)
    assert moved.result is BindResult.MOVED
    assert moved.grid.chat_id == CHAT_B.chat_id and moved.grid.chat_title == "幸福里新群"
    assert await grids.grid_for_chat(CHAT_A.chat_id) is None
    with pytest.raises(UserError) as twice:
        await grids.confirm_move(STAFF, asked.pending_id, CHAT_B)
    assert twice.value.code == "confirmation_gone"


async def test_confirmation_expires(grids: GridService, clock: FakeClock) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    asked = await grids.bind(STAFF, CHAT_B, "G01", None)
    assert asked.pending_id
    clock.advance(timedelta(hours=1))
    with pytest.raises(UserError) as expired:
        await grids.confirm_move(STAFF, asked.pending_id, CHAT_B)
    assert expired.value.code == "confirmation_expired"
    assert (await grids.grid_for_chat(CHAT_A.chat_id)) is not None


async def test_chat_that_is_a_grid_cannot_take_another_code(grids: GridService) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    await grids.bind(STAFF, CHAT_B, "G02", "二网格")
    with pytest.raises(UserError) as conflict:
        await grids.bind(STAFF, CHAT_B, "G01", None)
    assert conflict.value.code == "chat_already_other_grid"


async def test_unbind_keeps_grid_and_rebind_reattaches(
    grids: GridService, people: PeopleService
) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    await people.seen(
        telegram_id=7,
        display_name="王网格长",
        username="wang",
        language_code="zh-hans",
        in_private_chat=False,
    )
    person = await people.get(7)
    assert person is not None
    await grids.assign_role(STAFF, CHAT_A.chat_id, person, Role.HEAD)
    unbound = await grids.unbind(STAFF, CHAT_A.chat_id)
    assert unbound.code == "G01"
    assert await grids.grid_for_chat(CHAT_A.chat_id) is None
    back = await grids.bind(STAFF, CHAT_B, "G01", None)
    assert back.result is BindResult.REATTACHED and back.grid.chat_id == CHAT_B.chat_id
    overview = await grids.overview()
    assert [p.telegram_id for p in overview[0].heads] == [7]
    with pytest.raises(UserError):
        await grids.unbind(STAFF, CHAT_A.chat_id)


async def test_roles_assign_change_remove(grids: GridService, people: PeopleService) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    await grids.bind(STAFF, CHAT_B, "G02", "二网格")
    await people.seen(
        telegram_id=7, display_name="王", username=None, language_code=None, in_private_chat=False
    )
    person = await people.get(7)
    assert person is not None
    first = await grids.assign_role(STAFF, CHAT_A.chat_id, person, Role.WORKER)
    assert (first.role, first.previous) == (Role.WORKER, None)
    promoted = await grids.assign_role(STAFF, CHAT_A.chat_id, person, Role.HEAD)
    assert promoted.previous is Role.WORKER
    await grids.assign_role(STAFF, CHAT_B.chat_id, person, Role.WORKER)
    roles = await grids.roles_of(7)
    assert {(g.code, r) for g, r in roles.grid_roles} == {("G01", Role.HEAD), ("G02", Role.WORKER)}
    assert not roles.is_staff and (await grids.roles_of(STAFF)).is_staff
    removed = await grids.remove_role(STAFF, CHAT_A.chat_id, person)
    assert removed.previous is Role.HEAD
    with pytest.raises(UserError) as again:
        await grids.remove_role(STAFF, CHAT_A.chat_id, person)
    assert again.value.code == "has_no_role"


async def test_migration_moves_the_grid_atomically_and_idempotently(
    grids: GridService, db: SqlStorage
) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    await grids.bind(STAFF, CHAT_A, "G01", "一网格改")
    moved = await grids.chat_migrated(-1001, -100_777)
    assert moved is not None and moved.code == "G01" and moved.chat_id == -100_777
    again = await grids.chat_migrated(-1001, -100_777)
    assert again is not None and again.id == moved.id
    assert await grids.grid_for_chat(-1001) is None
    rows = await db.db.fetchall("SELECT action FROM audit_log ORDER BY id")
    assert [r["action"] for r in rows] == ["grid.bound", "grid.renamed", "grid.migrated"]


async def test_bot_removed_and_readded(grids: GridService) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    gone = await grids.bot_membership_changed(CHAT_A, is_member=False)
    assert gone is not None and not gone.active
    back = await grids.bot_membership_changed(CHAT_A, is_member=True)
    assert back is not None and back.active


async def test_tags(grids: GridService) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    tagged = await grids.set_tags(STAFF, "g01", ["#幸福社区", "老旧小区", "幸福社区"])
    assert tagged.tags == ("幸福社区", "老旧小区") or set(tagged.tags) == {"幸福社区", "老旧小区"}
    with pytest.raises(UserError) as unknown:
        await grids.set_tags(STAFF, "G99", ["x"])
    assert unknown.value.code == "unknown_grid"


async def test_the_grid_of_a_chat_is_cached_and_every_grid_write_is_seen(
    grids: GridService, db: SqlStorage
) -> None:
    await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    first = await grids.grid_for_chat(CHAT_A.chat_id)
    assert first is not None and first is await grids.grid_for_chat(CHAT_A.chat_id)  # cached
    assert first is await grids.grid(first.id)
    # Each use case that writes grids must be visible at once, through the cache.
    await grids.bind(STAFF, CHAT_A, "G01", "一网格改名")
    renamed = await grids.grid_for_chat(CHAT_A.chat_id)
    assert renamed is not None and renamed.name == "一网格改名"
    tagged = await grids.set_tags(STAFF, "G01", ["老旧小区"])
    assert (await grids.grid(tagged.id)).tags == ("老旧小区",)  # type: ignore[union-attr]
    await grids.bot_membership_changed(CHAT_A, is_member=False)
    assert not (await grids.grid_for_chat(CHAT_A.chat_id)).active  # type: ignore[union-attr]
    await grids.bot_membership_changed(CHAT_A, is_member=True)
    await grids.chat_migrated(CHAT_A.chat_id, -100_777)
    assert await grids.grid_for_chat(CHAT_A.chat_id) is None
    moved = await grids.grid_for_chat(-100_777)
    assert moved is not None and moved.id == first.id and moved.active
    await grids.unbind(STAFF, -100_777)
    assert await grids.grid_for_chat(-100_777) is None


async def test_a_read_inside_a_transaction_after_a_grid_write_is_not_served_stale(
    grids: GridService, db: SqlStorage
) -> None:
    created = await grids.bind(STAFF, CHAT_A, "G01", "一网格")
    assert (await grids.grid_for_chat(CHAT_A.chat_id)) is not None  # now cached
    async with db.unit_of_work() as uow:
        await uow.grids.set_active_by_chat(CHAT_A.chat_id, False, FakeClock().now())
        inside = await grids.grid(created.grid.id)
        assert inside is not None and not inside.active
