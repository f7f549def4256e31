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
REQUEST = parse_notice_command("每周一 09:00 G01 tag:幸福社区 pin", "<b>停水</b> {{ grid.name }}",
                               now=NOW, tz=ZoneInfo("Asia/Shanghai"))
NOTICE = Notice(3, 9001, REQUEST.text, REQUEST.schedule, REQUEST.targets, True,
                NoticeStatus.ACTIVE, "zh-CN", NOW, NOW)
REPORT = RunReport(1, 3, NOW, RunStatus.DONE, total=5, sent=3, failed=2, pin_failures=1,
                   failures=(Failure("G02", "二", "Forbidden: bot was kicked from the group chat"),
                             Failure("G03", "三", "template: 'x' is undefined")))
CONTEXT = {
    "notice": NOTICE, "schedule": "每周一 09:00", "notices": [(NOTICE, "每周一 09:00")],
    "draft": Draft(NOTICE, "<b>停水</b> 幸福里", TargetGrid(1, "G01", "幸福里", -1), 5, (NOW,)),
    "reports": [REPORT, RunReport(2, 3, NOW, RunStatus.MISSED)], "report": REPORT,
    "stopped": 2, "done": 5, "total": 5, "due": NOW, "now": NOW, "due_at": NOW,
    "next_run_at": NOW, "grace": "1h",
    # errors/…
    "id": 3, "status": "finished", "command": "notice_show", "code": "G05", "tags": "x",
    "line": 2, "detail": "oops", "grid": "G01", "length": 5000, "limit": 4096, "budget": 500,
    "page": 0, "pages": 2,
}


@pytest.mark.parametrize(("locale", "kicked"), [
    ("zh-CN", "G02 二：机器人已被移出群"), ("en", "G02 二: the bot was removed from the chat"),
])
def test_notice_messages_render(locale: str, kicked: str) -> None:
    renderer = Renderer(locale)
    names = [n for n in template_names(locale)
             if "notice" in n and not n.startswith(("commands/", "_partials/"))]
    assert len(names) >= 20
    for name in names:
        assert renderer.render(name, locale, **CONTEXT).strip(), name
    assert kicked in renderer.render("notice_report", locale, **CONTEXT)
