"""The grid world as plain data: grids, people, their roles.

Pure standard library; storage turns rows into these and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a person is in one grid. Staff is global (from config), not stored per grid."""

    HEAD = "head"  # 网格长
    WORKER = "worker"  # 网格员


class Urgency(StrEnum):
    """How fast a request must be answered; drives deadlines and alerts."""

    EMERGENCY = "emergency"
    HIGH = "high"
    NORMAL = "normal"


class Locale(StrEnum):
    """The languages the bot speaks (a template folder each)."""

    ZH_CN = "zh-CN"
    EN = "en"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the bot has seen in any chat."""

    telegram_id: int
    display_name: str
    username: str | None = None
    has_private_chat: bool = False

    @property
    def mention_name(self) -> str:
        """How to name the person in a message: @username, else their display name."""
        return f"@{self.username}" if self.username else self.display_name


@dataclass(frozen=True, slots=True)
class Grid:
    """One 网格 and the group chat that serves it ("one grid, one group chat")."""

    id: int
    code: str
    name: str
    chat_id: int | None
    chat_title: str | None
    active: bool
    locale: Locale | None = None
    tags: tuple[str, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    """A person's role in one grid."""

    grid_id: int
    person: Person
    role: Role
    assigned_by: int | None = None
    assigned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GridOverview:
    """A grid with the people who run it, for listings."""

    grid: Grid
    heads: tuple[Person, ...] = ()
    workers: tuple[Person, ...] = ()


@dataclass(frozen=True, slots=True)
class PersonRoles:
    """Everything a person may do: staff flag plus per-grid roles."""

    person: Person | None
    is_staff: bool
    grid_roles: tuple[tuple[Grid, Role], ...] = field(default_factory=tuple)
    duty_levels: tuple[str, ...] = ()  # escalation levels this person has duty at

    def roles_in(self, grid_id: int) -> set[Role]:
        """The roles the person holds in one grid."""
        return {role for grid, role in self.grid_roles if grid.id == grid_id}

    def serves(self, grid_id: int) -> bool:
        """Whether the person is a head or worker of the grid."""
        return bool(self.roles_in(grid_id))


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A question waiting for its answer (a move to confirm, a closing note to write)."""

    id: int
    kind: str
    chat_id: int
    actor_id: int
    payload: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    done_at: datetime | None
