"""Thin Telegram handlers. `COMMANDS` is the one command table; `register` wires everything."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler

from bot.domain.permissions import Audience
from handlers import common, console, grid_head, notices, reports, resident, staff
from handlers.chats import register_chat_handlers
from handlers.grid_head import register_grid_head_handlers
from handlers.loop_timers import register_loop_timers
from handlers.notices import register_notice_handlers, register_notice_timers
from handlers.registry import Command, Where, register_commands
from handlers.resident import register_resident_handlers

COMMANDS: tuple[Command, ...] = (
    Command("start", common.start, Audience.EVERYONE),
    Command("help", common.help_command, Audience.EVERYONE),
    Command("whoami", common.whoami, Audience.EVERYONE),
    Command("report", resident.report, Audience.EVERYONE),
    Command("my", resident.my_tickets, Audience.EVERYONE),
    Command("status", resident.ticket_status, Audience.EVERYONE),
    Command("category", resident.set_category, Audience.GRID_STAFF),
    Command("open", grid_head.open_tickets, Audience.HANDLERS),
    Command("claim", grid_head.claim, Audience.HANDLERS),
    Command("close", grid_head.close, Audience.HANDLERS, with_photo=True),
    Command("reopen", grid_head.reopen, Audience.HANDLERS),
    Command("transfer", grid_head.transfer, Audience.HANDLERS),
    Command("escalate", grid_head.escalate, Audience.HANDLERS),
    Command("reject", grid_head.reject, Audience.HANDLERS),
    Command("note", grid_head.note, Audience.HANDLERS),
    Command("log", grid_head.patrol_log, Audience.GRID_STAFF, Where.GROUP, needs_grid=True),
    Command("logs", grid_head.patrol_logs, Audience.GRID_STAFF),
    Command("stats", reports.stats, Audience.HANDLERS),
    Command("export", reports.export, Audience.HANDLERS),
    Command("duty", grid_head.duty, Audience.STAFF),
    Command("unduty", grid_head.unduty, Audience.STAFF),
    Command("bind", staff.bind, Audience.STAFF, Where.GROUP),
    Command("unbind", staff.unbind, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("grids", staff.grids, Audience.STAFF),
    Command("tags", staff.tags, Audience.STAFF),
    Command("head", staff.head, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("worker", staff.worker, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("unhead", staff.unhead, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("notice", notices.notice, Audience.STAFF, Where.PRIVATE),
    Command("notices", notices.notices, Audience.STAFF, Where.PRIVATE),
    Command("notice_show", notices.notice_show, Audience.STAFF, Where.PRIVATE),
    Command("notice_pause", notices.notice_pause, Audience.STAFF, Where.PRIVATE),
    Command("notice_resume", notices.notice_resume, Audience.STAFF, Where.PRIVATE),
    Command("notice_cancel", notices.notice_cancel, Audience.STAFF, Where.PRIVATE),
    Command("console", console.console, Audience.HANDLERS),
)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    register_chat_handlers(application)
    register_commands(application, COMMANDS)
    register_resident_handlers(application)
    register_grid_head_handlers(application)
    register_notice_handlers(application)
    application.add_handler(CallbackQueryHandler(staff.bind_button, pattern=r"^bind:(yes|no):"))


async def register_timers(
    application: Application[Any, Any, Any, Any, Any, Any], services: Any
) -> None:
    """Each feature registers what its durable timers do when they fire (see TimerService)."""
    await register_loop_timers(application, services)
    await register_notice_timers(application, services)
    await reports.register_report_timers(application, services)
