"""When a notice goes out and to whom: `/notice <when> <targets>`, durations and clocks.

Pure: the standard library and cronsim. One module per idea:
    when        the `when` grammar (parse_when) and times of day (parse_clock)
    schedules   Schedule: now, once (an aware UTC instant) or cron, stored; its shape, which
                templates put into words (_partials/notices.html)
    cron        CronExpression: canonical 5-field cron, evaluated by cronsim
    targets     Targets: all, grid codes, tags (parse_targets)
    durations   parse_duration, format_duration
    errors      ScheduleError and its codes (each has an errors/<code> template)
"""

from bot.domain.schedule.cron import CronExpression
from bot.domain.schedule.durations import format_duration, parse_duration
from bot.domain.schedule.errors import ERROR_MESSAGES, ScheduleError
from bot.domain.schedule.schedules import Schedule, ScheduleKind, ScheduleShape
from bot.domain.schedule.targets import Targets, parse_targets
from bot.domain.schedule.when import parse_clock, parse_when

__all__ = [
    "ERROR_MESSAGES",
    "CronExpression",
    "Schedule",
    "ScheduleError",
    "ScheduleKind",
    "ScheduleShape",
    "Targets",
    "format_duration",
    "parse_clock",
    "parse_duration",
    "parse_targets",
    "parse_when",
]
