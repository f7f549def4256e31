"""The unit of work on a real database (SQLite and PostgreSQL): all of a use case or none of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.services.ports import UnitOfWorkFactory
from bot.storage.database import NoUnitOfWork
from bot.storage.unit_of_work import SqlStorage
from tests.conftest import open_storage

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
async def storage(database: dict[str, str]) -> AsyncIterator[SqlStorage]:
    opened = await open_storage(database)
    yield opened
    await opened.close()


async def grid_codes(storage: SqlStorage) -> list[str]:
    async with storage.unit_of_work() as uow:
        return [g.code for g in await uow.grids.all()]


async def test_a_clean_exit_commits_everything(storage: SqlStorage) -> None:
    async with storage.unit_of_work() as uow:
        grid_id = await uow.grids.create(
            code="G01", name="一网格", chat_id=-1, chat_title=None, now=NOW
        )
        await uow.grids.set_tags(grid_id, ["老旧小区"])
    assert await grid_codes(storage) == ["G01"]
    async with storage.unit_of_work() as uow:
        grid = await uow.grids.by_chat(-1)
    assert grid is not None and grid.tags == ("老旧小区",)


async def test_an_exception_rolls_the_whole_use_case_back(storage: SqlStorage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.unit_of_work() as uow:
            await uow.grids.create(code="G01", name="一网格", chat_id=-1, chat_title=None, now=NOW)
            raise RuntimeError("the second half failed")
    assert await grid_codes(storage) == []


async def test_a_use_case_inside_another_joins_its_unit_of_work(
    storage: SqlStorage,
) -> None:
    factory: UnitOfWorkFactory = storage.unit_of_work  # the Protocol the services take
    with pytest.raises(RuntimeError):
        async with factory() as outer:
            await outer.grids.create(
                code="G01", name="一网格", chat_id=-1, chat_title=None, now=NOW
            )
            async with factory() as inner:  # joins: no deadlock, no commit of its own
                await inner.grids.create(
                    code="G02", name="二网格", chat_id=-2, chat_title=None, now=NOW
                )
            raise RuntimeError("the outer use case failed after the inner one")
    assert await grid_codes(storage) == []


async def test_a_write_outside_a_unit_of_work_is_refused(storage: SqlStorage) -> None:
    with pytest.raises(NoUnitOfWork):
        await storage.grids.create(code="G01", name="一网格", chat_id=-1, chat_title=None, now=NOW)
    assert await grid_codes(storage) == []
