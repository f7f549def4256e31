"""Ticket cards: the buttons a ticket message carries, and telling people what happened.

One ticket has one acknowledgement in its grid chat; its buttons follow the ticket's state
(refresh_card), so nobody presses [认领] on a ticket that is already being handled.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User
from telegram.error import BadRequest, TelegramError

from bot.domain.models import Grid
from bot.domain.tickets import Ticket, TicketStatus
from handlers.context import GridContext

log = logging.getLogger(__name__)

NOT_A_REQUEST = "t:nr:"
FOLLOW = "t:+1:"
CARD = "k:"  # k:<claim|resolve|escalate>:<ticket id>
VERIFY = "v:"  # v:<ticket id>:<round>:<y|n|1-5>


def _button(context: GridContext, locale: str, template: str, data: str,
            **ctx: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        context.messenger.renderer.render(f"buttons/{template}", locale, **ctx), callback_data=data
    )


def handler_row(context: GridContext, ticket: Ticket, locale: str) -> list[InlineKeyboardButton]:
    if ticket.status in (TicketStatus.OPEN, TicketStatus.REOPENED):
        actions = ("claim", "resolve", "escalate")
    elif ticket.status is TicketStatus.CLAIMED:
        actions = ("resolve", "escalate")
    else:
        return []
    return [_button(context, locale, f"card_{a}", f"{CARD}{a}:{ticket.id}") for a in actions]


def ticket_keyboard(
    context: GridContext, ticket: Ticket, locale: str, *, residents: bool = True
) -> InlineKeyboardMarkup | None:
    """Residents' row ([不是报事] while unclaimed, [+1] while open) and the handlers' row."""
    rows = []
    if residents and ticket.is_open:
        row = []
        if ticket.status is TicketStatus.OPEN:
            row.append(_button(context, locale, "not_a_request", f"{NOT_A_REQUEST}{ticket.id}"))
        row.append(_button(context, locale, "follow", f"{FOLLOW}{ticket.id}",
                           count=ticket.followers))
        rows.append(row)
    handlers = handler_row(context, ticket, locale)
    if handlers:
        rows.append(handlers)
    return InlineKeyboardMarkup(rows) if rows else None


def verify_keyboard(context: GridContext, ticket: Ticket, round_: int,
                    locale: str) -> InlineKeyboardMarkup:
    base = f"{VERIFY}{ticket.id}:{round_}:"
    return InlineKeyboardMarkup([
        [_button(context, locale, "solved", base + "y"),
         _button(context, locale, "not_solved", base + "n")],
        [_button(context, locale, "score", base + str(n), n=n) for n in range(1, 6)],
    ])


async def toast_locale(context: GridContext, user: User) -> str:
    """A button's answer is seen only by whoever pressed it: speak their language."""
    return await context.messenger.locale_for_chat(user.id, user.language_code)


def resident_chat(ticket: Ticket, grid: Grid | None) -> tuple[int | None, int | None]:
    """Where the reporter hears about progress: privately for private tickets, else the group
    (as a reply to the report while the group has not migrated)."""
    if ticket.private:
        return ticket.reporter_id, None
    if grid is None or grid.chat_id is None or not grid.active:
        return None, None
    return grid.chat_id, ticket.message_id if grid.chat_id == ticket.chat_id else None


async def refresh_card(context: GridContext, ticket: Ticket) -> None:
    """Make the acknowledgement's buttons match the ticket's state."""
    if ticket.ack_message_id is None or ticket.ack_message_id == ticket.message_id:
        return
    locale = await context.messenger.locale_for_chat(ticket.chat_id)
    keyboard = ticket_keyboard(context, ticket, locale, residents=not ticket.private)
    try:
        await context.bot.edit_message_reply_markup(
            chat_id=ticket.chat_id, message_id=ticket.ack_message_id, reply_markup=keyboard
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("could not refresh card of #%s: %s", ticket.id, exc.message)
    except TelegramError as exc:
        log.warning("could not refresh card of #%s: %s", ticket.id, exc)
