"""Thin Telegram handlers. Each feature module exports its `COMMANDS` and `BUTTONS`;
here they become the one command table and the one button table (handlers.registry,
handlers.buttons), and `register` wires everything.
"""

from __future__ import annotations

from typing import Any

from handlers import common, console, grid_head, notices, reports, resident, staff
from handlers.buttons import Button, register_buttons
from handlers.chats import register_chat_handlers
from handlers.context import GridApplication
from handlers.grid_head import register_grid_head_handlers
from handlers.loop_timers import register_loop_timers
from handlers.notices import register_notice_timers
from handlers.paging import ListName, PagedList, page_button
from handlers.registry import Command, register_commands
from handlers.resident import register_resident_handlers, urgency_check

# The order is the order of /help and of the command menus.
COMMANDS: tuple[Command, ...] = (
    common.COMMANDS
    + resident.COMMANDS
    + grid_head.COMMANDS
    + reports.COMMANDS
    + staff.COMMANDS
    + notices.COMMANDS
    + console.COMMANDS
)

LISTS: dict[ListName, PagedList] = {
    **common.LISTS,
    **resident.LISTS,
    **grid_head.LISTS,
    **staff.LISTS,
    **notices.LISTS,
}

BUTTONS: tuple[Button, ...] = (
    resident.BUTTONS
    + grid_head.BUTTONS
    + staff.BUTTONS
    + notices.BUTTONS
    + (page_button(LISTS, COMMANDS),)
)


__all__ = ["BUTTONS", "COMMANDS", "register", "register_timers", "urgency_check"]


def register(application: GridApplication) -> None:
    """Add every handler to the application: chat tracking, the command and button tables, then the
    free-text routes (bot.app calls it once).
    """
    register_chat_handlers(application)
    register_commands(application, COMMANDS)
    register_buttons(application, BUTTONS)
    register_resident_handlers(application)
    register_grid_head_handlers(application)


async def register_timers(application: GridApplication, services: Any) -> None:
    """Each feature registers what its durable timers do when they fire (see TimerService)."""
    await register_loop_timers(application, services)
    await register_notice_timers(application, services)
    await reports.register_report_timers(application, services)
