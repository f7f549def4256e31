"""The layers' walls, checked on the source: what may import storage, and what may not.

Handlers, the code that sends messages, the web console and the services reach storage
only through the services and their ports (bot.services.ports): a handler that imports
bot.storage — a repository, `Database`, `Transaction` — fails here. Only the wiring
(bot.app, bot.cli, the offline harness) builds the storage adapter.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIRING = {"bot/app.py", "bot/cli.py", "bot/offline.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def above_storage() -> list[Path]:
    """Every module that must not see storage: all of handlers/ and bot/ outside storage,
    the domain and the wiring."""
    files = sorted((ROOT / "handlers").rglob("*.py")) + sorted((ROOT / "bot").rglob("*.py"))
    return [
        f
        for f in files
        if not f.relative_to(ROOT).as_posix().startswith(("bot/storage/", "bot/emulator/"))
        and f.relative_to(ROOT).as_posix() not in WIRING
    ]


@pytest.mark.parametrize("path", above_storage(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nothing_above_storage_imports_it(path: Path) -> None:
    storage = sorted(
        m for m in imported_modules(path) if m == "bot.storage" or m.startswith("bot.storage.")
    )
    assert not storage, f"{path.relative_to(ROOT)} imports {storage}: go through a service"


def test_the_check_sees_handlers_and_services() -> None:
    checked = {p.relative_to(ROOT).as_posix() for p in above_storage()}
    assert {
        "handlers/resident.py",
        "handlers/grid_head.py",
        "handlers/loop_timers.py",
        "bot/services/tickets.py",
        "bot/notifications.py",
    } <= checked


def test_the_check_fails_on_a_storage_import(tmp_path: Path) -> None:
    handler = tmp_path / "handler.py"
    handler.write_text(
        "async def f():\n    from bot.storage.database import Transaction\n", encoding="utf-8"
    )
    assert "bot.storage.database" in imported_modules(handler)


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    for path in sorted((ROOT / "bot" / "domain").rglob("*.py")):
        ours = {m for m in imported_modules(path) if m.split(".")[0] in {"bot", "handlers"}}
        outside = {m for m in ours if not m.startswith("bot.domain")}
        assert not outside, f"{path.relative_to(ROOT)} imports {sorted(outside)}"
        assert not {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in {"telegram", "aiosqlite", "sqlite3"}
        }, path
