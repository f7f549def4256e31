"""Ticket cards: the buttons a ticket message carries, and telling people what happened.

Every message about a ticket is linked to it (bot.notifications); the buttons of all of them
follow the ticket's state, so nobody presses [认领] on a ticket that is already being handled.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User

from bot.domain.tickets import Ticket, TicketStatus
from bot.render import Renderer
from handlers.context import GridContext

NOT_A_REQUEST = "t:nr:"
FOLLOW = "t:+1:"
CARD = "k:"  # k:<claim|resolve|escalate>:<ticket id>
VERIFY = "v:"  # v:<ticket id>:<round>:<y|n|1-5>


class CardKeyboards:
    """The buttons every ticket message carries, by where it lands (bot.notifications uses it).

    A grid group's acknowledgement has the residents' row and the handlers' row; a card for
    handlers (privately, in a duty chat, a reminder, a digest item) has the handlers' row.
    Both follow the ticket's state; every press is checked again whatever the button says.
    """

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer

    def _button(self, locale: str, template: str, data: str,
                **ctx: Any) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            self._renderer.render(f"buttons/{template}", locale, **ctx), callback_data=data
        )

    def handler_row(self, ticket: Ticket, locale: str) -> list[InlineKeyboardButton]:
        if ticket.status in (TicketStatus.OPEN, TicketStatus.REOPENED):
            actions: tuple[str, ...] = ("claim", "resolve", "escalate")
        elif ticket.status is TicketStatus.CLAIMED:
            actions = ("resolve", "escalate")
        else:
            return []
        return [self._button(locale, f"card_{a}", f"{CARD}{a}:{ticket.id}") for a in actions]

    def card(self, ticket: Ticket, locale: str, *,
             residents: bool = False) -> InlineKeyboardMarkup | None:
        """Residents' row ([不是报事] while unclaimed, [+1] while open) and the handlers' row."""
        rows = []
        if residents and ticket.is_open and not ticket.private:
            row = []
            if ticket.status is TicketStatus.OPEN:
                row.append(self._button(locale, "not_a_request", f"{NOT_A_REQUEST}{ticket.id}"))
            row.append(self._button(locale, "follow", f"{FOLLOW}{ticket.id}",
                                    count=ticket.followers))
            rows.append(row)
        handlers = self.handler_row(ticket, locale)
        if handlers:
            rows.append(handlers)
        return InlineKeyboardMarkup(rows) if rows else None

    def verify(self, ticket: Ticket, round_: int, locale: str) -> InlineKeyboardMarkup:
        base = f"{VERIFY}{ticket.id}:{round_}:"
        return InlineKeyboardMarkup([
            [self._button(locale, "solved", base + "y"),
             self._button(locale, "not_solved", base + "n")],
            [self._button(locale, "score", base + str(n), n=n) for n in range(1, 6)],
        ])


def ticket_keyboard(
    context: GridContext, ticket: Ticket, locale: str, *, residents: bool = True
) -> InlineKeyboardMarkup | None:
    """The keyboard of a ticket's acknowledgement in its grid chat."""
    return CardKeyboards(context.messenger.renderer).card(ticket, locale, residents=residents)


async def toast_locale(context: GridContext, user: User) -> str:
    """A button's answer is seen only by whoever pressed it: speak their language."""
    return await context.messenger.locale_for_chat(user.id, user.language_code)
