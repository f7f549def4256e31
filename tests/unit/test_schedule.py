"""Notice schedules, targets, durations and clocks, as staff type them in `/notice`.

"Now" is Monday 2026-11-23 10:00 in Asia/Shanghai unless a test says otherwise;
every expected run time below was worked out by hand from a calendar.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.domain import schedule as schedule_module
from bot.domain.errors import UserError
from bot.domain.schedule import (
    ERROR_MESSAGES,
    CronExpression,
    Schedule,
    ScheduleError,
    ScheduleShape,
    Targets,
    format_duration,
    parse_clock,
    parse_duration,
    parse_targets,
    parse_when,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)


def shanghai(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def staff_types(text: str, now: datetime = MONDAY_10AM) -> tuple[Schedule, str]:
    return parse_when(text, now=now, tz=SHANGHAI)


def error_of(text: str, now: datetime = MONDAY_10AM) -> tuple[str, str]:
    with pytest.raises(ScheduleError) as caught:
        staff_types(text, now)
    return caught.value.code, caught.value.detail


# ---------------------------------------------------------------------------
# Immediately and one-off


@pytest.mark.parametrize("text", ["now G01", "立即 G01", "马上 G01", "NOW G01", "立刻　G01"])
def test_now_has_no_run_times_because_the_caller_sends_at_once(text: str) -> None:
    schedule, rest = staff_types(text)
    assert (schedule.kind, schedule.at, schedule.cron, rest) == ("now", None, None, "G01")
    assert schedule.next_runs(MONDAY_10AM) == []
    assert schedule.shape().form == "now"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 09:00 G01", shanghai(2026, 12, 1, 9, 0)),
        ("2026/12/01 9:00 G01", shanghai(2026, 12, 1, 9, 0)),
        ("2026年12月1日 9点 G01", shanghai(2026, 12, 1, 9, 0)),
        ("12-01 9:00 G01", shanghai(2026, 12, 1, 9, 0)),
        ("12/01 9:00 G01", shanghai(2026, 12, 1, 9, 0)),
        ("12月1日 9:00 G01", shanghai(2026, 12, 1, 9, 0)),
        ("12月1日9点 G01", shanghai(2026, 12, 1, 9, 0)),
        ("12月1号 下午3点半 G01", shanghai(2026, 12, 1, 15, 30)),
        ("明天 9:00 G01", shanghai(2026, 11, 24, 9, 0)),
        ("明天9点 G01", shanghai(2026, 11, 24, 9, 0)),
        ("明天上午9点15分 G01", shanghai(2026, 11, 24, 9, 15)),
        ("后天 08:30 G01", shanghai(2026, 11, 25, 8, 30)),
        ("大后天 8点半 G01", shanghai(2026, 11, 26, 8, 30)),
        ("今天 18:00 G01", shanghai(2026, 11, 23, 18, 0)),
        ("今天 晚上8点 G01", shanghai(2026, 11, 23, 20, 0)),
        ("tomorrow 09:00 G01", shanghai(2026, 11, 24, 9, 0)),
        ("Tomorrow at 9am G01", shanghai(2026, 11, 24, 9, 0)),
        ("today 18:00 G01", shanghai(2026, 11, 23, 18, 0)),
        ("today 6:30 pm G01", shanghai(2026, 11, 23, 18, 30)),
        ("day after tomorrow 08:30 G01", shanghai(2026, 11, 25, 8, 30)),
        ("１２月１日　０９：００ G01", shanghai(2026, 12, 1, 9, 0)),
        ("明天  09：00   G01", shanghai(2026, 11, 24, 9, 0)),
    ],
)
def test_one_off_dates_and_times(text: str, expected: datetime) -> None:
    schedule, rest = staff_types(text)
    assert schedule.kind == "once"
    assert schedule.at == expected
    assert schedule.at.tzinfo is UTC
    assert rest == "G01"
    assert schedule.next_runs(MONDAY_10AM) == [expected]
    assert schedule.next_runs(expected) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11:00 G01", shanghai(2026, 11, 23, 11, 0)),  # still to come today
        ("9:00 G01", shanghai(2026, 11, 24, 9, 0)),  # passed today: tomorrow
        ("10:00 G01", shanghai(2026, 11, 24, 10, 0)),  # exactly now counts as passed
        ("9点 G01", shanghai(2026, 11, 24, 9, 0)),
    ],
)
def test_a_bare_time_is_its_next_occurrence(text: str, expected: datetime) -> None:
    assert staff_types(text)[0].at == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11-01 9:00 G01", shanghai(2027, 11, 1, 9, 0)),  # 1 Nov has passed this year
        ("1月5日 9点 G01", shanghai(2027, 1, 5, 9, 0)),
        ("11-24 9:00 G01", shanghai(2026, 11, 24, 9, 0)),
        ("11-23 11:00 G01", shanghai(2026, 11, 23, 11, 0)),  # today is not "passed"
        ("2-29 9:00 G01", shanghai(2028, 2, 29, 9, 0)),  # the next year that has one
    ],
)
def test_a_date_without_a_year_is_the_next_such_date(text: str, expected: datetime) -> None:
    assert staff_types(text)[0].at == expected


def test_relative_days_and_bare_times_roll_over_the_year() -> None:
    new_years_eve = datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)
    assert staff_types("明天 9:00 G01", new_years_eve)[0].at == shanghai(2027, 1, 1, 9, 0)
    assert staff_types("8:00 G01", new_years_eve)[0].at == shanghai(2027, 1, 1, 8, 0)


# Monday 2026-11-23 10:00 in Shanghai: the phrasings staff actually type.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今晚 8点 G01", shanghai(2026, 11, 23, 20)),
        ("今晚 8点半 G01", shanghai(2026, 11, 23, 20, 30)),
        ("今晚20:00 G01", shanghai(2026, 11, 23, 20)),
        ("tonight 8pm G01", shanghai(2026, 11, 23, 20)),
        ("明早 7点 G01", shanghai(2026, 11, 24, 7)),
        ("明晚 7:30 G01", shanghai(2026, 11, 24, 19, 30)),
        ("周五 18:00 G01", shanghai(2026, 11, 27, 18)),
        ("星期天 9点 G01", shanghai(2026, 11, 29, 9)),
        ("本周五 18:00 G01", shanghai(2026, 11, 27, 18)),
        ("这周日 下午3点 G01", shanghai(2026, 11, 29, 15)),
        ("下周一 9点 G01", shanghai(2026, 11, 30, 9)),
        ("下个星期三 9:00 G01", shanghai(2026, 12, 2, 9)),
        ("下周日 9:00 G01", shanghai(2026, 12, 6, 9)),
        ("fri 6pm G01", shanghai(2026, 11, 27, 18)),
        ("next monday 9am G01", shanghai(2026, 11, 30, 9)),
        # Today is Monday: 周一 11:00 is still ahead today, 周一 9:00 means next week's.
        ("周一 11:00 G01", shanghai(2026, 11, 23, 11)),
        ("周一 9:00 G01", shanghai(2026, 11, 30, 9)),
    ],
)
def test_days_of_the_week_and_parts_of_the_day(text: str, expected: datetime) -> None:
    schedule, rest = staff_types(text)
    assert schedule.kind == "once" and schedule.at == expected and rest == "G01"


def test_this_weeks_day_that_has_passed_is_refused_not_moved() -> None:
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    assert error_of("本周一 9:00 G01", tuesday) == ("past_time", "2026-11-23 09:00")
    assert error_of("今晚 12点 G01") == ("bad_time", "12点")  # noon or midnight? ask


@pytest.mark.parametrize(
    "text",
    [
        "每月最后一天 9:00 all",
        "每月月底 9点 all",
        "monthly on the last day 9am all",
        "every month on the last day 09:00 all",
    ],
)
def test_the_last_day_of_every_month(text: str) -> None:
    schedule, rest = staff_types(text)
    assert schedule.cron == "0 9 L * *" and rest == "all"
    assert schedule.next_runs(MONDAY_10AM) == [
        shanghai(2026, 11, 30, 9),
        shanghai(2026, 12, 31, 9),
        shanghai(2027, 1, 31, 9),
    ]
    assert (schedule.shape().form, schedule.shape().clock) == ("last_day", "09:00")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("今天 9:00 G01", "2026-11-23 09:00"),
        ("today 10:00 G01", "2026-11-23 10:00"),
        ("2026-11-23 09:59 G01", "2026-11-23 09:59"),
        ("2025-12-01 09:00 G01", "2025-12-01 09:00"),
        # Today's date is not rolled to next year: the time was probably a slip.
        ("11-23 9:00 G01", "2026-11-23 09:00"),
    ],
)
def test_one_offs_in_the_past_are_rejected(text: str, detail: str) -> None:
    assert error_of(text) == ("past_time", detail)


def test_a_one_off_in_a_dst_gap_moves_forward_rather_than_vanishing() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29; a notice typed for 02:30 goes at 03:30.
    now = datetime(2026, 3, 1, tzinfo=BERLIN)
    schedule, _ = parse_when("2026-03-29 02:30 G01", now=now, tz=BERLIN)
    assert schedule.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert schedule.at.astimezone(BERLIN).hour == 3


# ---------------------------------------------------------------------------
# Repeating

WEEKLY_MONDAY_9 = ("0 9 * * 1", [shanghai(2026, 11, 30, 9), shanghai(2026, 12, 7, 9),
                                 shanghai(2026, 12, 14, 9)])  # fmt: skip
MON_WED_FRI_9 = ("0 9 * * 1,3,5", [shanghai(2026, 11, 25, 9), shanghai(2026, 11, 27, 9),
                                    shanghai(2026, 11, 30, 9)])  # fmt: skip
DAILY_0830 = ("30 8 * * *", [shanghai(2026, 11, 24, 8, 30), shanghai(2026, 11, 25, 8, 30),
                             shanghai(2026, 11, 26, 8, 30)])  # fmt: skip
WORKDAYS_9 = ("0 9 * * 1-5", [shanghai(2026, 11, 24, 9), shanghai(2026, 11, 25, 9),
                              shanghai(2026, 11, 26, 9)])  # fmt: skip
MONTHLY_1ST_9 = ("0 9 1 * *", [shanghai(2026, 12, 1, 9), shanghai(2027, 1, 1, 9),
                               shanghai(2027, 2, 1, 9)])  # fmt: skip
SUNDAY_18 = ("0 18 * * 0", [shanghai(2026, 11, 29, 18), shanghai(2026, 12, 6, 18),
                            shanghai(2026, 12, 13, 18)])  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每天 08:30", DAILY_0830),
        ("每日 8:30", DAILY_0830),
        ("天天 早上8点半", DAILY_0830),
        ("every day 08:30", DAILY_0830),
        ("everyday 8:30am", DAILY_0830),
        ("daily 08:30", DAILY_0830),
        ("每周一 09:00", WEEKLY_MONDAY_9),
        ("每周一 上午9点", WEEKLY_MONDAY_9),
        ("每星期一 9:00", WEEKLY_MONDAY_9),
        ("每礼拜一 9:00", WEEKLY_MONDAY_9),
        ("every mon 09:00", WEEKLY_MONDAY_9),
        ("every monday 09:00", WEEKLY_MONDAY_9),
        ("weekly on Monday 9am", WEEKLY_MONDAY_9),
        ("cron 0 9 * * 1", WEEKLY_MONDAY_9),
        ("cron 0 9 * * MON", WEEKLY_MONDAY_9),
        ("每周日 18:00", SUNDAY_18),
        ("每周天 18:00", SUNDAY_18),
        ("每星期日 18:00", SUNDAY_18),
        ("每星期天 18:00", SUNDAY_18),
        ("每礼拜天 下午6点", SUNDAY_18),
        ("every sunday 6pm", SUNDAY_18),
        ("cron 0 18 * * 7", SUNDAY_18),
        ("每周一三五 09:00", MON_WED_FRI_9),
        ("每周一、三、五 09:00", MON_WED_FRI_9),
        ("每周一、周三和周五 9点", MON_WED_FRI_9),
        ("every mon,wed,fri 09:00", MON_WED_FRI_9),
        ("every Monday, Wednesday and Friday 9:00", MON_WED_FRI_9),
        ("工作日 09:00", WORKDAYS_9),
        ("每个工作日 09:00", WORKDAYS_9),
        ("每周一至周五 9:00", WORKDAYS_9),
        ("每周一到五 9点", WORKDAYS_9),
        ("weekdays 09:00", WORKDAYS_9),
        ("every weekday 9am", WORKDAYS_9),
        ("every mon-fri 09:00", WORKDAYS_9),
        ("每月1日 09:00", MONTHLY_1ST_9),
        ("每月1号 9点", MONTHLY_1ST_9),
        ("每个月的1号 9:00", MONTHLY_1ST_9),
        ("every month 1 09:00", MONTHLY_1ST_9),
        ("monthly 1 09:00", MONTHLY_1ST_9),
        ("every month on the 1st 9am", MONTHLY_1ST_9),
        ("每天 ０８：３０", DAILY_0830),
    ],
)
def test_repeating_forms_compile_to_cron(text: str, expected: tuple[str, list[datetime]]) -> None:
    cron, runs = expected
    schedule, rest = staff_types(f"{text} G01")
    assert (schedule.kind, schedule.cron, schedule.at, schedule.until) == ("cron", cron, None, None)
    assert rest == "G01"
    assert schedule.next_runs(MONDAY_10AM) == runs


@pytest.mark.parametrize(
    ("text", "cron", "runs"),
    [
        # Later today still counts.
        ("每周一 11:00", "0 11 * * 1", [shanghai(2026, 11, 23, 11), shanghai(2026, 11, 30, 11),
                                        shanghai(2026, 12, 7, 11)]),
        ("周末 10:00", "0 10 * * 0,6", [shanghai(2026, 11, 28, 10), shanghai(2026, 11, 29, 10),
                                        shanghai(2026, 12, 5, 10)]),
        ("每周五至周日 9点", "0 9 * * 0,5,6", [shanghai(2026, 11, 27, 9),
                                              shanghai(2026, 11, 28, 9),
                                              shanghai(2026, 11, 29, 9)]),
        ("every month on the 1st and 15th 9:30pm", "30 21 1,15 * *",
         [shanghai(2026, 12, 1, 21, 30), shanghai(2026, 12, 15, 21, 30),
          shanghai(2027, 1, 1, 21, 30)]),
        ("每月1、15日 9:00", "0 9 1,15 * *", [shanghai(2026, 12, 1, 9), shanghai(2026, 12, 15, 9),
                                              shanghai(2027, 1, 1, 9)]),
        # Months without a 31st are skipped, as in cron.
        ("每月31日 9:00", "0 9 31 * *", [shanghai(2026, 12, 31, 9), shanghai(2027, 1, 31, 9),
                                         shanghai(2027, 3, 31, 9)]),
        ("cron */15 9-17 * * mon-fri", "*/15 9-17 * * 1-5",
         [shanghai(2026, 11, 23, 10, 15), shanghai(2026, 11, 23, 10, 30),
          shanghai(2026, 11, 23, 10, 45)]),
    ],
)  # fmt: skip
def test_more_repeating_forms(text: str, cron: str, runs: list[datetime]) -> None:
    schedule, _ = staff_types(f"{text} all")
    assert schedule.cron == cron
    assert schedule.next_runs(MONDAY_10AM) == runs


@pytest.mark.parametrize(
    "text",
    [
        "每周一 09:00 until 2026-12-07 all",
        "每周一 09:00 UNTIL 2026/12/07 all",
        "每周一 09:00 至 2026-12-07 all",
        "每周一 09:00 截止 2026-12-07 all",
        "每周一 09:00到12月7日 all",
        "每周一 09:00 截至2026年12月7日为止 all",
        "every monday 9am till 12-07 all",
        # at the end of the line, after the targets
        "每周一 09:00 all until 2026-12-07",
        "每周一 09:00 all 到12月7日",
    ],
)
def test_until_is_an_inclusive_local_end_date(text: str) -> None:
    schedule, rest = staff_types(text)
    assert schedule.until == date(2026, 12, 7)
    assert rest == "all"
    assert schedule.next_runs(MONDAY_10AM, count=5) == [
        shanghai(2026, 11, 30, 9),
        shanghai(2026, 12, 7, 9),
    ]
    assert schedule.next_runs(shanghai(2026, 12, 7, 9)) == []


def test_until_without_a_year_is_the_next_such_date() -> None:
    schedule, _ = staff_types("每天 9:00 到3月1日 all")
    assert schedule.until == date(2027, 3, 1)


def test_source_is_the_schedule_as_typed_including_a_trailing_until() -> None:
    assert staff_types("每周一 ０９：００ 至 12-31 G01")[0].source == "每周一 ０９：００ 至 12-31"
    assert staff_types("每周一 9点 G01 G02 until 12-31")[0].source == "每周一 9点 until 12-31"


@pytest.mark.parametrize(
    ("text", "code", "detail"),
    [
        ("", "unknown_form", ""),
        ("hello G01", "unknown_form", "hello"),
        ("星期八 G01", "unknown_form", "星期八"),
        ("every hour 9:00", "unknown_form", "every hour"),
        ("每天", "bad_time", ""),
        ("每天 G01", "bad_time", "G01"),
        ("每天 25:00 G01", "bad_time", "25:00"),
        ("每天 9:60 G01", "bad_time", "9:60"),
        ("每天 9:00G01", "bad_time", "9:00G01"),
        ("每天 晚上12点 G01", "bad_time", "晚上12点"),
        ("明天 G01", "bad_time", "G01"),
        ("2026-02-30 9:00 G01", "bad_date", "2026-02-30"),
        ("13-01 9:00 G01", "bad_date", "13-01"),
        ("每周八 9:00 G01", "bad_weekday", "八"),
        ("weekly 9:00 G01", "bad_weekday", "9:00"),
        ("每周日至周一 9:00 G01", "bad_weekday", "日至周一"),
        ("每月32日 9:00 G01", "bad_day_of_month", "32日"),
        ("每月 9:00 G01", "bad_day_of_month", "9:00"),
        ("每月倒数第二天 9:00 G01", "bad_day_of_month", "倒数第二天"),
        ("cron 0 9 * *", "bad_cron", "0 9 * *"),
        ("cron 0 25 * * * G01", "bad_cron", "0 25 * * *"),
        ("cron 0 0 31 2 * G01", "cron_never", "0 0 31 2 *"),
        ("每周一 9:00 until soon G01", "bad_end", "soon"),
        ("每周一 9:00 until 2026-02-30 G01", "bad_end", "2026-02-30"),
        ("每周一 9:00 until 2026-12-31 G01 until 2027-01-31", "bad_end", "until 2027-01-31"),
        ("每周一 9:00 until 2026-11-01 G01", "end_in_past", "2026-11-01"),
        ("每周一 9:00 until 2026-11-23 G01", "end_in_past", "2026-11-23"),  # today's 9:00 is gone
        ("明天 9:00 until 2026-12-31 G01", "until_not_repeating", "until"),
        ("now G01 到12月31日", "until_not_repeating", "到12月31日"),
    ],
)
def test_schedule_errors_name_the_problem_and_quote_the_text(
    text: str, code: str, detail: str
) -> None:
    assert error_of(text) == (code, detail)


def test_schedule_errors_are_user_errors_the_ui_can_render() -> None:
    with pytest.raises(ScheduleError) as caught:
        staff_types("每天 25:00 G01")
    error = caught.value
    assert isinstance(error, UserError) and isinstance(error, ValueError)
    assert error.context == {"detail": "25:00"}
    assert "25:00" in str(error)


def test_every_error_code_raised_has_an_english_fallback_for_the_template_writer() -> None:
    package = Path(schedule_module.__file__).parent
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(package.glob("*.py")))
    raised = set(re.findall(r'ScheduleError\(\s*"([a-z_]+)"', source))
    assert raised == set(ERROR_MESSAGES)


def test_parse_when_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("每天 9:00 all", now=MONDAY_10AM.replace(tzinfo=None), tz=SHANGHAI)


# ---------------------------------------------------------------------------
# Describing and storing


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("每周一 09:00", ScheduleShape("weekly", clock="09:00", days=(1,))),
        ("every sun,fri,mon 9am", ScheduleShape("weekly", clock="09:00", days=(1, 5, 0))),
        ("每天 8:30", ScheduleShape("daily", clock="08:30")),
        ("每月22、1日 9点", ScheduleShape("monthly", clock="09:00", days=(1, 22))),
        ("每周一 9:00 至 2026-12-31",
         ScheduleShape("weekly", clock="09:00", days=(1,), until=date(2026, 12, 31))),
        ("cron 0 9 13 * 5", ScheduleShape("cron", cron="0 9 13 * 5")),
        ("明天 9:00", ScheduleShape("once", at=shanghai(2026, 11, 24, 9))),
    ],
)  # fmt: skip
def test_shape_gives_templates_the_parts_to_word(text: str, shape: ScheduleShape) -> None:
    """The words are templates' (test_notice_messages); the domain hands them the parts,
    weekdays Monday first, times local."""
    schedule, _ = staff_types(f"{text} all")
    assert schedule.shape() == shape


@pytest.mark.parametrize(
    "text",
    ["now all", "明天 9:00 all", "每周一三五 9:00 至 2026-12-31 all", "cron */5 * * * * all"],
)
def test_schedules_round_trip_through_json_storage(text: str) -> None:
    schedule, _ = staff_types(text)
    stored = json.loads(json.dumps(schedule.to_storage()))
    assert Schedule.from_storage(stored) == schedule


def test_a_malformed_stored_schedule_is_our_bug_not_the_users() -> None:
    stored = staff_types("明天 9:00 all")[0].to_storage()
    with pytest.raises(ValueError, match="keys"):
        Schedule.from_storage({**stored, "extra": 1})
    with pytest.raises(ValueError, match="`at`"):
        Schedule.from_storage({**stored, "at": None})
    with pytest.raises(ValueError, match="time zone"):
        Schedule.from_storage({**stored, "timezone": "Mars/Olympus"})


# ---------------------------------------------------------------------------
# The cron evaluator

JAN_1_2026 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


def runs_of(expr: str, after: datetime = JAN_1_2026, count: int = 4, tz: tzinfo = UTC) -> list[str]:
    cron, moment, runs = CronExpression.parse(expr), after, []
    for _ in range(count):
        moment = cron.next_after(moment, tz)
        runs.append(moment.astimezone(tz).strftime("%Y-%m-%d %H:%M"))
    return runs


@pytest.mark.parametrize(
    ("expr", "runs"),
    [
        ("*/15 * * * *", ["2026-01-01 00:15", "2026-01-01 00:30", "2026-01-01 00:45",
                          "2026-01-01 01:00"]),
        ("1-10/4 3 * * *", ["2026-01-01 03:01", "2026-01-01 03:05", "2026-01-01 03:09",
                            "2026-01-02 03:01"]),
        ("5/20 0 * * *", ["2026-01-01 00:05", "2026-01-01 00:25", "2026-01-01 00:45",
                          "2026-01-02 00:05"]),
        ("0 9,18 * * *", ["2026-01-01 09:00", "2026-01-01 18:00", "2026-01-02 09:00",
                          "2026-01-02 18:00"]),
        ("0 9 * jan-mar sat,sun", ["2026-01-03 09:00", "2026-01-04 09:00", "2026-01-10 09:00",
                                   "2026-01-11 09:00"]),
        ("0 0 * * 7", ["2026-01-04 00:00", "2026-01-11 00:00", "2026-01-18 00:00",
                       "2026-01-25 00:00"]),
        ("0 0 * * 5-7", ["2026-01-02 00:00", "2026-01-03 00:00", "2026-01-04 00:00",
                         "2026-01-09 00:00"]),
        # Both day fields restricted: the 13th OR a Friday.
        ("0 0 13 * 5", ["2026-01-02 00:00", "2026-01-09 00:00", "2026-01-13 00:00",
                        "2026-01-16 00:00"]),
        # Only the day of month restricted: every 10 days from the 1st (1, 11, 21, 31).
        ("0 0 */10 * *", ["2026-01-11 00:00", "2026-01-21 00:00", "2026-01-31 00:00",
                          "2026-02-01 00:00"]),
        ("0 12 1 */6 *", ["2026-01-01 12:00", "2026-07-01 12:00", "2027-01-01 12:00",
                          "2027-07-01 12:00"]),
        ("0 0 29 2 *", ["2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00",
                        "2040-02-29 00:00"]),
        ("59 23 31 12 *", ["2026-12-31 23:59", "2027-12-31 23:59", "2028-12-31 23:59",
                           "2029-12-31 23:59"]),
    ],
)  # fmt: skip
def test_cron_fields(expr: str, runs: list[str]) -> None:
    assert runs_of(expr) == runs


@pytest.mark.parametrize(
    ("expr", "normalised"),
    [
        ("0 9 * * 1", "0 9 * * 1"),
        ("  0   9  *  *  MON ", "0 9 * * 1"),
        ("0 9 * * 0,7", "0 9 * * 0"),
        ("0 9 * * 5-7", "0 9 * * 0,5,6"),
        ("0 9 * JAN-MAR mon-fri", "0 9 * 1-3 1-5"),
        ("0,15,30,45 * * * *", "*/15 * * * *"),
        ("1-10/2 * * * *", "1-9/2 * * * *"),
        ("*/1 */1 */1 * 0-7", "* * * * 0-6"),
        # Typed without a star a full day field is restricted (Debian's day rule: any day
        # matches 1-31 OR Monday), so it is not rewritten as `*` (Mondays only).
        ("0 9 1-31 * 1", "0 9 1-31 * 1"),
        ("0 9 */2 * 1", "0 9 */2 * 1"),
        ("0 9 1-31/2 * 1", "0 9 1-31/2 * 1"),
        ("0 9 l * *", "0 9 L * *"),
        ("0 9 */1 * 1", "0 9 * * 1"),  # a full day-of-month is unrestricted: Mondays only
        ("3,1,2 9 * * *", "1-3 9 * * *"),
        ("5,1,3 9 * * *", "1,3,5 9 * * *"),
        ("０ ９ ＊ ＊ １", "0 9 * * 1"),
    ],
)
def test_cron_is_normalised_so_equal_schedules_have_equal_text(expr: str, normalised: str) -> None:
    assert str(CronExpression.parse(expr)) == normalised


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ("", "bad_cron"),
        ("* * * *", "bad_cron"),
        ("* * * * * *", "bad_cron"),
        ("60 * * * *", "bad_cron"),
        ("* 24 * * *", "bad_cron"),
        ("* * 0 * *", "bad_cron"),
        ("* * * 13 *", "bad_cron"),
        ("* * * * 8", "bad_cron"),
        ("*/0 * * * *", "bad_cron"),
        ("5-1 * * * *", "bad_cron"),
        ("1,,2 * * * *", "bad_cron"),
        ("0 12 ? * MON", "bad_cron"),
        ("0 0 31 2 *", "cron_never"),
        ("0 0 30,31 2 *", "cron_never"),
        ("0 0 31 4,6,9,11 *", "cron_never"),
    ],
)
def test_bad_and_never_matching_cron_is_rejected_at_parse(expr: str, code: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        CronExpression.parse(expr)
    assert caught.value.code == code


def test_feb_31st_on_mondays_still_runs_on_mondays_by_the_or_rule() -> None:
    assert runs_of("0 0 31 2 1", count=2) == ["2026-02-02 00:00", "2026-02-09 00:00"]


def test_cron_in_berlin_runs_a_skipped_wall_time_right_after_the_jump() -> None:
    # 2026-03-29: 02:00 CET becomes 03:00 CEST, so there is no 02:30 that night; like
    # Debian's cron, the 02:30 job runs at the first minute after the jump.
    assert runs_of("30 2 * * *", datetime(2026, 3, 27, 12, tzinfo=UTC), 3, BERLIN) == [
        "2026-03-28 02:30",
        "2026-03-29 03:00",
        "2026-03-30 02:30",
    ]
    cron = CronExpression.parse("0 9 * * *")
    first = cron.next_after(datetime(2026, 3, 28, 12, tzinfo=UTC), BERLIN)
    assert first == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_cron_in_berlin_runs_a_repeated_wall_time_once() -> None:
    # 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice; run at the first.
    cron = CronExpression.parse("30 2 * * *")
    after = datetime(2026, 10, 24, 12, tzinfo=UTC)
    first = cron.next_after(after, BERLIN)
    second = cron.next_after(first, BERLIN)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert second == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # 02:30 CET the next day
    # A job that is not at a fixed time follows real time through the repeated hour.
    inside_second_pass = datetime(2026, 10, 25, 1, 5, tzinfo=UTC)  # 02:05 CET
    assert CronExpression.parse("*/20 * * * *").next_after(inside_second_pass, BERLIN) == (
        datetime(2026, 10, 25, 1, 20, tzinfo=UTC)  # 02:20 CET
    )


def test_the_last_day_of_the_month() -> None:
    assert runs_of("0 9 L * *", count=3) == [
        "2026-01-31 09:00",
        "2026-02-28 09:00",
        "2026-03-31 09:00",
    ]


def test_a_repeating_notice_across_dst_keeps_its_local_time() -> None:
    now = datetime(2026, 10, 23, 12, tzinfo=BERLIN)
    schedule, _ = parse_when("每天 9:00 all", now=now, tz=BERLIN)
    assert schedule.timezone == "Europe/Berlin"
    assert schedule.next_runs(now) == [
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),  # 09:00 CEST
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),  # 09:00 CET
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ]


def test_next_after_is_strictly_after_even_on_a_matching_minute() -> None:
    cron = CronExpression.parse("0 9 * * *")
    nine = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert cron.next_after(nine, UTC) == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert cron.next_after(nine - timedelta(seconds=1), UTC) == nine


def test_next_after_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CronExpression.parse("* * * * *").next_after(JAN_1_2026.replace(tzinfo=None), UTC)


# ---------------------------------------------------------------------------
# Targets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", Targets(all=True)),
        ("ALL", Targets(all=True)),
        ("全部", Targets(all=True)),
        ("所有", Targets(all=True)),
        ("G01 G02", Targets(all=False, grid_codes=("G01", "G02"))),
        ("G01,G02，G03、G04", Targets(all=False, grid_codes=("G01", "G02", "G03", "G04"))),
        ("G01 g01 G02", Targets(all=False, grid_codes=("G01", "G02"))),
        ("tag:老旧小区", Targets(all=False, tags=("老旧小区",))),
        ("标签：独居老人 标签:老旧小区", Targets(all=False, tags=("独居老人", "老旧小区"))),
        ("tag: 老旧小区", Targets(all=False, tags=("老旧小区",))),
        ("#养老", Targets(all=False, tags=("养老",))),
        ("G01 tag:east G02", Targets(all=False, grid_codes=("G01", "G02"), tags=("east",))),
        ("  G01\tG02  ", Targets(all=False, grid_codes=("G01", "G02"))),
    ],
)
def test_targets(text: str, expected: Targets) -> None:
    assert parse_targets(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "detail"),
    [
        ("", "no_targets", ""),
        (" ，、 ", "no_targets", ""),
        ("all G01", "all_with_others", "G01"),
        ("全部 tag:东区", "all_with_others", "东区"),
        ("3栋", "bad_target", "3栋"),
        ("G01 tag:", "bad_target", "tag:"),
        ("G01 #", "bad_target", "#"),
    ],
)
def test_bad_targets(text: str, code: str, detail: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_targets(text)
    assert (caught.value.code, caught.value.detail) == (code, detail)


def test_targets_match_grids_case_insensitively_and_round_trip() -> None:
    targets = parse_targets("g01 tag:East")
    assert targets.includes("G01")
    assert targets.includes("G09", ["north", "east"])
    assert not targets.includes("G09", ["north"])
    assert Targets(all=True).includes("ANY")
    assert Targets.from_storage(json.loads(json.dumps(targets.to_storage()))) == targets


def test_parse_when_leaves_the_targets_for_parse_targets() -> None:
    _, rest = staff_types("每周一 09:00 G01，G02 tag:老旧小区")
    assert parse_targets(rest) == Targets(False, ("G01", "G02"), ("老旧小区",))


# ---------------------------------------------------------------------------
# Durations and clocks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("48h", timedelta(hours=48)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("10 min", timedelta(minutes=10)),
        ("2 hours", timedelta(hours=2)),
        ("10分钟", timedelta(minutes=10)),
        ("2小时", timedelta(hours=2)),
        ("2个小时", timedelta(hours=2)),
        ("3天", timedelta(days=3)),
        ("30秒", timedelta(seconds=30)),
        ("1天3小时", timedelta(days=1, hours=3)),
        ("半小时", timedelta(minutes=30)),
        ("1个半小时", timedelta(hours=1, minutes=30)),
        ("２小时", timedelta(hours=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "90", "0m", "0.1s", "-5m", "10", "1h1h", "10ms", "abc", "h", "999999999w"]
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_duration(text)
    assert caught.value.code == "bad_duration"


@pytest.mark.parametrize(
    ("delta", "zh", "en"),
    [
        (timedelta(minutes=10), "10分钟", "10 min"),
        (timedelta(hours=2), "2小时", "2 h"),
        (timedelta(days=1, hours=3), "1天3小时", "1 d 3 h"),
        (timedelta(hours=1, minutes=30), "1小时30分钟", "1 h 30 min"),
        (timedelta(seconds=30), "30秒", "30 s"),
        (timedelta(0), "0秒", "0 s"),
    ],
)
def test_format_duration(delta: timedelta, zh: str, en: str) -> None:
    assert format_duration(delta, "zh-CN") == zh
    assert format_duration(delta, "en") == en


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("08:30", time(8, 30)),
        ("8:30", time(8, 30)),
        ("9点", time(9, 0)),
        ("9点半", time(9, 30)),
        ("9点15分", time(9, 15)),
        ("9点整", time(9, 0)),
        ("２０：００", time(20, 0)),
        ("下午3点", time(15, 0)),
        ("凌晨12点", time(0, 0)),
        ("中午12点", time(12, 0)),
        ("9am", time(9, 0)),
        ("12am", time(0, 0)),
        ("12:30 PM", time(12, 30)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_clocks(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    "text", ["", "24:00", "8:3", "9", "9点61分", "13pm", "上午15点", "晚上12点"]
)
def test_bad_clocks(text: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_clock(text)
    assert caught.value.code == "bad_time"


# ---------------------------------------------------------------------------
# Properties

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONES = st.sampled_from([SHANGHAI, BERLIN, UTC, ZoneInfo("America/New_York")])
SCHEDULE_WORDS = st.sampled_from(
    ["每天", "每周", "每月", "一", "三", "日", "至", "到", "until", "工作日", "明天", "今天",
     "every", "mon", "fri", ",", "、", "-", "/", ":", "：", "点", "半", "号", "日", "月", "年",
     "cron", "*", "*/5", "now", "立即", "下午", "am", "pm", "tag:", "all", " ", " ", "9", "09",
     "00", "12", "31", "2026", "2-29", "25", "１"]
)  # fmt: skip
SCHEDULE_LIKE_TEXT = st.one_of(
    st.text(max_size=40), st.lists(SCHEDULE_WORDS, max_size=12).map("".join)
)


@FAST
@given(text=SCHEDULE_LIKE_TEXT)
def test_parse_when_only_ever_raises_schedule_errors(text: str) -> None:
    try:
        schedule, rest = staff_types(text)
    except ScheduleError:
        return
    assert rest in text
    if schedule.kind == "once":
        assert schedule.at is not None and schedule.at > MONDAY_10AM
    if schedule.kind == "cron":
        assert schedule.next_runs(MONDAY_10AM, count=1)
    assert Schedule.from_storage(schedule.to_storage()) == schedule
    assert schedule.shape().form


@FAST
@given(text=st.one_of(st.text(max_size=40), st.lists(SCHEDULE_WORDS, max_size=8).map(" ".join)))
def test_parse_targets_only_ever_raises_schedule_errors(text: str) -> None:
    try:
        targets = parse_targets(text)
    except ScheduleError:
        return
    assert targets.all or targets.grid_codes or targets.tags


DURATION_WORDS = st.sampled_from(["1", "30", "1.5", "半", "个", "h", "m", "s", "d", "min", "小时",
                                  "分钟", "天", "秒", " ", "-", "0"])  # fmt: skip


@FAST
@given(text=st.one_of(st.text(max_size=30), st.lists(DURATION_WORDS, max_size=8).map("".join)))
def test_parse_duration_only_ever_raises_schedule_errors(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ScheduleError:
        return
    assert duration >= timedelta(seconds=1)


@FAST
@given(text=st.one_of(st.text(max_size=20), st.lists(SCHEDULE_WORDS, max_size=5).map("".join)))
def test_parse_clock_only_ever_raises_schedule_errors(text: str) -> None:
    with contextlib.suppress(ScheduleError):
        parse_clock(text)


@FAST
@given(
    delta=st.integers(min_value=1, max_value=400 * 86400).map(lambda s: timedelta(seconds=s)),
    locale=st.sampled_from(["zh-CN", "en"]),
)
def test_formatted_durations_parse_back(delta: timedelta, locale: str) -> None:
    assert parse_duration(format_duration(delta, locale)) == delta


@FAST
@given(clock=st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_formatted_clocks_parse_back(clock: time) -> None:
    assert parse_clock(clock.strftime("%H:%M")) == clock


CRON_TOKENS = st.sampled_from(["*", "*/", "-", ",", "/", "0", "1", "5", "7", "12", "31", "59",
                               "mon", "FRI", "jan", " ", " "])  # fmt: skip


@FAST
@given(text=st.one_of(st.text(max_size=30), st.lists(CRON_TOKENS, max_size=14).map("".join)))
def test_cron_parse_only_ever_raises_schedule_errors(text: str) -> None:
    with contextlib.suppress(ScheduleError):
        CronExpression.parse(text)


def cron_field(low: int, high: int) -> st.SearchStrategy[str]:
    number = st.integers(low, high)
    step = st.integers(1, max(1, high - low))
    span = st.tuples(number, number).map(sorted)
    part = st.one_of(
        st.just("*"),
        number.map(str),
        step.map(lambda s: f"*/{s}"),
        span.map(lambda ab: f"{ab[0]}-{ab[1]}"),
        st.tuples(span, step).map(lambda abs_: f"{abs_[0][0]}-{abs_[0][1]}/{abs_[1]}"),
    )
    return st.lists(part, min_size=1, max_size=3).map(",".join)


CRON_EXPRESSIONS = st.tuples(
    cron_field(0, 59), cron_field(0, 23), cron_field(1, 31), cron_field(1, 12), cron_field(0, 7)
).map(" ".join)
MOMENTS = st.datetimes(  # hypothesis takes naive bounds and attaches `timezones` itself
    min_value=datetime(2000, 1, 1, tzinfo=UTC).replace(tzinfo=None),
    max_value=datetime(2090, 1, 1, tzinfo=UTC).replace(tzinfo=None),
    timezones=st.just(UTC),
)


def parse_or_skip(expr: str) -> CronExpression:
    try:
        return CronExpression.parse(expr)
    except ScheduleError as error:
        assume(error.code != "cron_never")
        raise


def posix_matches(cron: CronExpression, moment: datetime, tz: tzinfo) -> bool:
    """An oracle independent of cronsim: the canonical fields and Debian's day rule."""
    local = moment.astimezone(tz)
    _minute, _hour, month_days, _month, week_days = str(cron).split()
    in_month = local.day in cron.days_of_month
    in_week = local.isoweekday() % 7 in cron.days_of_week
    if month_days.startswith("*") or week_days.startswith("*"):
        day = in_month and in_week
    else:
        day = in_month or in_week
    return (
        local.minute in cron.minutes
        and local.hour in cron.hours
        and local.month in cron.months
        and day
    )


NO_DST = st.sampled_from([SHANGHAI, UTC])


@settings(max_examples=120, deadline=None)
@given(expr=CRON_EXPRESSIONS, after=MOMENTS, tz=NO_DST)
def test_next_after_is_strictly_increasing_matches_and_skips_nothing(
    expr: str, after: datetime, tz: tzinfo
) -> None:
    cron = parse_or_skip(expr)
    assert CronExpression.parse(str(cron)) == cron
    first = cron.next_after(after, tz)
    second = cron.next_after(first, tz)
    assert after < first < second
    assert first.tzinfo is UTC and first.second == 0 and first.microsecond == 0
    assert posix_matches(cron, first, tz) and posix_matches(cron, second, tz)
    if first - after <= timedelta(hours=30):
        minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while minute < first:
            assert not posix_matches(cron, minute, tz)
            minute += timedelta(minutes=1)


@settings(max_examples=60, deadline=None)
@given(expr=CRON_EXPRESSIONS, after=MOMENTS, tz=ZONES)
def test_next_after_never_goes_backwards_across_dst(expr: str, after: datetime, tz: tzinfo) -> None:
    cron = parse_or_skip(expr)
    first = cron.next_after(after, tz)
    assert after < first < cron.next_after(first, tz)
