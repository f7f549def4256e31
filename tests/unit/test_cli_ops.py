"""The operator's command line: init, --version, backup, demo --db, and exports that fail in
one line (bad dates, a reversed window, a missing folder, no database) or stop quietly
when the reader goes away."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def gridbot(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        **kwargs,
    )  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = gridbot("demo", "--db", str(folder / "demo.db"))
    assert result.returncode == 0, result.stderr
    return folder / "demo.db"


def config_for(tmp_path: Path, db: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[database]\npath = "{db}"\n', encoding="utf-8")
    return path


def test_version() -> None:
    result = gridbot("--version")
    assert result.returncode == 0 and result.stdout.startswith("gridbot 0.")


def test_init_writes_the_commented_example_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    result = gridbot("init", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == (ROOT / "config.example.toml").read_text(
        encoding="utf-8"
    )
    load_config(target)  # what init writes is a valid config
    target.write_text("# mine\n", encoding="utf-8")
    again = gridbot("init", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert gridbot("init", str(target), "--force").returncode == 0


def test_a_missing_config_points_at_init(tmp_path: Path) -> None:
    result = gridbot("check-config", "-c", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and "gridbot init" in result.stderr


def test_demo_refuses_an_existing_database_file(demo_db: Path) -> None:
    before = demo_db.read_bytes()
    result = gridbot("demo", "--db", str(demo_db))
    assert result.returncode == 2
    assert "exists" in result.stderr and "Traceback" not in result.stderr
    assert demo_db.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--since", "2026-13-01", "--until", "2026-12-01"],
            "--since '2026-13-01': expected a date",
        ),
        (["--since", "2026-11-01", "--until", "yesterday"], "--until 'yesterday': expected a date"),
        (["--since", "2026-12-01", "--until", "2026-11-01"], "is after --until"),
        (
            ["--since", "2026-11-01", "--until", "2026-11-30", "-o", "no/such/folder/x.csv"],
            "the folder 'no/such/folder' does not exist",
        ),
    ],
)
def test_export_mistakes_are_one_line(
    tmp_path: Path, demo_db: Path, args: list[str], expected: str
) -> None:
    result = gridbot("export", "-c", str(config_for(tmp_path, demo_db)), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "config error" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_export_without_a_database_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = gridbot(
        "export",
        "-c",
        str(config_for(tmp_path, missing)),
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-30",
    )
    assert result.returncode == 2 and "no database there" in result.stderr
    assert not missing.exists()
    stats = gridbot("stats", "-c", str(config_for(tmp_path, missing)))
    assert stats.returncode == 2 and not missing.exists()


def test_open311_is_utf8_even_under_an_ascii_locale(tmp_path: Path, demo_db: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "-c",
            str(config_for(tmp_path, demo_db)),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
            "--format",
            "open311",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        env={
            **os.environ,
            "LC_ALL": "C",
            "LANG": "C",
            "PYTHONIOENCODING": "ascii",
            "PYTHONUTF8": "0",
        },
    )
    assert result.returncode == 0, result.stderr
    body = result.stdout.decode("utf-8")
    assert "\\u" not in body and "物业管理" in body
    assert json.loads(body)[0]["service_code"]


def test_export_into_a_closed_pipe_stops_quietly(tmp_path: Path, demo_db: Path) -> None:
    big = tmp_path / "big.db"
    source = sqlite3.connect(demo_db)
    copy = sqlite3.connect(big)
    source.backup(copy)
    source.close()
    # Enough rows to overflow the pipe buffer after the reader is gone.
    columns = [r[1] for r in copy.execute("PRAGMA table_info(tickets)") if r[1] != "id"]
    names = ", ".join(columns)
    for _ in range(11):
        copy.execute(f"INSERT INTO tickets ({names}) SELECT {names} FROM tickets")
    copy.commit()
    copy.close()
    config = config_for(tmp_path, big)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "-c",
            str(config),
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # `| head -1`
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err and "never retrieved" not in err


def test_backup_copies_a_consistent_database(tmp_path: Path, demo_db: Path) -> None:
    target = tmp_path / "backup.db"
    result = gridbot("backup", str(target), "-c", str(config_for(tmp_path, demo_db)))
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stderr
    copy = sqlite3.connect(target)
    original = sqlite3.connect(demo_db)
    try:
        assert (
            copy.execute("SELECT count(*) FROM tickets").fetchone()
            == original.execute("SELECT count(*) FROM tickets").fetchone()
        )
        assert (
            copy.execute("PRAGMA user_version").fetchone()
            == original.execute("PRAGMA user_version").fetchone()
        )
    finally:
        copy.close()
        original.close()
    onto_itself = gridbot("backup", str(demo_db), "-c", str(config_for(tmp_path, demo_db)))
    assert onto_itself.returncode == 2 and "live database" in onto_itself.stderr
    nowhere = gridbot(
        "backup", str(tmp_path / "no" / "b.db"), "-c", str(config_for(tmp_path, demo_db))
    )
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
