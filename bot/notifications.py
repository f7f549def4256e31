"""Who is told what about a ticket: audiences, rendering and linking, in one place.

Services return what happened (an `IntakeOutcome`, or a `LoopOutcome` whose action is a
`TicketEvent`); handlers and timers hand it to the `Notifier`. The Notifier decides the
audiences of each event — the grid group, a duty chat, the handlers privately, the
reporter —, renders for each (the privacy rules live in `Renderer.render_for`, applied by
audience, so no template can forget them) and sends through the `Messenger`.

Every message about a ticket that a handler receives is a *card*: it carries the buttons
that fit the ticket's state and is linked to its ticket (`ticket_messages`), so a reply to
it with a ticket command needs no number, a press on it is checked against its ticket, and
its buttons follow the ticket when the state changes (`refresh_cards`).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from telegram import InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from bot.domain.events import TicketEvent
from bot.domain.loop import is_overdue, may_handle
from bot.domain.models import Grid, Person, Urgency
from bot.domain.privacy import Audience
from bot.domain.schedule import format_duration
from bot.domain.stats import StatsReport
from bot.domain.tickets import Level, Ticket, TicketStatus
from bot.messenger import Messenger
from bot.services.container import Services
from bot.services.digest import GridDigest
from bot.services.loop import LoopOutcome
from bot.services.tickets import IntakeOutcome, IntakeResult

log = logging.getLogger(__name__)

# Disputes and personal help are better talked about privately; the group ack says so.
PRIVATE_HINT_CATEGORIES = frozenset({"dispute", "assistance"})
# The daily digest sends the overdue and unclaimed tickets as cards, at most this many.
DIGEST_CARDS = 10
# What the reporter hears about (in the group for group reports, privately otherwise).
RESIDENT_EVENTS = frozenset(
    {
        TicketEvent.CLAIMED,
        TicketEvent.TRANSFERRED,
        TicketEvent.REJECTED,
        TicketEvent.CONFIRMED,
        TicketEvent.CONFIRMED_BY_TIMEOUT,
        TicketEvent.REOPENED,
        TicketEvent.ESCALATED,
    }
)


class Keyboards(Protocol):
    """The buttons of ticket messages (handlers.cards.CardKeyboards)."""

    def card(
        self, ticket: Ticket, locale: str, *, residents: bool = False
    ) -> InlineKeyboardMarkup | None:
        """The ticket's card buttons for `locale` (the residents' buttons when `residents`)."""

    def verify(self, ticket: Ticket, round_: int, locale: str) -> InlineKeyboardMarkup:
        """The verification question's buttons for round `round_`."""


