"""What a schedule, target list, duration or clock can get wrong, by template code."""

from __future__ import annotations

from bot.domain.errors import UserError

# English fallbacks for logs; users see the `errors/<code>` templates instead.
ERROR_MESSAGES: dict[str, str] = {
    "unknown_form": "not a schedule I understand",
    "bad_time": "time of day missing or invalid",
    "bad_date": "no such date",
    "past_time": "that time has already passed",
    "bad_weekday": "day of the week missing or invalid",
    "bad_day_of_month": "day of the month missing or not 1-31",
    "bad_cron": "invalid cron expression",
    "cron_never": "the cron expression never matches",
    "bad_end": "end date missing or invalid",
    "end_in_past": "the end date leaves no run",
    "until_not_repeating": "an end date only makes sense for a repeating schedule",
    "no_targets": "no targets given",
    "bad_target": "not a grid code, tag or 'all'",
    "all_with_others": "'all' cannot be combined with grid codes or tags",
    "bad_duration": "not a positive duration like 10m, 2h or 1h30m",
}


class ScheduleError(UserError, ValueError):
    """A schedule, target list, duration or clock the user must fix.

    `code` names the template (`errors/<code>`); `detail` is the offending fragment
    as typed (for `past_time`: the resolved local time, `YYYY-MM-DD HH:MM`).
    """

    def __init__(self, code: str, detail: str = "") -> None:
        UserError.__init__(self, code, detail=detail)
        self.detail = detail
        self.args = (f"{ERROR_MESSAGES.get(code, code)}: {detail!r}",)
