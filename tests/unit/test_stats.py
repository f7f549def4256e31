"""Figures checked against hand-computed expectations on a small fixed data set."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.charts import weekly_chart
from bot.domain.clock import FakeClock
from bot.domain.errors import UserError
from bot.domain.exports import CSV_COLUMNS
from bot.domain.models import PersonRoles, Role
from bot.domain.stats import parse_period
from bot.services.grids import ChatRef, GridService
from bot.services.stats import StatsService
from tests.conftest import open_storage

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
DAY = 86400
T0 = int(datetime(2026, 11, 10, 1, 0, tzinfo=UTC).timestamp())  # 09:00 local, Nov 10


def labels(code: str) -> str:
    return {"property": "物业管理", "environment": "环境卫生", "safety": "安全隐患"}.get(code, code)


# id, grid, category, urgency, status, closure, created, claimed, resolved, closed,
# claim_late, resolve_late, reopened, satisfaction, overdue_at, claim_due, resolve_due
TICKETS = [
    # G01: claimed in 10 min, resolved in 2 h, confirmed, scored 5.
    (
        1,
        1,
        "property",
        "normal",
        "closed",
        "confirmed",
        T0,
        T0 + 600,
        T0 + 7200,
        T0 + 8000,
        0,
        0,
        0,
        5.0,
        None,
        T0 + DAY,
        T0 + 3 * DAY,
    ),
    # G01: claimed in 30 min, resolved after its limit, reopened once, closed by timeout, 3.
    (
        2,
        1,
        "property",
        "high",
        "closed",
        "confirmed_by_timeout",
        T0 + 100,
        T0 + 1900,
        T0 + 100 + 2 * DAY,
        T0 + 4 * DAY,
        0,
        1,
        1,
        3.0,
        T0 + DAY,
        T0 + 3700,
        T0 + DAY,
    ),
    # G01: emergency never claimed in time: escalated, still open and overdue.
    (
        3,
        1,
        "safety",
        "emergency",
        "open",
        None,
        T0 + 200,
        None,
        None,
        None,
        1,
        0,
        0,
        None,
        T0 + 800,
        NOW.timestamp() + 600,
        NOW.timestamp() + 7200,
    ),
    # G01: withdrawn as not a report: not counted at all.
    (
        4,
        1,
        "property",
        "normal",
        "closed",
        "not_a_request",
        T0 + 300,
        None,
        None,
        T0 + 400,
        0,
        0,
        0,
        None,
        None,
        T0 + DAY,
        T0 + 3 * DAY,
    ),
    # G02: rejected as not ours after a 1-hour claim.
    (
        5,
        2,
        "environment",
        "normal",
        "closed",
        "not_ours",
        T0 + 400,
        T0 + 4000,
        None,
        T0 + 5000,
        0,
        0,
        0,
        None,
        None,
        T0 + DAY,
        T0 + 3 * DAY,
    ),
    # G02: last month: outside the period.
    (
        6,
        2,
        "environment",
        "normal",
        "closed",
        "confirmed",
        T0 - 30 * DAY,
        T0 - 30 * DAY + 60,
        T0 - 29 * DAY,
        T0 - 28 * DAY,
        0,
        0,
        0,
        1.0,
        None,
        T0,
        T0,
    ),
]


@pytest.fixture
async def service(database: dict[str, str]) -> AsyncIterator[StatsService]:
    storage = await open_storage(database)
    db = storage.db
    clock = FakeClock(NOW)
    grids = GridService(storage.unit_of_work, clock, frozenset({1}))
    await grids.bind(1, ChatRef(-1, "一群", "group"), "G01", "一网格")
    await grids.bind(1, ChatRef(-2, "二群", "group"), "G02", "二网格")
    async with db.transaction() as tx:  # rows as they would be after a month of use
        for row in TICKETS:
            (
                tid,
                grid,
                cat,
                urg,
                status,
                closure,
                created,
                claimed,
                resolved,
                closed,
                claim_late,
                resolve_late,
                reopened,
                score,
                overdue,
                claim_due,
                resolve_due,
            ) = row
            await tx.execute(
                "INSERT INTO tickets (id, grid_id, reporter_id, chat_id, message_id, text, "
                "category, urgency, building, status, source, closure, created_at, updated_at, "
                "claimed_at, resolved_at, closed_at, claim_late, resolve_late, reopened, "
                "satisfaction, overdue_at, claim_due_at, resolve_due_at) VALUES "
                "(?, ?, 100, ?, ?, '电话13812345678 张三家', ?, ?, '3', ?, 'group', ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    tid,
                    grid,
                    -grid,
                    tid,
                    cat,
                    urg,
                    status,
                    closure,
                    created,
                    created,
                    claimed,
                    resolved,
                    closed,
                    claim_late,
                    resolve_late,
                    reopened,
                    score,
                    overdue,
                    int(claim_due),
                    int(resolve_due),
                ),
            )
        # Verifications: ticket 1 asked 1 answered 1; ticket 2 asked 2 (round 1 and 2), one
        # answered; ticket 5 none.
        await tx.executemany(
            "INSERT INTO ticket_verifications (ticket_id, round, telegram_id, asked_at, "
            "answered_at) VALUES (?, ?, ?, ?, ?)",
            [(1, 1, 100, T0, T0 + 10), (2, 1, 100, T0, T0 + 10), (2, 2, 100, T0, None)],
        )
        await tx.executemany(
            "INSERT INTO patrol_logs (grid_id, author_id, text, at) VALUES (?, 7, 'x', ?)",
            [(1, T0), (1, T0 + 10), (2, T0 - 40 * DAY)],
        )
    yield StatsService(storage.stats, clock, grids, TZ, labels)
    await storage.close()


async def test_month_figures_per_grid_and_in_total(service: StatsService) -> None:
    report = await service.report(service.period("2026-11"), None)
    g01, g02 = (g.figures for g in report.grids)
    assert g01.received == 3  # ticket 4 was withdrawn
    assert g01.by_category == {"property": 2, "safety": 1}
    assert g01.by_urgency == {"normal": 1, "high": 1, "emergency": 1}
    assert g01.closed == 2 and g01.closure_rate == pytest.approx(2 / 3)
    assert g01.by_closure == {"confirmed": 1, "confirmed_by_timeout": 1}
    # Claims: 1 and 2 on time, 3 missed its limit → 2 of 3.
    assert (g01.claim_on_time, g01.claim_counted) == (2, 3)
    # Resolves: 1 on time, 2 late; 3 never resolved and its limit has not passed → 1 of 2.
    assert (g01.resolve_on_time, g01.resolve_counted) == (1, 2)
    assert g01.median_claim_seconds == (600 + 1800) / 2
    assert g01.median_resolve_seconds == (7200 + 2 * DAY) / 2
    assert g01.reopened == 1
    assert g01.satisfaction == 4.0
    assert (g01.verifications_answered, g01.verifications_asked) == (2, 3)
    assert g01.overdue_now == 1 and g01.patrol_logs == 2
    assert g02.received == 1 and g02.by_closure == {"not_ours": 1}
    assert (g02.claim_on_time, g02.claim_counted) == (1, 1)
    assert g02.resolve_counted == 0 and g02.resolve_on_time_rate is None
    assert g02.satisfaction is None and g02.patrol_logs == 0
    total = report.total
    assert total.received == 4 and total.closed == 3
    assert total.median_claim_seconds == 1800  # 600, 1800, 3600
    assert total.by_category == {"property": 2, "safety": 1, "environment": 1}


async def test_periods_and_visibility(service: StatsService) -> None:
    october = await service.report(service.period("2026-10"), None)
    assert october.total.received == 1 and october.total.satisfaction == 1.0
    today = parse_period("today", NOW, TZ)
    assert today.start == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    with pytest.raises(UserError):
        service.period("yesterday-ish")
    g01 = (await service.report(service.period("2026-11"), None)).grids[0].grid
    head = PersonRoles(None, False, ((g01, Role.HEAD),))
    assert [g.code for g in await service.visible_grids(head, None, None)] == ["G01"]
    with pytest.raises(UserError):
        await service.visible_grids(head, "G02", None)  # grid A's head cannot read grid B
    staff = PersonRoles(None, True)
    assert len(await service.visible_grids(staff, "all", None)) == 2


async def test_csv_export_opens_in_excel_and_carries_no_personal_data(
    service: StatsService,
) -> None:
    period = service.period("2026-11")
    out = io.StringIO()
    count = await service.export("csv", period.start, period.end, None, out)
    text = out.getvalue()
    assert text.startswith("\ufeff") and count == 5  # every ticket filed, withdrawn ones too
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [header for header, _m, _v in CSV_COLUMNS]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["工单号"] == "1" and first["网格代码"] == "G01" and first["分类"] == "物业管理"
    assert first["登记时间"] == "2026-11-10 09:00:00" and first["满意度"] == "5.0"
    assert first["位置"] == "3栋"
    assert "13812345678" not in text and "张三" not in text
    encoded = text.encode("utf-8")
    assert encoded.startswith(b"\xef\xbb\xbf")


async def test_open311_export_fields(service: StatsService) -> None:
    period = service.period("2026-11")
    out = io.StringIO()
    await service.export("open311", period.start, period.end, None, out)
    requests = json.loads(out.getvalue())
    assert len(requests) == 5
    first = requests[0]
    assert first["service_request_id"] == "1" and first["service_code"] == "property"
    assert first["status"] == "closed" and first["status_notes"] == "confirmed"
    assert first["agency_responsible"] == "G01 一网格"
    assert first["requested_datetime"] == "2026-11-10T09:00:00+08:00"
    assert first["address"] == "一网格 3栋" and first["description"] is None
    assert requests[2]["status"] == "open" and requests[2]["expected_datetime"]
    assert "13812345678" not in out.getvalue()
    with pytest.raises(UserError):
        await service.export("xml", period.start, period.end, None, io.StringIO())


async def test_weekly_chart_is_a_png(service: StatsService) -> None:
    report = await service.report(parse_period("2026-11", NOW, TZ), None, daily=True)
    assert report.daily_by_category["2026-11-10"] == {"property": 2, "safety": 1, "environment": 1}
    png = weekly_chart(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
