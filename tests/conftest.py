"""Test-wide settings, and the storage backends the conformance suite runs on.

A test that takes the `database` fixture gets the `[database]` table of a fresh, empty,
migrated database: an SQLite file in its tmp_path, and — in the storage and service
tests and in the e2e modules marked `both_backends` — also a PostgreSQL database of its
own, made from a migrated template (CREATE DATABASE … TEMPLATE, a few milliseconds) and
dropped after. The server is the one on 127.0.0.1:5432 (or $GRIDBOT_TEST_DATABASE_URL). Where none
answers, a throwaway server is started from the local PostgreSQL binaries (initdb, pg_ctl:
what pytest-postgresql does, without its psycopg dependency) and removed at the end; only
where neither works do the PostgreSQL cases skip, saying why.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.storage.unit_of_work import SqlStorage

# PTB 22 warns on every RetryAfter unless told to use timedelta durations (its future default).
os.environ.setdefault("PTB_TIMEDELTA", "1")

# Both backends for every test taking `database` under these folders; e2e modules opt in.
BOTH_BACKENDS_DIRS = ("tests/unit/",)
SERVER_URL_ENV = "GRIDBOT_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs on a PostgreSQL server")
    config.addinivalue_line(
        "markers", "both_backends: the module's `database` tests run on SQLite and PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" not in metafunc.fixturenames:
        return
    path = Path(str(metafunc.definition.fspath)).as_posix()
    both = any(f"/{d}" in path for d in BOTH_BACKENDS_DIRS) or any(
        m.name == "both_backends" for m in metafunc.definition.iter_markers()
    )
    backends = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
    metafunc.parametrize("database", backends if both else ["sqlite"], indirect=True)


def _candidate_urls() -> list[str]:
    given = os.environ.get(SERVER_URL_ENV)
    if given:
        return [given]
    users = dict.fromkeys([getpass.getuser(), "postgres", "root"])
    return [f"postgresql://{user}@127.0.0.1:5432/test" for user in users]


def run_blocking(coroutine: Coroutine[object, object, object]) -> object:
    """Run a coroutine to the end on a loop of its own (the caller may be inside a test's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class PostgresServer:
    """A reachable server: a migrated template database, and fresh databases made from it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"gridbot_template_{os.getpid()}"
        self._numbers = itertools.count()

    async def _admin(self, *statements: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url)
        try:
            for sql in statements:
                await conn.execute(sql)
        finally:
            await conn.close()

    async def make_template(self) -> None:
        from bot.storage.postgres import PostgresDatabase

        await self._admin(
            f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)",
            f"CREATE DATABASE {self.template}",
        )
        db = await PostgresDatabase.open(_with_database(self.admin_url, self.template))
        await db.close()

    async def drop_template(self) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)")

    async def fresh(self) -> tuple[str, str]:
        """A new migrated database: its name and url."""
        name = f"gridbot_test_{os.getpid()}_{next(self._numbers)}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name, _with_database(self.admin_url, name)

    async def drop(self, name: str) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _reachable() -> tuple[str | None, str]:
    try:
        import asyncpg
    except ImportError:
        return None, "asyncpg is not installed"
    reasons = []
    for url in _candidate_urls():
        try:
            conn = await asyncio.wait_for(asyncpg.connect(url), 5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            reasons.append(f"{url}: {exc}")
            continue
        await conn.close()
        return url, ""
    return None, "no PostgreSQL server answers (" + "; ".join(reasons) + ")"


def _initdb() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve()
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return installed[-1] if installed else None


class ThrowawayServer:
    """A PostgreSQL server in a temporary folder, on a free port, for this test session."""

    def __init__(self, initdb: Path) -> None:
        self.bin = initdb.parent
        self.folder = Path(tempfile.mkdtemp(prefix="gridbot-pg-"))
        self.data = self.folder / "data"
        # PostgreSQL refuses to run as root: then it runs as the postgres account.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root, and no postgres account to run it as"
                ) from None
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-F -h 127.0.0.1 -p {self.port} -k {self.folder}"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.folder / "log"),
            "start",
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url, reason = run_blocking(_reachable())  # type: ignore[misc]
    throwaway: ThrowawayServer | None = None
    if url is None:
        initdb = _initdb()
        if initdb is None:
            pytest.skip(
                f"PostgreSQL tests skipped: {reason}, and no PostgreSQL binaries (initdb) to "
                f"start one; set ${SERVER_URL_ENV}"
            )
        try:
            throwaway = ThrowawayServer(initdb)
            url = throwaway.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            if throwaway is not None:
                throwaway.stop()
            pytest.skip(f"PostgreSQL tests skipped: {reason}; a throwaway server failed: {exc}")
    server = PostgresServer(url)
    try:
        run_blocking(server.make_template())
        yield server
        run_blocking(server.drop_template())
    finally:
        if throwaway is not None:
            throwaway.stop()


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The [database] table of a fresh database on the backend this case runs on."""
    if request.param == "sqlite":
        yield {"path": str(tmp_path / "gridbot.db")}
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name, url = await server.fresh()
    try:
        yield {"url": url}
    finally:
        await server.drop(name)


async def open_storage(database: dict[str, str]) -> SqlStorage:
    """The storage on a `database` fixture's database."""
    return await SqlStorage.open_configured(path=database.get("path", ""), url=database.get("url"))
