"""Staff and heads read the figures: /stats, /export, and the weekly report to the street."""

from __future__ import annotations

import io
import logging
from datetime import datetime

from telegram import InputFile

from bot.charts import weekly_chart
from bot.domain.permissions import Audience
from bot.domain.stats import PERIOD_WORDS
from bot.domain.timers import Timer
from bot.services.container import Services
from bot.services.ports import UnitOfWork
from bot.services.timers import AfterCommit
from handlers.context import GridApplication, GridContext
from handlers.registry import Command, CommandCall

log = logging.getLogger(__name__)

WEEKLY_TIMER = "report.weekly"
MAX_GRIDS_IN_CHAT = 25  # a phone screen and Telegram's 4,096 characters


def _period_and_grid(call: CommandCall) -> tuple[str, str | None]:
    period, code = "month", None
    for word in call.arg_list[:2]:
        if word.lower() in PERIOD_WORDS or word[:4].isdigit():
            period = word
        else:
            code = word
    return period, code


async def stats(call: CommandCall) -> None:
    """/stats [today|7d|30d|month|YYYY-MM] [网格代码|all] — the figures, per grid and in total."""
    services = call.context.services
    period_text, code = _period_and_grid(call)
    period = services.stats.period(period_text)
    grids = await services.stats.visible_grids(call.roles, code, call.grid)
    report = await services.stats.report(period, grids)
    shown = sorted(report.grids, key=lambda g: -g.figures.received)[:MAX_GRIDS_IN_CHAT]
    await call.reply("stats", report=report, shown=shown, hidden=len(report.grids) - len(shown))


async def export(call: CommandCall) -> None:
    """/export [period] [网格代码|all] — a CSV of tickets (UTF-8 with BOM, opens in Excel)."""
    services = call.context.services
    period_text, code = _period_and_grid(call)
    period = services.stats.period(period_text)
    grids = await services.stats.visible_grids(call.roles, code, call.grid)
    buffer = io.StringIO()
    count = await services.stats.export("csv", period.start, period.end, grids, buffer)
    name = f"gridbot-{period.label}-{code or (call.grid.code if call.grid else 'all')}.csv"
    caption = call.context.messenger.renderer.render(
        "export_caption", call.locale, count=count, period=period, grids=grids
    )
    await call.context.bot.send_document(
        call.chat.id,
        InputFile(buffer.getvalue().encode("utf-8"), filename=name),
        caption=caption,
        parse_mode="HTML",
        reply_to_message_id=call.message.message_id,
    )


async def register_report_timers(application: GridApplication, services: Services) -> None:
    """Register the weekly report's recurring timer; the report is sent after its unit of work
    commits.
    """
    context = GridContext(application)
    schedule = services.config.reports.weekly

    async def on_weekly(
        timer: Timer, uow: UnitOfWork, now: datetime, _following: datetime | None
    ) -> AfterCommit:
        async def send() -> None:
            await send_weekly_report(context)

        return send

    services.timers.recurring(WEEKLY_TIMER, schedule, on_weekly)
    await services.timers.keep_running(WEEKLY_TIMER, schedule)


async def send_weekly_report(context: GridContext) -> None:
    """Last week's figures and chart to the street duty chat."""
    services = context.services
    period = services.stats.period("lastweek")
    report = await services.stats.report(period, None, daily=True)
    shown = sorted(report.grids, key=lambda g: -g.figures.received)[:MAX_GRIDS_IN_CHAT]
    try:
        chart: bytes | None = weekly_chart(report)
    except Exception:
        log.exception("weekly chart could not be drawn")  # the figures still go out
        chart = None
    await context.notifier.weekly_report(report, shown, len(report.grids) - len(shown), chart)


COMMANDS: tuple[Command, ...] = (
    Command("stats", stats, Audience.HANDLERS),
    Command("export", export, Audience.HANDLERS),
)
