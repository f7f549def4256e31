"""Grids, their tags and the people who serve them (heads, workers)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.models import Grid, GridOverview, Locale, Membership, Person, Role
from bot.storage.database import Database, Row, from_epoch, to_epoch

_GRID_COLUMNS = "g.id, g.code, g.name, g.chat_id, g.chat_title, g.active, g.locale, g.created_at"


def _grid_from_row(row: Row, tags: Iterable[str] = ()) -> Grid:
    return Grid(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        chat_id=row["chat_id"],
        chat_title=row["chat_title"],
        active=bool(row["active"]),
        locale=Locale(row["locale"]) if row["locale"] else None,
        tags=tuple(sorted(tags)),
        created_at=from_epoch(row["created_at"]),
    )


def person_from_row(row: Row, prefix: str = "") -> Person:
    """A Person from a row of `people` columns (with `prefix` when joined under an alias)."""
    return Person(
        telegram_id=row[f"{prefix}telegram_id"],
        display_name=row[f"{prefix}display_name"],
        username=row[f"{prefix}username"],
        has_private_chat=bool(row[f"{prefix}has_private_chat"]),
    )


class GridRepository:
    """Grids by id, code and chat, with the grid of each chat cached.

    Every group message asks which grid its chat is; grids change a few times a year.
    The cache follows `Database.version("grids")`, which every write below declares.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cached_version = -1
        self._by_chat: dict[int, Grid] = {}
        self._by_id: dict[int, Grid] = {}

    async def _tags_for(self, grid_ids: list[int]) -> dict[int, list[str]]:
        tags: dict[int, list[str]] = defaultdict(list)
        if not grid_ids:
            return tags
        marks = ",".join("?" * len(grid_ids))
        for row in await self._db.fetchall(
            f"SELECT grid_id, tag FROM grid_tags WHERE grid_id IN ({marks})", grid_ids
        ):
            tags[row["grid_id"]].append(row["tag"])
        return tags

    async def _one(self, where: str, params: tuple[Any, ...]) -> Grid | None:
        row = await self._db.fetchone(f"SELECT {_GRID_COLUMNS} FROM grids g WHERE {where}", params)
        if row is None:
            return None
        tags = await self._tags_for([row["id"]])
        return _grid_from_row(row, tags[row["id"]])

    def _current_version(self) -> int:
        version = self._db.version("grids")
        if version != self._cached_version:
            self._by_chat.clear()
            self._by_id.clear()
            self._cached_version = version
        return version

    async def _cached(self, cache: dict[int, Grid], key: int, where: str) -> Grid | None:
        version = self._current_version()
        if key in cache:
            return cache[key]
        grid = await self._one(where, (key,))
        # Only grids are kept (not "no grid here"), so the cache is bounded by their number.
        if grid is not None and self._db.version("grids") == version:
            self._by_id[grid.id] = grid
            if grid.chat_id is not None:
                self._by_chat[grid.chat_id] = grid
        return grid

    async def by_id(self, grid_id: int) -> Grid | None:
        """The grid with this id, or None; cached until a grid changes."""
        return await self._cached(self._by_id, grid_id, "g.id = ?")

    async def by_code(self, code: str) -> Grid | None:
        """The grid with this code, or None."""
        return await self._one("g.code = ?", (code,))

    async def by_chat(self, chat_id: int) -> Grid | None:
        """The grid bound to a chat, or None; cached until a grid changes (every group message
        asks).
        """
        return await self._cached(self._by_chat, chat_id, "g.chat_id = ?")

    async def all(self) -> list[Grid]:
        """Every grid with its tags, by code."""
        rows = await self._db.fetchall(f"SELECT {_GRID_COLUMNS} FROM grids g ORDER BY g.code")
        tags = await self._tags_for([r["id"] for r in rows])
        return [_grid_from_row(r, tags[r["id"]]) for r in rows]

    async def overview(self) -> list[GridOverview]:
        """Every grid with its heads and workers (/grids)."""
        grids = await self.all()
        members = await self.members_of([g.id for g in grids])
        return [
            GridOverview(
                grid=g,
                heads=tuple(m.person for m in members[g.id] if m.role is Role.HEAD),
                workers=tuple(m.person for m in members[g.id] if m.role is Role.WORKER),
            )
            for g in grids
        ]

    async def members_of(self, grid_ids: list[int]) -> dict[int, list[Membership]]:
        """The members (person, role, who assigned them) of each of these grids."""
        result: dict[int, list[Membership]] = defaultdict(list)
        if not grid_ids:
            return result
        marks = ",".join("?" * len(grid_ids))
        rows = await self._db.fetchall(
            "SELECT m.grid_id, m.role, m.assigned_by, m.assigned_at, p.telegram_id, "
            "p.display_name, p.username, p.has_private_chat FROM memberships m "
            "JOIN people p ON p.telegram_id = m.telegram_id "
            f"WHERE m.grid_id IN ({marks}) ORDER BY m.assigned_at, p.telegram_id",
            grid_ids,
        )
        for row in rows:
            result[row["grid_id"]].append(
                Membership(
                    grid_id=row["grid_id"],
                    person=person_from_row(row),
                    role=Role(row["role"]),
                    assigned_by=row["assigned_by"],
                    assigned_at=from_epoch(row["assigned_at"]),
                )
            )
        return result

    async def roles_of(self, telegram_id: int) -> list[tuple[Grid, Role]]:
        """Every grid a person has a role in, with that role, by grid code."""
        rows = await self._db.fetchall(
            f"SELECT {_GRID_COLUMNS}, m.role FROM memberships m JOIN grids g ON g.id = m.grid_id "
            "WHERE m.telegram_id = ? ORDER BY g.code",
            (telegram_id,),
        )
        tags = await self._tags_for([r["id"] for r in rows])
        return [(_grid_from_row(r, tags[r["id"]]), Role(r["role"])) for r in rows]

    async def duty_levels_of(self, telegram_id: int) -> list[str]:
        """The escalation levels at which a person is on duty."""
        rows = await self._db.fetchall(
            "SELECT level FROM duty_staff WHERE telegram_id = ? ORDER BY level", (telegram_id,)
        )
        return [r["level"] for r in rows]

    async def role_in(self, grid_id: int, telegram_id: int) -> Role | None:
        """The person's role in a grid, or None when they have none."""
        row = await self._db.fetchone(
            "SELECT role FROM memberships WHERE grid_id = ? AND telegram_id = ?",
            (grid_id, telegram_id),
        )
        return Role(row["role"]) if row else None

    # --- writes: each takes the caller's transaction so a use case commits as one ---

    async def create(
        self,
        *,
        code: str,
        name: str,
        chat_id: int,
        chat_title: str | None,
        now: datetime,
    ) -> int:
        """Bind a new active grid to a chat; its id."""
        self._db.touches("grids")
        rows = await self._db.execute_returning(
            "INSERT INTO grids (code, name, chat_id, chat_title, active, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id",
            (code, name, chat_id, chat_title, to_epoch(now), to_epoch(now)),
        )
        return int(rows[0][0])

    async def update_binding(
        self,
        grid_id: int,
        *,
        code: str,
        name: str,
        chat_id: int | None,
        chat_title: str | None,
        active: bool,
        now: datetime,
    ) -> None:
        """Rewrite a grid's code, name, chat and active flag (rebinding, unbinding)."""
        self._db.touches("grids")
        await self._db.execute(
            "UPDATE grids SET code = ?, name = ?, chat_id = ?, chat_title = ?, active = ?, "
            "updated_at = ? WHERE id = ?",
            (code, name, chat_id, chat_title, int(active), to_epoch(now), grid_id),
        )

    async def set_active_by_chat(self, chat_id: int, active: bool, now: datetime) -> int:
        """Activate or deactivate the grid of a chat (the bot was added or removed); how many
        changed.
        """
        self._db.touches("grids")
        return await self._db.execute(
            "UPDATE grids SET active = ?, updated_at = ? WHERE chat_id = ? AND active != ?",
            (int(active), to_epoch(now), chat_id, int(active)),
        )

    async def set_tags(self, grid_id: int, tags: Iterable[str]) -> None:
        """Replace a grid's tags (the names notices target it by)."""
        self._db.touches("grids")  # a Grid carries its tags
        await self._db.execute("DELETE FROM grid_tags WHERE grid_id = ?", (grid_id,))
        await self._db.executemany(
            "INSERT INTO grid_tags (grid_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(grid_id, t) for t in tags],
        )

    async def set_role(
        self,
        grid_id: int,
        telegram_id: int,
        role: Role,
        *,
        by: int | None,
        now: datetime,
    ) -> Role | None:
        """Give the person this role in the grid; return the role they had before."""
        row = await self._db.fetchone(
            "SELECT role FROM memberships WHERE grid_id = ? AND telegram_id = ?",
            (grid_id, telegram_id),
        )
        await self._db.execute(
            "INSERT INTO memberships (grid_id, telegram_id, role, assigned_by, assigned_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (grid_id, telegram_id) DO UPDATE SET "
            "role = excluded.role, assigned_by = excluded.assigned_by, "
            "assigned_at = excluded.assigned_at",
            (grid_id, telegram_id, role.value, by, to_epoch(now)),
        )
        return Role(row["role"]) if row else None

    async def remove_role(self, grid_id: int, telegram_id: int) -> Role | None:
        """Take away the person's role in the grid; the role they had, or None."""
        rows = await self._db.execute_returning(
            "DELETE FROM memberships WHERE grid_id = ? AND telegram_id = ? RETURNING role",
            (grid_id, telegram_id),
        )
        return Role(rows[0]["role"]) if rows else None


