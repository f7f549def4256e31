"""Durable timers as the services see them: every reminder, deadline, notice run and digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Timer:
    """One pending (or fired) timer: what kind of thing falls due, for which subject, when."""

    id: int
    kind: str
    ref_id: int
    due_at: datetime
    payload: dict[str, Any]


# (kind, ref_id, due_at, payload), as a timer repository's `add_many` takes them.
NewTimer = tuple[str, int, datetime, dict[str, Any]]
