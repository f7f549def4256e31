"""Ticket cards: the buttons a ticket message carries, and telling people what happened.

One ticket has one acknowledgement in its grid chat; its buttons follow the ticket's state
(refresh_card), so nobody presses [认领] on a ticket that is already being handled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot.domain.errors import UserError
from bot.domain.models import Grid
from bot.domain.tickets import Ticket, TicketStatus
from handlers.buttons import CallbackData, ButtonPress, button
from handlers.context import GridContext

log = logging.getLogger(__name__)


class ResidentAction(StrEnum):
    NOT_A_REQUEST = "nr"  # [不是报事]
    FOLLOW = "+1"  # [我也遇到 +1]


@dataclass(frozen=True, slots=True)
class ResidentPress(CallbackData, prefix="t"):
    """t:<nr|+1>:<ticket id> — the residents' row under an acknowledgement."""

    action: ResidentAction
    ticket_id: int


class CardAction(StrEnum):
    CLAIM = "claim"
    RESOLVE = "resolve"
    ESCALATE = "escalate"


@dataclass(frozen=True, slots=True)
class CardPress(CallbackData, prefix="k"):
    """k:<claim|resolve|escalate>:<ticket id> — the handlers' row of a ticket card."""

    action: CardAction
    ticket_id: int


class VerifyAnswer(StrEnum):
    SOLVED = "y"
    NOT_SOLVED = "n"
    SCORE_1 = "1"
    SCORE_2 = "2"
    SCORE_3 = "3"
    SCORE_4 = "4"
    SCORE_5 = "5"


@dataclass(frozen=True, slots=True)
class VerifyPress(CallbackData, prefix="v"):
    """v:<ticket id>:<round>:<y|n|1-5> — the reporter's answer to "is it fixed?"."""

    ticket_id: int
    round: int
    answer: VerifyAnswer


async def ticket_on_message(press: ButtonPress[Any], ticket_id: int) -> None:
    """The ticket a button names must be the one its message belongs to (defence in depth
    beside the table's check that the data is on the message at all)."""
    linked = await press.context.services.tickets.tickets.by_message(
        press.chat.id, press.message.message_id
    )
    if linked is None or linked[0].id != ticket_id:
        raise UserError("unknown_ticket", id=ticket_id)


def _button(context: GridContext, locale: str, template: str, data: CallbackData,
            **ctx: Any) -> InlineKeyboardButton:
    return button(context.messenger.renderer, locale, template, data, **ctx)


def handler_row(context: GridContext, ticket: Ticket, locale: str) -> list[InlineKeyboardButton]:
    if ticket.status in (TicketStatus.OPEN, TicketStatus.REOPENED):
        actions = (CardAction.CLAIM, CardAction.RESOLVE, CardAction.ESCALATE)
    elif ticket.status is TicketStatus.CLAIMED:
        actions = (CardAction.RESOLVE, CardAction.ESCALATE)
    else:
        return []
    return [_button(context, locale, f"card_{a.value}", CardPress(a, ticket.id)) for a in actions]


def ticket_keyboard(
    context: GridContext, ticket: Ticket, locale: str, *, residents: bool = True
) -> InlineKeyboardMarkup | None:
    """Residents' row ([不是报事] while unclaimed, [+1] while open) and the handlers' row."""
    rows = []
    if residents and ticket.is_open:
        row = []
        if ticket.status is TicketStatus.OPEN:
            row.append(_button(context, locale, "not_a_request",
                               ResidentPress(ResidentAction.NOT_A_REQUEST, ticket.id)))
        row.append(_button(context, locale, "follow",
                           ResidentPress(ResidentAction.FOLLOW, ticket.id),
                           count=ticket.followers))
        rows.append(row)
    handlers = handler_row(context, ticket, locale)
    if handlers:
        rows.append(handlers)
    return InlineKeyboardMarkup(rows) if rows else None


def verify_keyboard(context: GridContext, ticket: Ticket, round_: int,
                    locale: str) -> InlineKeyboardMarkup:
    def data(answer: VerifyAnswer) -> VerifyPress:
        return VerifyPress(ticket.id, round_, answer)

    return InlineKeyboardMarkup([
        [_button(context, locale, "solved", data(VerifyAnswer.SOLVED)),
         _button(context, locale, "not_solved", data(VerifyAnswer.NOT_SOLVED))],
        [_button(context, locale, "score", data(VerifyAnswer(str(n))), n=n) for n in range(1, 6)],
    ])


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