class AuditLog:
    """Who changed which grid, binding or role, and when."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        at: datetime,
        actor_id: int | None,
        action: str,
        grid_id: int | None,
        **detail: Any,
    ) -> None:
        """Append who did what to which grid, with the details as JSON."""
        await self._db.execute(
            "INSERT INTO audit_log (at, actor_id, action, grid_id, detail) VALUES (?, ?, ?, ?, ?)",
            (to_epoch(at), actor_id, action, grid_id, json.dumps(detail, ensure_ascii=False)),
        )


class DutyChatRepository:
    """Each escalation level's duty chat, as staff set it with /setduty."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cached: tuple[int, dict[str, int]] = (-1, {})

    async def all(self) -> dict[str, int]:
        """Read at most once per change (`Database.version`): every alert and card asks."""
        version = self._db.version("duty_chats")
        if self._cached[0] != version:
            rows = await self._db.fetchall("SELECT level, chat_id FROM duty_chats")
            self._cached = (version, {str(row["level"]): int(row["chat_id"]) for row in rows})
        return dict(self._cached[1])

    async def set(self, level: str, chat_id: int, by: int, now: datetime) -> None:
        """Make a chat the duty chat of an escalation level (replacing the previous one)."""
        self._db.touches("duty_chats")
        await self._db.execute(
            "INSERT INTO duty_chats (level, chat_id, set_by, set_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (level) DO UPDATE SET chat_id = excluded.chat_id, "
            "set_by = excluded.set_by, set_at = excluded.set_at",
            (level, chat_id, by, to_epoch(now)),
        )
