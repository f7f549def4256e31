"""Ticket cards: the buttons a ticket message carries (declared in the button table).

Every message about a ticket is linked to it (bot.notifications); the buttons of all of them
follow the ticket's state, so nobody presses [认领] on a ticket that is already being handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.errors import UserError
from bot.domain.loop import next_level
from bot.domain.tickets import Ticket, TicketStatus
from bot.render import Renderer
from handlers.buttons import ButtonPress, CallbackData, button
from handlers.context import GridContext


class ResidentAction(StrEnum):
    """The residents' row of a group acknowledgement."""

    NOT_A_REQUEST = "nr"  # [不是报事]
    FOLLOW = "+1"  # [我也遇到 +1]


@dataclass(frozen=True, slots=True)
class ResidentPress(CallbackData, prefix="t"):
    """t:<nr|+1>:<ticket id> — the residents' row under an acknowledgement."""

    action: ResidentAction
    ticket_id: int


class CardAction(StrEnum):
    """The handlers' row of a ticket card."""

    CLAIM = "claim"
    RESOLVE = "resolve"
    ESCALATE = "escalate"


@dataclass(frozen=True, slots=True)
class CardPress(CallbackData, prefix="k"):
    """k:<claim|resolve|escalate>:<ticket id> — the handlers' row of a ticket card."""

    action: CardAction
    ticket_id: int


class VerifyAnswer(StrEnum):
    """A reporter's or follower's answer when asked whether a resolved ticket is solved, and the
    score.
    """

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
    beside the table's check that the data is on the message at all).
    """
    linked = await press.context.services.tickets.ticket_id_of_message(
        press.chat.id, press.message.message_id
    )
    if linked != ticket_id:
        raise UserError("unknown_ticket", id=ticket_id)


class CardKeyboards:
    """The buttons every ticket message carries, by where it lands (bot.notifications uses it).

    A grid group's acknowledgement has the residents' row and the handlers' row; a card for
    handlers (privately, in a duty chat, a reminder, a digest item) has the handlers' row.
    Both follow the ticket's state; every press is checked again whatever the button says.
    """

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    def _button(
        self, locale: str, template: str, data: CallbackData, **ctx: Any
    ) -> InlineKeyboardButton:
        return button(self._renderer, locale, template, data, **ctx)

    def handler_row(self, ticket: Ticket, locale: str) -> list[InlineKeyboardButton]:
        """The handlers' buttons for a ticket as it stands (none once resolved; no escalate at the
        top level).
        """
        if ticket.status in (TicketStatus.OPEN, TicketStatus.REOPENED):
            actions: tuple[CardAction, ...] = (
                CardAction.CLAIM,
                CardAction.RESOLVE,
                CardAction.ESCALATE,
            )
        elif ticket.status is TicketStatus.CLAIMED:
            actions = (CardAction.RESOLVE, CardAction.ESCALATE)
        else:
            return []
        if next_level(ticket.level) is None:
            actions = tuple(a for a in actions if a is not CardAction.ESCALATE)
        return [self._button(locale, f"card_{a.value}", CardPress(a, ticket.id)) for a in actions]

    def card(
        self, ticket: Ticket, locale: str, *, residents: bool = False
    ) -> InlineKeyboardMarkup | None:
        """Residents' row ([不是报事] while unclaimed, [+1] while open) and the handlers' row."""
        rows = []
        if residents and ticket.is_open and not ticket.private:
            row = []
            if ticket.status is TicketStatus.OPEN:
                row.append(
                    self._button(
                        locale,
                        "not_a_request",
                        ResidentPress(ResidentAction.NOT_A_REQUEST, ticket.id),
                    )
                )
            row.append(
                self._button(
                    locale,
                    "follow",
                    ResidentPress(ResidentAction.FOLLOW, ticket.id),
                    count=ticket.followers,
                )
            )
            rows.append(row)
        handlers = self.handler_row(ticket, locale)
        if handlers:
            rows.append(handlers)
        return InlineKeyboardMarkup(rows) if rows else None

    def verify(self, ticket: Ticket, round_: int, locale: str) -> InlineKeyboardMarkup:
        """The buttons asking a resident whether the ticket is solved, and their score, for one
        verification round.
        """

        def data(answer: VerifyAnswer) -> VerifyPress:
            return VerifyPress(ticket.id, round_, answer)

        return InlineKeyboardMarkup(
            [
                [
                    self._button(locale, "solved", data(VerifyAnswer.SOLVED)),
                    self._button(locale, "not_solved", data(VerifyAnswer.NOT_SOLVED)),
                ],
                [
                    self._button(locale, "score", data(VerifyAnswer(str(n))), n=n)
                    for n in range(1, 6)
                ],
            ]
        )


def ticket_keyboard(
    context: GridContext, ticket: Ticket, locale: str, *, residents: bool = True
) -> InlineKeyboardMarkup | None:
    """The keyboard of a ticket's acknowledgement in its grid chat."""
    return CardKeyboards(context.messenger.renderer).card(ticket, locale, residents=residents)
