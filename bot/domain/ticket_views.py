"""What a viewer of the staff console may see, and the filters of its ticket list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    """The tickets a viewer may see: every grid (None), or these grids plus these levels."""

    grid_ids: tuple[int, ...] | None
    levels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """What the console's ticket list is narrowed to; the defaults narrow nothing."""

    grid_id: int | None = None
    status: str | None = None  # a TicketStatus value, or "open" for every open state
    category: str | None = None
    urgency: str | None = None
    overdue: bool = False
    text: str = ""
