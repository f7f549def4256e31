"""`gridbot migrate-db`: a street's SQLite file into PostgreSQL, twice without harm, verified."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage.unit_of_work import SqlStorage
from tests.conftest import PostgresServer
from tests.unit.test_postgres import NOW, _new_ticket

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgresql


@pytest.fixture
async def url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name, url = await server.fresh()
    yield url
    await server.drop(name)


async def a_street(path: Path) -> None:
    storage = await SqlStorage.open(path)
    async with storage.unit_of_work() as uow:
        grid_id = await uow.grids.create(
            code="G01", name="幸福里", chat_id=-1, chat_title="幸福里群", now=NOW
        )
        await uow.grids.set_tags(grid_id, ["幸福社区"])
        for n in range(5):
            ticket = await uow.tickets.create(_new_ticket(grid_id, n))
            await uow.timers.add("ticket.claim", ticket.id, NOW + timedelta(hours=1))
    await storage.close()


def migrate(source: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate-db", "--from", str(source), "--to", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_street_moves_into_postgresql_once_however_often_it_runs(
    tmp_path: Path, url: str
) -> None:
    source = tmp_path / "street.db"
    await a_street(source)
    first = migrate(source, url)
    assert first.returncode == 0, first.stderr
    assert "counts verified" in first.stderr
    assert any(line.split()[:4] == ["tickets", "5", "→", "5"] for line in first.stdout.splitlines())
    again = migrate(source, url)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout

    city = await SqlStorage.open_url(url)
    try:
        async with city.unit_of_work() as uow:
            grid = await uow.grids.by_code("g01")
            assert grid is not None and grid.tags == ("幸福社区",)
            ticket = await uow.tickets.get(3)
            assert ticket is not None and ticket.text == "第2件"
            assert len(await uow.timers.pending("ticket.claim")) == 5
            # Numbering carries on after the street's tickets.
            assert (await uow.tickets.create(_new_ticket(grid.id, 9))).id == 6
    finally:
        await city.close()


async def test_a_target_holding_another_streets_grids_is_refused(tmp_path: Path, url: str) -> None:
    source = tmp_path / "street.db"
    await a_street(source)
    city = await SqlStorage.open_url(url)
    async with city.unit_of_work() as uow:
        await uow.grids.create(code="X9", name="别处", chat_id=-9, chat_title=None, now=NOW)
    await city.close()
    result = migrate(source, url)
    assert result.returncode == 1
    assert "the target already holds other grids (X9)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_mistyped_source_or_url_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = migrate(tmp_path / "nope.db", "postgresql://a@b/c")
    assert missing.returncode == 2 and "no SQLite database there" in missing.stderr
    assert not (tmp_path / "nope.db").exists()
    (tmp_path / "x.db").touch()
    wrong = migrate(tmp_path / "x.db", "mysql://a:pw@b/c")
    assert wrong.returncode == 2 and "--to: expected postgresql://" in wrong.stderr
    assert "pw" not in wrong.stderr
