"""Every message about notices renders in both locales with the values handlers pass."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.notices import (
    Failure,
    Notice,
    NoticeStatus,
    RunReport,
    RunStatus,
    TargetGrid,
    parse_notice_command,
)
from bot.render import Renderer, template_names
from bot.services.notices import Draft

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
REQUEST = parse_notice_command(
    "每周一 09:00 G01 tag:幸福社区 pin",
    "<b>停水</b> {{ grid.name }}",
    now=NOW,
    tz=ZoneInfo("Asia/Shanghai"),
)
NOTICE = Notice(
    3,
    9001,
    REQUEST.text,
    REQUEST.schedule,
    REQUEST.targets,
    True,
    NoticeStatus.ACTIVE,
    "zh-CN",
    NOW,
    NOW,
)
REPORT = RunReport(
    1,
    3,
    NOW,
    RunStatus.DONE,
    total=5,
    sent=3,
    failed=2,
    pin_failures=1,
    failures=(
        Failure("G02", "二", "Forbidden: bot was kicked from the group chat"),
        Failure("G03", "三", "template: 'x' is undefined"),
    ),
)
CONTEXT = {
    "notice": NOTICE,
    "notices": [NOTICE],
    "draft": Draft(NOTICE, "<b>停水</b> 幸福里", TargetGrid(1, "G01", "幸福里", -1), 5, (NOW,)),
    "reports": [REPORT, RunReport(2, 3, NOW, RunStatus.MISSED)],
    "report": REPORT,
    "stopped": 2,
    "done": 5,
    "total": 5,
    "due": NOW,
    "now": NOW,
    "due_at": NOW,
    "next_run_at": NOW,
    "grace": "1h",
    # errors/…
    "id": 3,
    "status": "finished",
    "command": "notice_show",
    "code": "G05",
    "tags": "x",
    "line": 2,
    "detail": "oops",
    "grid": "G01",
    "length": 5000,
    "limit": 4096,
    "budget": 500,
    "page": 0,
    "pages": 2,
}


@pytest.mark.parametrize(
    ("locale", "kicked"),
    [
        ("zh-CN", "G02 二：机器人已被移出群"),
        ("en", "G02 二: the bot was removed from the chat"),
    ],
)
def test_notice_messages_render(locale: str, kicked: str) -> None:
    renderer = Renderer(locale)
    names = [
        n
        for n in template_names(locale)
        if "notice" in n and not n.startswith(("commands/", "_partials/"))
    ]
    assert len(names) >= 20
    for name in names:
        assert renderer.render(name, locale, **CONTEXT).strip(), name
    assert kicked in renderer.render("notice_report", locale, **CONTEXT)


@pytest.mark.parametrize(
    ("when", "zh", "en"),
    [
        ("now", "立即", "now"),
        ("每周一 09:00", "每周一 09:00", "every Monday 09:00"),
        ("every mon,wed,fri 9am", "每周一、三、五 09:00",
         "every Monday, Wednesday and Friday 09:00"),
        ("每周日 9:00", "每周日 09:00", "every Sunday 09:00"),
        ("每天 8:30", "每天 08:30", "every day 08:30"),
        ("工作日 9点", "工作日 09:00", "weekdays 09:00"),
        ("周末 10点", "周末 10:00", "weekends 10:00"),
        ("每月1、22日 9点", "每月1日、22日 09:00", "every month on the 1st and 22nd 09:00"),
        ("每月11、12、13日 9点", "每月11日、12日、13日 09:00",
         "every month on the 11th, 12th and 13th 09:00"),
        ("每月最后一天 9点", "每月最后一天 09:00", "the last day of every month 09:00"),
        ("每周一 9:00 至 2026-12-31", "每周一 09:00（至 2026-12-31）",
         "every Monday 09:00 until 2026-12-31"),
        ("cron */15 9-17 * * 1-5", "cron：*/15 9-17 * * 1-5", "cron: */15 9-17 * * 1-5"),
        ("cron 0 9 13 * 5", "cron：0 9 13 * 5", "cron: 0 9 13 * 5"),
        ("明天 9:00", "2026-11-24（周二）09:00", "Tue 2026-11-24 09:00"),
    ],
)  # fmt: skip
def test_schedules_read_in_words_in_both_locales(when: str, zh: str, en: str) -> None:
    """What /notice_show says under 时间 / When, from the templates' schedule macro."""
    request = parse_notice_command(f"{when} all", "停水", now=NOW, tz=ZoneInfo("Asia/Shanghai"))
    notice = Notice(
        3,
        9001,
        request.text,
        request.schedule,
        request.targets,
        False,
        NoticeStatus.ACTIVE,
        "zh-CN",
        NOW,
    )
    for locale, label, words in (("zh-CN", "时间：", zh), ("en", "When: ", en)):
        detail = Renderer(locale).render("notice_detail", locale, notice=notice, reports=[])
        assert f"{label}{words}\n" in detail
