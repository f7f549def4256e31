"""The pure side of notices: the command line, first and following runs, grace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import UserError
from bot.domain.notices import (
    first_run,
    is_missed,
    parse_notice_command,
    parse_notice_id,
    plain_text,
)
from bot.domain.schedule import ScheduleError

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def test_the_command_line_gives_schedule_targets_and_pin() -> None:
    request = parse_notice_command("每周一 09:00 tag:幸福社区 G01 置顶", "消防提醒", now=NOW, tz=TZ)
    assert request.schedule.cron == "0 9 * * 1" and request.pin
    assert request.targets.tags == ("幸福社区",) and request.targets.grid_codes == ("G01",)
    # The end date may follow the targets; `pin` may stand anywhere.
    request = parse_notice_command("pin every mon 09:00 all until 2027-01-31", "x", now=NOW, tz=TZ)
    assert request.pin and request.targets.all and request.schedule.until is not None
    assert not parse_notice_command("now all", "x", now=NOW, tz=TZ).pin


@pytest.mark.parametrize(
    ("line", "text", "code"),
    [
        ("", "x", "notice_usage"),
        ("pin", "x", "notice_usage"),
        ("now all", "  \n ", "notice_text_missing"),
        ("now", "x", "no_targets"),
        ("someday all", "x", "unknown_form"),
    ],
)
def test_command_mistakes(line: str, text: str, code: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_notice_command(line, text, now=NOW, tz=TZ)
    assert caught.value.code == code


def test_first_and_following_runs() -> None:
    now = parse_notice_command("now all", "x", now=NOW, tz=TZ).schedule
    assert first_run(now, NOW) == NOW and now.run_after(NOW, NOW) is None
    once = parse_notice_command("明天 9:00 all", "x", now=NOW, tz=TZ).schedule
    assert first_run(once, NOW) == NOW + timedelta(days=1)
    assert first_run(once, NOW + timedelta(days=2)) is None  # its moment has passed
    assert once.run_after(NOW + timedelta(days=1), NOW + timedelta(days=1)) is None
    weekly = parse_notice_command("每周一 09:00 all", "x", now=NOW, tz=TZ).schedule
    assert first_run(weekly, NOW) == NOW + timedelta(days=7)
    # Fired three weeks late: the runs missed meanwhile are skipped, not sent in a burst.
    late = NOW + timedelta(days=21, hours=1)
    assert weekly.run_after(NOW + timedelta(days=7), late) == NOW + timedelta(days=28)


def test_grace() -> None:
    grace = timedelta(hours=1)
    assert not is_missed(NOW, NOW + grace, grace)
    assert is_missed(NOW, NOW + grace + timedelta(seconds=1), grace)


def test_notice_ids_and_words() -> None:
    assert parse_notice_id(" #12 ", "notice_show") == 12
    with pytest.raises(UserError) as caught:
        parse_notice_id("twelve", "notice_show")
    assert caught.value.context == {"command": "notice_show"}
    assert plain_text("<b>停水</b> &lt;通知&gt; &amp;") == "停水 <通知> &"


def test_schedule_errors_are_user_errors() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_notice_command("2020-01-01 09:00 all", "x", now=NOW, tz=TZ)
    assert caught.value.code == "past_time" and caught.value.context["detail"] == "2020-01-01 09:00"
