"""The closed loop's pure rules: permissions, transitions, time limits, duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.intake import Location
from bot.domain.loop import Action, Actor, SlaPolicy, check, is_overdue, next_level, sort_for_work
from bot.domain.models import Grid, PersonRoles, Role, Urgency
from bot.domain.schedule import Schedule
from bot.domain.tickets import (
    Level,
    Source,
    Ticket,
    TicketStatus,
    is_probable_duplicate,
    similarity,
    subject_words,
)

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
GRID = Grid(id=1, code="G01", name="一网格", chat_id=-1, chat_title=None, active=True)
OTHER = Grid(id=2, code="G02", name="二网格", chat_id=-2, chat_title=None, active=True)


def ticket(**changes: object) -> Ticket:
    base: dict[str, object] = dict(
        id=1,
        grid_id=1,
        reporter_id=100,
        chat_id=-1,
        message_id=5,
        text="3栋电梯又坏了",
        category="property",
        urgency=Urgency.NORMAL,
        location=Location("3"),
        status=TicketStatus.OPEN,
        source=Source.GROUP,
        private=False,
        created_at=NOW,
        updated_at=NOW,
        reasons=("电梯→property",),
    )
    base.update(changes)
    return Ticket(**base)  # type: ignore[arg-type]


def actor(
    *,
    staff: bool = False,
    roles: tuple[tuple[Grid, Role], ...] = (),
    duty: frozenset[Level] = frozenset(),
) -> Actor:
    return Actor(7, PersonRoles(None, staff, roles), duty)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (actor(roles=((GRID, Role.HEAD),)), True),
        (actor(roles=((GRID, Role.WORKER),)), True),
        (actor(roles=((OTHER, Role.HEAD),)), False),
        (actor(staff=True), True),
        (actor(), False),
        (actor(duty=frozenset({Level.COMMUNITY})), False),  # the ticket is still at grid level
    ],
)
def test_who_may_claim_a_grid_level_ticket(who: Actor, allowed: bool) -> None:
    assert (check(Action.CLAIM, ticket(), who) is None) is allowed


def test_duty_staff_act_only_at_their_level() -> None:
    escalated = ticket(level=Level.COMMUNITY)
    assert check(Action.CLAIM, escalated, actor(duty=frozenset({Level.COMMUNITY}))) is None
    assert check(Action.CLAIM, escalated, actor(duty=frozenset({Level.STREET}))) is not None


@pytest.mark.parametrize(
    ("action", "status", "ok"),
    [
        (Action.CLAIM, TicketStatus.OPEN, True),
        (Action.CLAIM, TicketStatus.CLAIMED, False),
        (Action.CLAIM, TicketStatus.REOPENED, True),
        (Action.RESOLVE, TicketStatus.OPEN, True),
        (Action.RESOLVE, TicketStatus.RESOLVED, False),
        (Action.REOPEN, TicketStatus.RESOLVED, True),
        (Action.REOPEN, TicketStatus.CLOSED, True),
        (Action.REOPEN, TicketStatus.OPEN, False),
        (Action.REJECT, TicketStatus.CLOSED, False),
        (Action.NOTE, TicketStatus.CLOSED, True),
    ],
)
def test_transitions_start_only_from_their_states(
    action: Action, status: TicketStatus, ok: bool
) -> None:
    assert (check(action, ticket(status=status), actor(staff=True)) is None) is ok


def test_escalation_stops_at_the_district() -> None:
    assert next_level(Level.GRID) is Level.COMMUNITY
    assert next_level(Level.DISTRICT) is None
    assert check(Action.ESCALATE, ticket(level=Level.DISTRICT), actor(staff=True)) == "top_level"


def test_time_limits_per_urgency_and_category() -> None:
    sla = SlaPolicy(by_category={"environment": (timedelta(hours=2), timedelta(hours=12))})
    assert sla.deadlines(Urgency.EMERGENCY, "safety", NOW) == (
        NOW + timedelta(minutes=10),
        NOW + timedelta(hours=2),
    )
    assert sla.windows(Urgency.NORMAL, "environment") == (timedelta(hours=2), timedelta(hours=12))
    # A category's limits never loosen an emergency's.
    assert sla.windows(Urgency.EMERGENCY, "environment") == (
        timedelta(minutes=10),
        timedelta(hours=2),
    )
    assert sla.reminder_before(NOW, NOW + timedelta(minutes=10)) == NOW + timedelta(minutes=8)


def test_overdue_and_work_order() -> None:
    late = ticket(id=2, claim_due_at=NOW + timedelta(minutes=10))
    assert not is_overdue(late, NOW + timedelta(minutes=9))
    assert is_overdue(late, NOW + timedelta(minutes=11))
    assert is_overdue(ticket(overdue_at=NOW), NOW)  # escalated after a breach stays marked
    assert not is_overdue(ticket(status=TicketStatus.CLOSED, overdue_at=NOW), NOW)
    emergency = ticket(id=3, urgency=Urgency.EMERGENCY, created_at=NOW + timedelta(hours=1))
    older = ticket(id=4, created_at=NOW - timedelta(hours=1))
    assert [t.id for t in sort_for_work([late, emergency, older])] == [3, 4, 2]


def test_duplicates_need_same_category_building_and_subject() -> None:
    first = ticket()
    same = dict(category="property", building="3", now=NOW + timedelta(hours=1))
    assert is_probable_duplicate(
        first, text="3栋的电梯坏了好几天了", reasons=("电梯→property",), **same
    )  # type: ignore[arg-type]
    assert not is_probable_duplicate(first, text="3栋门禁坏了", reasons=("门禁→property",), **same)  # type: ignore[arg-type]
    assert not is_probable_duplicate(
        first,
        text="5栋电梯坏了",
        reasons=("电梯→property",),
        category="property",
        building="5",
        now=NOW,
    )
    assert not is_probable_duplicate(
        first,
        text="3栋电梯坏了",
        reasons=("电梯→property",),
        category="property",
        building="3",
        now=NOW + timedelta(hours=25),
    )
    assert subject_words(("电梯→property", "坏了→problem"), "property") == {"电梯"}
    assert similarity("3栋电梯坏了", "3栋电梯坏了") == 1.0
    assert similarity("", "x") == 0.0


def test_next_digest_is_the_next_local_time() -> None:
    from datetime import time

    daily = Schedule.every_day(time(8, 30), ZoneInfo("Asia/Shanghai"))
    at_0900_local = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert daily.next_runs(at_0900_local, 1) == [datetime(2026, 11, 24, 0, 30, tzinfo=UTC)]
    at_0800_local = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert daily.next_runs(at_0800_local, 1) == [datetime(2026, 11, 23, 0, 30, tzinfo=UTC)]
    assert (daily.shape().form, daily.shape().clock) == ("daily", "08:30")
