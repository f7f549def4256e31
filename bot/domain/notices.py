"""Notices staff broadcast to grids: the command, the states, one run's deliveries.

Pure standard library. A notice is a template (HTML, as the staff member wrote it in
Telegram) with a `Schedule` and `Targets`. Each time it falls due it makes a *run*, and
the run one *delivery* per target grid, each of which ends sent or failed. Rendering the
template is done by `bot.notice_templates` (jinja2's sandbox); here we only build the
plain data a template may see.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.schedule import Schedule, Targets, parse_targets, parse_when

# Standalone words on the command line that switch on pinning in every grid.
PIN_WORDS = frozenset({"pin", "置顶"})
# A draft that waits longer than this for [确认] must be written again.
DRAFT_TTL = timedelta(hours=24)
# Runs of a notice shown by /notice_show, newest first.
RUNS_SHOWN = 5
# Failed deliveries named per run in reports; the rest are counted.
FAILURES_SHOWN = 10


class NoticeStatus(StrEnum):
    """Where a notice is in its life: drafted, scheduled, paused, finished or cancelled."""

    DRAFT = "draft"  # previewed, waiting for [确认]
    ACTIVE = "active"  # confirmed; its next run is a timer
    PAUSED = "paused"  # no timer until /notice_resume
    FINISHED = "finished"  # the schedule has no more runs
    CANCELLED = "cancelled"  # /notice_cancel
    DISCARDED = "discarded"  # [取消] under the preview: never scheduled


class RunStatus(StrEnum):
    """Where one run of a notice is: sending, done, or missed while the bot was down."""

    SENDING = "sending"  # deliveries being sent (resumed after a restart)
    DONE = "done"  # every delivery is sent or failed
    MISSED = "missed"  # fell due while the bot was down, beyond the grace period


class DeliveryStatus(StrEnum):
    """Where one grid's message of a run is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NoticeRequest:
    """`/notice <when> <targets> [pin]` and its text, parsed and checked for form."""

    schedule: Schedule
    targets: Targets
    pin: bool
    text: str


def parse_notice_command(
    first_line: str, text: str, *, now: datetime, tz: ZoneInfo
) -> NoticeRequest:
    """Parse the command line; `text` is the notice (HTML) from the next lines or the reply.

    Raises `ScheduleError` (a UserError) for the schedule and targets, `UserError` for a
    missing text.
    """
    words = first_line.split()
    pin = any(word.casefold() in PIN_WORDS for word in words)
    line = " ".join(word for word in words if word.casefold() not in PIN_WORDS)
    if not line:
        raise UserError("notice_usage")
    schedule, rest = parse_when(line, now=now, tz=tz)
    targets = parse_targets(rest)
    if not text.strip():
        raise UserError("notice_text_missing")
    return NoticeRequest(schedule, targets, pin, text.strip())


_TAG_RE = re.compile(r"<[^>]*>")


def plain_text(text_html: str) -> str:
    """Telegram HTML as the words a reader sees."""
    return html.unescape(_TAG_RE.sub("", text_html))


def first_run(schedule: Schedule, now: datetime) -> datetime | None:
    """When a notice confirmed at `now` first goes out; None if its time has passed."""
    if schedule.kind == "now":
        return now
    runs = schedule.next_runs(now, count=1)
    return runs[0] if runs else None


def is_missed(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """A run that fires more than `grace` after its moment is not sent late: it is missed."""
    return now - due_at > grace


@dataclass(frozen=True, slots=True)
class Notice:
    """A scheduled message to grids, as staff wrote it (HTML with jinja2 placeholders per grid)."""

    id: int
    author_id: int
    text: str  # HTML as written, with jinja2 placeholders
    schedule: Schedule
    targets: Targets
    pin: bool
    status: NoticeStatus
    locale: str
    created_at: datetime
    next_run_at: datetime | None = None

    @property
    def words(self) -> str:
        """The text without tags or entities, for listings."""
        return plain_text(self.text)


@dataclass(frozen=True, slots=True)
class GridHead:
    """A grid head as a notice's placeholders show them ({{ grid.heads }})."""

    name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class TargetGrid:
    """A grid a run delivers to, with what its rendering needs."""

    id: int
    code: str
    name: str
    chat_id: int | None
    tags: tuple[str, ...] = ()
    heads: tuple[GridHead, ...] = ()
    open_tickets: int = 0


def template_context(grid: TargetGrid, today: date) -> dict[str, object]:
    """What a notice template may use: plain strings, ints, lists and dicts, nothing else.

    `{{ grid.code }}`, `{{ grid.name }}`, `{{ grid.tags }}`, `{{ heads }}` (each with
    `name` and `username`), `{{ open_tickets }}`, `{{ today }}` (YYYY-MM-DD, local).
    """
    return {
        "grid": {"code": grid.code, "name": grid.name, "tags": list(grid.tags)},
        "heads": [{"name": h.name, "username": h.username or ""} for h in grid.heads],
        "open_tickets": grid.open_tickets,
        "today": today.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class Failure:
    """A grid a run could not reach, and why (shown in the run's report)."""

    grid_code: str
    grid_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class RunReport:
    """One run as staff see it: counts and why deliveries failed."""

    id: int
    notice_id: int
    due_at: datetime
    status: RunStatus
    total: int = 0
    sent: int = 0
    failed: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failures: tuple[Failure, ...] = field(default_factory=tuple)
    pin_failures: int = 0

    @property
    def pending(self) -> int:
        """Deliveries neither sent nor failed yet."""
        return self.total - self.sent - self.failed

    @property
    def more_failures(self) -> int:
        """Failures beyond those listed by name in the report."""
        return max(0, self.failed - len(self.failures))


_ID_RE = re.compile(r"#?([0-9]{1,9})")


def parse_notice_id(args: str, command: str) -> int:
    """The notice number after `/notice_show` and friends: `12` or `#12`."""
    found = _ID_RE.fullmatch(args.strip())
    if found is None:
        raise UserError("notice_id_usage", command=command)
    return int(found[1])