class Notifier:
    """Decides who is told about a ticket event, renders it for each audience and sends it."""

    def __init__(self, messenger: Messenger, services: Services, keyboards: Keyboards) -> None:
        self._messenger = messenger
        self._services = services
        self._keyboards = keyboards

    # --- building blocks ---

    def _limits(self, ticket: Ticket, locale: str) -> dict[str, str]:
        """The ticket's own time limits in words ("30分钟"), from its SLA in the config."""
        claim, resolve = self._services.loop.sla.windows(ticket.urgency, ticket.category)
        return {
            "claim_within": format_duration(claim, locale),
            "resolve_within": format_duration(resolve, locale),
        }

    async def _grid(self, ticket: Ticket) -> Grid | None:
        return await self._services.grids.grid(ticket.grid_id)

    async def _person(self, telegram_id: int | None) -> Person | None:
        return await self._services.people.get(telegram_id) if telegram_id else None

    async def _duty_level(self, chat_id: int) -> Level | None:
        level = await self._services.grids.duty_level_of(chat_id)
        return Level(level) if level else None

    async def _handler_buttons(
        self, chat_id: int, ticket: Ticket, locale: str
    ) -> InlineKeyboardMarkup | None:
        """The handlers' buttons where the readers may use them: privately, if that person may
        handle the ticket now; in a duty chat, while the ticket is at that chat's level; in a
        grid chat (a reminder or digest nobody could get privately), always.
        """
        if chat_id > 0:
            if not may_handle(await self._services.loop.actor(chat_id), ticket):
                return None
        elif (level := await self._duty_level(chat_id)) is not None and level is not ticket.level:
            return None
        return self._keyboards.card(ticket, locale)

    async def card(
        self,
        chat_id: int,
        template: str,
        ticket: Ticket,
        audience: Audience,
        *,
        reply_to: int | None = None,
        urgent: bool = False,
        **context: Any,
    ) -> Message | None:
        """A message about `ticket` with the buttons for its state, linked to the ticket.

        `urgent` (emergencies): not paced behind the chat's other messages (bot.rate_limit).
        """
        locale = await self._messenger.locale_for_chat(chat_id)
        context.setdefault("grid", await self._grid(ticket))
        keyboard = await self._handler_buttons(chat_id, ticket, locale)
        sent = await self._messenger.send(
            chat_id,
            template,
            locale=locale,
            reply_to=reply_to,
            keyboard=keyboard,
            reader=audience,
            urgent=urgent,
            ticket=ticket,
            **self._limits(ticket, locale),
            **context,
        )
        if sent is not None:
            await self._services.tickets.link_card(ticket.id, sent.chat_id, sent.message_id)
        return sent

    async def _link_news(self, ticket: Ticket, sent: Message | None) -> None:
        """News about a ticket answers for it too, but keeps its own buttons (or none)."""
        if sent is not None:
            await self._services.tickets.link_card(
                ticket.id, sent.chat_id, sent.message_id, buttons=False
            )

    async def refresh_cards(self, ticket: Ticket) -> None:
        """Every message standing for the ticket gets the buttons of its new state."""
        for chat_id, message_id, role in await self._services.tickets.cards_of(ticket.id):
            if role == "ack" and ticket.private:
                continue  # the reporter's own acknowledgement never had handlers' buttons
            locale = await self._messenger.locale_for_chat(chat_id)
            keyboard = (
                self._keyboards.card(ticket, locale, residents=True)
                if role == "ack"
                else await self._handler_buttons(chat_id, ticket, locale)
            )
            await self._messenger.edit_keyboard(chat_id, message_id, keyboard)

    def _resident_chat(self, ticket: Ticket, grid: Grid | None) -> tuple[int | None, int | None]:
        """Where the reporter hears about progress: privately for private tickets, else the
        group (as a reply to the report while the group has not migrated).
        """
        if ticket.private:
            return ticket.reporter_id, None
        if grid is None or grid.chat_id is None or not grid.active:
            return None, None
        return grid.chat_id, ticket.message_id if grid.chat_id == ticket.chat_id else None

    # --- a new ticket ---

    async def ticket_filed(
        self,
        outcome: IntakeOutcome,
        grid: Grid,
        chat_id: int,
        reply_to: int | None,
        *,
        private: bool,
        bot_username: str = "",
    ) -> None:
        """Tell the reporter what became of it; an emergency alerts everyone who must act."""
        ticket = outcome.ticket
        assert ticket is not None
        messenger = self._messenger
        services = self._services
        if outcome.result is IntakeResult.FOLLOWED:
            followed = await messenger.send(
                chat_id, "ticket_followed", reply_to=reply_to, ticket=ticket
            )
            if reply_to is not None:
                await services.tickets.answered(
                    chat_id,
                    reply_to,
                    followed.chat_id if followed else None,
                    followed.message_id if followed else None,
                    ticket_id=ticket.id,
                )
            else:
                await self._link_news(ticket, followed)
            return
        emergency = ticket.urgency is Urgency.EMERGENCY
        # Only an emergency names the heads (in its alert): no read for every other report.
        heads = await services.loop.heads_of(grid.id) if emergency else []
        sent: Message | None = None
        if private:
            sent = await messenger.send(
                chat_id,
                "ticket_ack_private",
                reply_to=reply_to,
                reader=Audience.REPORTER,
                ticket=ticket,
                grid=grid,
            )
        elif emergency:
            # One message, not two: the alert mentioning the heads is the acknowledgement.
            sent = await self._group_ack(
                chat_id, "emergency_alert", ticket, reply_to, urgent=True, heads=heads, grid=grid
            )
        elif services.config.intake.acknowledge == "reaction":
            if reply_to is not None:
                await messenger.react(chat_id, reply_to, "✍")
        else:
            sent = await self._group_ack(
                chat_id,
                "ticket_ack",
                ticket,
                reply_to,
                grid=grid,
                bot_username=bot_username,
                suggest_private=ticket.category in PRIVATE_HINT_CATEGORIES,
            )
        if sent is not None:
            await services.tickets.acknowledged(
                ticket.id,
                sent.chat_id,
                sent.message_id,
                (chat_id, reply_to) if reply_to is not None else None,
            )
        elif reply_to is not None:
            # Reaction mode or a refused chat: the report itself stands as the acknowledgement,
            # so a re-delivered update does not acknowledge it again.
            await services.tickets.acknowledged(ticket.id, chat_id, reply_to, (chat_id, reply_to))
        if emergency:
            await self._alert_emergency(ticket, grid, heads)

    async def _group_ack(
        self,
        chat_id: int,
        template: str,
        ticket: Ticket,
        reply_to: int | None,
        *,
        urgent: bool = False,
        **context: Any,
    ) -> Message | None:
        locale = await self._messenger.locale_for_chat(chat_id)
        return await self._messenger.send(
            chat_id,
            template,
            locale=locale,
            reply_to=reply_to,
            reader=Audience.GRID_GROUP,
            urgent=urgent,
            keyboard=self._keyboards.card(ticket, locale, residents=True),
            ticket=ticket,
            **self._limits(ticket, locale),
            **context,
        )

    async def report_edited(self, ticket: Ticket, bot_username: str = "") -> None:
        """The reporter edited their report: its acknowledgement follows (an emergency's
        stays the alert, with its deadline), for the same audience as before.
        """
        if ticket.ack_message_id is None or ticket.ack_message_id == ticket.message_id:
            return
        grid = await self._grid(ticket)
        chat_id = ticket.chat_id
        locale = await self._messenger.locale_for_chat(chat_id)
        context: dict[str, Any] = {"ticket": ticket, "grid": grid, **self._limits(ticket, locale)}
        if ticket.private:
            template, reader, keyboard = "ticket_ack_private", Audience.REPORTER, None
        else:
            reader = Audience.GRID_GROUP
            keyboard = self._keyboards.card(ticket, locale, residents=True)
            if ticket.urgency is Urgency.EMERGENCY:
                template = "emergency_alert"
                context["heads"] = await self._services.loop.heads_of(ticket.grid_id)
            else:
                template = "ticket_ack"
                context.update(
                    bot_username=bot_username,
                    suggest_private=ticket.category in PRIVATE_HINT_CATEGORIES,
                )
        text = self._messenger.render_for_chat(chat_id, template, locale, reader=reader, **context)
        await self._messenger.edit_text(chat_id, ticket.ack_message_id, text, keyboard)

    async def _alert_emergency(self, ticket: Ticket, grid: Grid, heads: list[Person]) -> None:
        """After the group alert: each head privately, and the community duty chat.

        A head who never opened a private chat cannot be messaged; the group mention still
        reaches them. A private report reaches the group never, the duty chat without its
        words (the audience rules), and the heads privately in full so they can call back.
        """
        for head in heads:
            if head.telegram_id != ticket.reporter_id:
                await self.card(
                    head.telegram_id,
                    "emergency_direct",
                    ticket,
                    Audience.HANDLER,
                    urgent=True,
                    grid=grid,
                )
        duty_chat = await self._services.grids.duty_chat(Level.COMMUNITY.value)
        if duty_chat is not None:
            await self.card(
                duty_chat,
                "emergency_duty",
                ticket,
                Audience.DUTY_CHAT,
                grid=grid,
                heads=heads,
                level=Level.COMMUNITY.value,
                outcome=None,
                urgent=True,
            )

    # --- the closed loop ---

    async def loop_event(self, outcome: LoopOutcome, *, acted_in: int | None = None) -> bool:
        """Tell everyone concerned by a transition; True when a message went to `acted_in`
        (the chat where someone acted), which then needs no confirmation of its own.
        """
        ticket = outcome.ticket
        event = outcome.action
        grid = await self._grid(ticket)
        chat_id, reply_to = self._resident_chat(ticket, grid)
        context: dict[str, Any] = {
            "outcome": outcome,
            "grid": grid,
            "handler": await self._person(ticket.handler_id),
            "actor": await self._person(outcome.actor_id),
        }
        told_here = False
        if event in RESIDENT_EVENTS and chat_id:
            audience = Audience.REPORTER if ticket.private else Audience.GRID_GROUP
            sent = await self._messenger.send(
                chat_id,
                f"resident_{event}",
                reply_to=reply_to,
                reader=audience,
                ticket=ticket,
                **context,
            )
            await self._link_news(ticket, sent)
            told_here |= sent is not None and chat_id == acted_in
        if event is TicketEvent.RESOLVED:
            told_here |= await self._ask_verification(outcome, chat_id, reply_to, acted_in)
        if event in (TicketEvent.TRANSFERRED, TicketEvent.REOPENED) and ticket.handler_id:
            await self.card(
                ticket.handler_id, f"handler_{event}", ticket, Audience.HANDLER, **context
            )
        if event is TicketEvent.ESCALATED:
            await self._alert_level(ticket, outcome, context)
        if event in (TicketEvent.REMIND_CLAIM, TicketEvent.REMIND_RESOLVE):
            await self._remind(ticket, event, grid, context)
        if event is TicketEvent.OVERDUE_TOP_LEVEL:
            duty_chat = await self._services.grids.duty_chat(Level.DISTRICT.value)
            if duty_chat:
                await self.card(
                    duty_chat, "overdue_top_level", ticket, Audience.DUTY_CHAT, **context
                )
        if outcome.previous is not ticket.status or event is TicketEvent.ESCALATED:
            # Buttons depend on the state (and the level): a reminder or a note changes
            # neither, so the ticket's cards are left alone.
            await self.refresh_cards(ticket)
        return told_here

    async def confirm(
        self, chat_id: int, outcome: LoopOutcome, *, reply_to: int | None = None
    ) -> None:
        """The actor's own confirmation, when nothing else went to their chat; a card too."""
        context: dict[str, Any] = {
            "outcome": outcome,
            "handler": await self._person(outcome.ticket.handler_id),
            "actor": await self._person(outcome.actor_id),
        }
        await self.card(
            chat_id,
            "loop_done",
            outcome.ticket,
            Audience.HANDLER if chat_id > 0 else Audience.GRID_GROUP,
            reply_to=reply_to,
            **context,
        )

    async def _ask_verification(
        self, outcome: LoopOutcome, chat_id: int | None, reply_to: int | None, acted_in: int | None
    ) -> bool:
        ticket = outcome.ticket
        people = [await self._person(p) for p in outcome.asked]
        asked = [p for p in people if p is not None]
        targets: list[tuple[int, int | None]]
        if ticket.private or chat_id is None:
            targets = [(p.telegram_id, None) for p in asked]
        else:
            targets = [(chat_id, reply_to)]
        told_here = False
        for target, reply in targets:
            locale = await self._messenger.locale_for_chat(target)
            sent = await self._messenger.send(
                target,
                "verify_ask",
                locale=locale,
                reply_to=reply,
                ticket=ticket,
                asked=asked,
                note=outcome.note,
                keyboard=self._keyboards.verify(ticket, outcome.round, locale),
            )
            await self._link_news(ticket, sent)
            told_here |= sent is not None and target == acted_in
        return told_here

    async def _alert_level(
        self, ticket: Ticket, outcome: LoopOutcome, context: dict[str, Any]
    ) -> None:
        """An escalation reaches the new level's duty chat as a card; an emergency, as the
        same alert the grid had (with the new claim limit), and each duty officer of that
        level privately.
        """
        level = ticket.level.value
        duty_chat = await self._services.grids.duty_chat(level)
        emergency = ticket.urgency is Urgency.EMERGENCY
        if duty_chat is None:
            log.warning(
                "ticket #%s escalated to %s, which has no duty chat configured", ticket.id, level
            )
        elif emergency:
            await self.card(
                duty_chat,
                "emergency_duty",
                ticket,
                Audience.DUTY_CHAT,
                heads=await self._services.loop.heads_of(ticket.grid_id),
                level=level,
                **context,
            )
        else:
            await self.card(duty_chat, "duty_card", ticket, Audience.DUTY_CHAT, **context)
        if emergency:
            for officer in await self._services.loop.duty_staff(level):
                await self.card(
                    officer, "emergency_direct", ticket, Audience.HANDLER, grid=context["grid"]
                )

    async def _remind(
        self, ticket: Ticket, event: TicketEvent, grid: Grid | None, context: dict[str, Any]
    ) -> None:
        if event is TicketEvent.REMIND_RESOLVE and ticket.handler_id:
            recipients = [ticket.handler_id]
        else:
            recipients = [p.telegram_id for p in await self._services.loop.heads_of(ticket.grid_id)]
        delivered = False
        for person in recipients:
            delivered |= (
                await self.card(person, str(event), ticket, Audience.HANDLER, **context) is not None
            )
        if not delivered and ticket.level is not Level.GRID:
            duty_chat = await self._services.grids.duty_chat(ticket.level.value)
            if duty_chat:
                delivered = (
                    await self.card(duty_chat, str(event), ticket, Audience.DUTY_CHAT, **context)
                    is not None
                )
        if not delivered and grid is not None and grid.chat_id and not ticket.private:
            # Nobody reachable privately: the grid chat still reaches the heads.
            await self.card(grid.chat_id, str(event), ticket, Audience.GRID_GROUP, **context)

    # --- the weekly report ---

    async def weekly_report(
        self, report: StatsReport, shown: list[Any], hidden: int, chart_png: bytes | None
    ) -> None:
        """Last week's figures and chart to the street duty chat (figures only, no ticket)."""
        chat_id = await self._services.grids.duty_chat(Level.STREET.value)
        if chat_id is None:
            log.warning("weekly report: no [escalation] street duty chat configured")
            return
        await self._messenger.send(
            chat_id,
            "stats",
            reader=Audience.DUTY_CHAT,
            report=report,
            shown=shown,
            hidden=hidden,
            weekly=True,
        )
        if chart_png is None:
            return
        try:
            await self._messenger.send_photo(
                chat_id, chart_png, "weekly.png", "weekly_chart_caption", report=report
            )
        except TelegramError:
            log.exception("weekly chart could not be sent")

    # --- the daily digest ---

    async def digest(self, digest: GridDigest) -> None:
        """To each head privately — the figures, then a card per overdue or unclaimed
        ticket —; if none can be reached that way, to the grid chat.
        """
        now = self._services.clock.now()
        waiting = [
            t
            for t in digest.open
            if is_overdue(t, now) or t.status in (TicketStatus.OPEN, TicketStatus.REOPENED)
        ]
        waiting.sort(key=lambda t: (not is_overdue(t, now), t.created_at))
        items = waiting[:DIGEST_CARDS]
        targets = [(h.telegram_id, Audience.HANDLER) for h in digest.heads]
        delivered = await self._digest_to(targets, digest, items, len(waiting), now)
        if not delivered and digest.grid.chat_id is not None:
            await self._digest_to(
                [(digest.grid.chat_id, Audience.GRID_GROUP)], digest, items, len(waiting), now
            )

    async def _digest_to(
        self,
        targets: list[tuple[int, Audience]],
        digest: GridDigest,
        items: list[Ticket],
        waiting: int,
        now: Any,
    ) -> bool:
        delivered = False
        for chat_id, audience in targets:
            sent = await self._messenger.send(
                chat_id, "digest", reader=audience, digest=digest, items=items, waiting=waiting
            )
            if sent is None:
                continue
            delivered = True
            for ticket in items:
                await self.card(
                    chat_id,
                    "digest_item",
                    ticket,
                    audience,
                    grid=digest.grid,
                    overdue=is_overdue(ticket, now),
                )
        return delivered
