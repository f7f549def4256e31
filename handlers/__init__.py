"""Thin Telegram handlers. `COMMANDS` is the one command table; `register` wires everything."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler

from bot.domain.permissions import Audience
from handlers import common, resident, staff
from handlers.chats import register_chat_handlers
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
    Command("bind", staff.bind, Audience.STAFF, Where.GROUP),
    Command("unbind", staff.unbind, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("grids", staff.grids, Audience.STAFF),
    Command("tags", staff.tags, Audience.STAFF),
    Command("head", staff.head, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("worker", staff.worker, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("unhead", staff.unhead, Audience.STAFF, Where.GROUP, needs_grid=True),
)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    register_chat_handlers(application)
    register_commands(application, COMMANDS)
    register_resident_handlers(application)
    application.add_handler(CallbackQueryHandler(staff.bind_button, pattern=r"^bind:(yes|no):"))


def register_timers(application: Application[Any, Any, Any, Any, Any, Any], services: Any) -> None:
    """Each feature registers what its durable timers do when they fire (see TimerService)."""
