"""Residents: free text in a grid chat or a private chat becomes a ticket; /report, /my, /status.

Handlers stay thin: turn the update into an IncomingReport, call TicketService, render.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.ext import MessageHandler, filters

from bot.domain.errors import UserError
from bot.domain.intake import IntakeParser
from bot.domain.models import Grid, Person, Urgency
from bot.domain.permissions import Audience
from bot.domain.text import whole_number
from bot.domain.tickets import Source
from bot.services.tickets import MAX_TICKET_TEXT, IncomingReport, IntakeOutcome, IntakeResult
from handlers.buttons import Button, ButtonPress, CallbackData
from handlers.cards import ResidentAction, ResidentPress, ticket_keyboard, ticket_on_message
from handlers.context import GridApplication, GridContext
from handlers.paging import Asker, ListName, PagedList, PageView, page_of, reply_page
from handlers.registry import Command, CommandCall, is_anonymous_sender

log = logging.getLogger(__name__)


def _person(user: Any) -> Person:
    return Person(telegram_id=user.id, display_name=user.full_name, username=user.username)


def _text_of(message: Message) -> str:
    return (message.text or message.caption or "").strip()


def _photo_id(message: Message) -> str | None:
    return message.photo[-1].file_id if message.photo else None


async def group_message(update: Update, context: GridContext) -> None:
    """Any text (or captioned photo) in a grid chat: maybe a request."""
    message = update.message
    if message is None or message.from_user is None:
        return
    if message.forward_origin is not None or message.via_bot is not None:
        return  # relayed content is not the sender's own report; /report can file it
    if is_anonymous_sender(message) or message.from_user.is_bot:
        return
    services = context.services
    grid = await services.grids.grid_for_chat(message.chat_id)
    if grid is None or not grid.active:
        return
    await services.tickets.note_resident(grid.id, message.from_user.id)
    text = _text_of(message)
    if not text or text.startswith("/"):
        return  # a command in a photo's caption is handled (or refused) as a command
    outcome = await services.tickets.intake(
        IncomingReport(
            grid=grid,
            chat_id=message.chat_id,
            message_id=message.message_id,
            sender=_person(message.from_user),
            text=text,
            source=Source.GROUP,
            photo_file_id=_photo_id(message),
        )
    )
    await _after_intake(context, outcome, grid, message, private=False)


async def _after_intake(
    context: GridContext, outcome: IntakeOutcome, grid: Grid, message: Message, *, private: bool
) -> None:
    if outcome.result is IntakeResult.IGNORED:
        if private:
            await context.messenger.send(
                message.chat_id, "private_not_a_request", reply_to=message.message_id
            )
        return
    if outcome.result is IntakeResult.RATE_LIMITED:
        if not outcome.tell_sender:
            return
        refused = await context.messenger.send(
            message.chat_id,
            "errors/rate_limited",
            reply_to=message.message_id,
            limit=context.services.config.intake.max_tickets_per_hour,
        )
        await context.services.tickets.answered(
            message.chat_id,
            message.message_id,
            refused.chat_id if refused else None,
            refused.message_id if refused else None,
        )
        return
    if outcome.result is IntakeResult.ALREADY and outcome.acknowledged:
        return
    await context.notifier.ticket_filed(
        outcome,
        grid,
        message.chat_id,
        message.message_id,
        private=private,
        bot_username=context.runtime.bot_username,
    )


async def edited_message(update: Update, context: GridContext) -> None:
    """An edited report updates its open ticket; the acknowledgement follows the edit."""
    message = update.edited_message
    if message is None or message.from_user is None:
        return
    text = _text_of(message)
    if not text:
        return
    services = context.services
    ticket = await services.tickets.edited(
        message.chat_id, message.message_id, text, message.from_user.id
    )
    if ticket is not None:
        await context.notifier.report_edited(ticket, context.runtime.bot_username)


async def media_reply(update: Update, context: GridContext) -> None:
    """A photo or location sent as a reply to a ticket's message attaches to that ticket."""
    message = update.message
    if message is None or message.from_user is None or message.reply_to_message is None:
        return
    services = context.services
    kind = "location" if message.location else "photo"
    ticket = await services.tickets.attach(
        message.chat_id,
        message.reply_to_message.message_id,
        _person(message.from_user),
        kind=kind,
        file_id=_photo_id(message),
        latitude=message.location.latitude if message.location else None,
        longitude=message.location.longitude if message.location else None,
    )
    if ticket is None:
        if message.chat.type == Chat.PRIVATE:
            await private_message(update, context)
        elif message.caption:
            await group_message(update, context)
        return
    await context.messenger.send(
        message.chat_id, "ticket_attached", reply_to=message.message_id, ticket=ticket, kind=kind
    )


async def private_message(update: Update, context: GridContext) -> None:
    """A resident writes to the bot directly: a private report, never echoed in the group."""
    message = update.message
    if message is None or message.from_user is None:
        return
    if message.forward_origin is not None:
        await context.messenger.send(
            message.chat_id, "errors/forwarded_private", reply_to=message.message_id
        )
        return
    text = _text_of(message)
    if not text:
        await context.messenger.send(
            message.chat_id, "errors/text_please", reply_to=message.message_id
        )
        return
    if context.services.grids.is_staff(message.from_user.id):
        # Staff write drafts here (e.g. a notice's text, to /notice as a reply); they file
        # tickets with /report, so plain text from them is not a report.
        return
    await _private_report(context, message, text, forced=False)


async def _private_report(
    context: GridContext, message: Message, text: str, *, forced: bool
) -> None:
    assert message.from_user is not None
    services = context.services
    grid_id, choices = await services.tickets.private_grid_choice(message.from_user.id)
    if grid_id is None:
        await _ask_for_grid(context, message, choices)
        return
    grid = await services.grids.grid(grid_id)
    if grid is None:
        await _ask_for_grid(context, message, choices)
        return
    outcome = await services.tickets.intake(
        IncomingReport(
            grid=grid,
            chat_id=message.chat_id,
            message_id=message.message_id,
            sender=_person(message.from_user),
            text=text,
            source=Source.PRIVATE,
            private=True,
            photo_file_id=_photo_id(message),
            forced=forced,
        )
    )
    await _after_intake(context, outcome, grid, message, private=True)


async def _ask_for_grid(context: GridContext, message: Message, choices: list[int]) -> None:
    grids = context.services.grids
    options = [g for g in [await grids.grid(i) for i in choices] if g is not None]
    if not options:
        await context.messenger.send(
            message.chat_id, "private_no_grid", reply_to=message.message_id
        )
        return
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"{g.code} {g.name}", callback_data=PickGridPress(g.id).pack())]
            for g in options[:10]
        ]
    )
    await context.messenger.send(
        message.chat_id, "private_pick_grid", reply_to=message.message_id, keyboard=keyboard
    )


@dataclass(frozen=True, slots=True)
class PickGridPress(CallbackData, prefix="pg"):
    """pg:<grid id> — which grid a private report goes to."""

    grid_id: int


async def pick_grid_button(press: ButtonPress[PickGridPress]) -> None:
    """[CODE 名称] under "which grid?": only grids the person has written in are offered."""
    services = press.context.services
    user_id = press.user.id
    grid = await services.grids.grid(press.data.grid_id)
    if grid is None or not await services.tickets.may_choose_private_grid(user_id, grid.id):
        raise UserError("confirmation_gone")
    await services.tickets.choose_private_grid(user_id, grid.id)
    await press.answer()
    await press.edit_text("private_grid_chosen", grid=grid)


async def ticket_button(press: ButtonPress[ResidentPress]) -> None:
    """[不是报事] and [我也遇到 +1]; role and the ticket's state are re-checked by the service."""
    services = press.context.services
    user = press.user
    ticket_id = press.data.ticket_id
    await ticket_on_message(press, ticket_id)
    await services.people.seen(
        telegram_id=user.id,
        display_name=user.full_name,
        username=user.username,
        language_code=user.language_code,
        in_private_chat=False,
    )
    if press.data.action is ResidentAction.NOT_A_REQUEST:
        ticket = await services.tickets.cancel_not_a_request(ticket_id, press.roles, user.id)
        await press.toast("ticket_cancelled_toast", ticket=ticket)
        await press.edit_text("ticket_cancelled", ticket=ticket)
    else:
        ticket = await services.tickets.follow(ticket_id, _person(user))
        await press.toast("ticket_followed_toast", ticket=ticket)
        await press.edit_keyboard(ticket_keyboard(press.context, ticket, press.chat_locale))


async def report(call: CommandCall) -> None:
    """/report 文字 — file it as a ticket; sent as a reply, files the replied-to message."""
    services = call.context.services
    replied = call.message.reply_to_message
    target = replied if replied is not None and not call.args else call.message
    text = call.args if target is call.message else _text_of(target)
    if not text:
        raise UserError("report_usage")
    reporter = target.from_user if target is replied and target.from_user else call.user
    if call.chat.type == Chat.PRIVATE:
        await _private_report(call.context, call.message, text, forced=True)
        return
    if call.grid is None:
        raise UserError("not_a_grid_chat")
    is_patrol = call.roles.serves(call.grid.id) and target is call.message
    outcome = await services.tickets.intake(
        IncomingReport(
            grid=call.grid,
            chat_id=call.chat.id,
            message_id=target.message_id,
            sender=_person(reporter),
            text=text,
            source=Source.PATROL if is_patrol else Source.COMMAND,
            photo_file_id=_photo_id(target),
            forced=True,
        )
    )
    if outcome.result is IntakeResult.ALREADY:
        if outcome.ticket is not None and outcome.acknowledged:
            await call.reply("ticket_exists", ticket=outcome.ticket)
            return
    await _after_intake(call.context, outcome, call.grid, target, private=False)


MY_TICKETS_PER_PAGE = 10
MY_TICKETS_LISTED = 200  # the newest


async def my_tickets(call: CommandCall) -> None:
    """/my — your tickets and their status."""
    await reply_page(call, ListName.MY, my_tickets_page)


async def my_tickets_page(asker: Asker, _args: str, page: int, _locale: str) -> PageView:
    """A page of /my: the tickets the person reported or follows; private ones only in the private
    chat.
    """
    private = asker.chat.type == Chat.PRIVATE
    tickets = await asker.context.services.tickets.of_person(asker.user.id, MY_TICKETS_LISTED)
    # Private tickets are listed only in the private chat: leave them out before paging.
    part = page_of([t for t in tickets if private or not t.private], page, MY_TICKETS_PER_PAGE)
    return PageView(
        "my_tickets", {"tickets": part.items, "private": private}, part.page, part.pages
    )


async def ticket_status(call: CommandCall) -> None:
    """/status 编号 — one of your tickets."""
    ticket_id = parse_ticket_id(call.args)
    services = call.context.services
    ticket = await services.tickets.status_for(ticket_id, call.roles, call.user.id)
    if ticket.private and call.chat.type != Chat.PRIVATE:
        raise UserError("private_ticket_in_group", id=ticket.id)
    await call.reply("ticket_status", ticket=ticket)


async def set_category(call: CommandCall) -> None:
    """/category 编号 分类代码 — correct a ticket's category (grid heads/workers, staff)."""
    parts = call.arg_list
    if len(parts) != 2:
        raise UserError("category_usage")
    ticket = await call.context.services.tickets.set_category(
        parse_ticket_id(parts[0]), parts[1].lower(), call.roles, call.user.id
    )
    await call.reply("ticket_category_set", ticket=ticket)


def parse_ticket_id(text: str) -> int:
    """The ticket number a command's argument starts with (full-width digits too); a polite
    UserError otherwise.
    """
    ticket_id = whole_number(text.split()[0]) if text.split() else None
    if ticket_id is None:
        raise UserError("bad_ticket_id", given=text[:20])
    return ticket_id


async def start_deep_link(call: CommandCall) -> bool:
    """/start g_CODE in a private chat: reports from here go to grid CODE. True if handled."""
    if not call.args.startswith("g_"):
        return False
    code = call.args[2:].split()[0] if call.args[2:].split() else ""
    services = call.context.services
    grid = await services.grids.grid_by_code(code) if code else None
    if grid is None:
        raise UserError("unknown_grid", code=code[:40])
    await services.tickets.choose_private_grid(call.user.id, grid.id)
    await call.reply("private_grid_chosen", grid=grid)
    return True


def register_resident_handlers(application: GridApplication) -> None:
    """Route residents' messages: replies with photos or places, and free text in grid and private
    chats.
    """
    reply_media = filters.REPLY & (filters.PHOTO | filters.LOCATION)
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.GROUPS & reply_media, media_reply
        ),
        group=1,
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & reply_media, media_reply
        ),
        group=1,
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.GROUPS
            & ~filters.COMMAND
            & ~reply_media
            & (filters.TEXT | filters.CAPTION),
            group_message,
        ),
        group=1,
    )
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.ChatType.PRIVATE
            & ~filters.COMMAND
            & ~reply_media
            & ~filters.StatusUpdate.ALL,
            private_message,
        ),
        group=1,
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & ~filters.COMMAND, edited_message),
        group=1,
    )


COMMANDS: tuple[Command, ...] = (
    Command("report", report, Audience.EVERYONE),
    Command("my", my_tickets, Audience.EVERYONE),
    Command("status", ticket_status, Audience.EVERYONE),
    Command("category", set_category, Audience.GRID_STAFF),
)

BUTTONS: tuple[Button, ...] = (
    # Who may cancel or follow depends on the ticket: the service decides.
    Button(ResidentPress, ticket_button, Audience.EVERYONE),
    Button(PickGridPress, pick_grid_button, Audience.EVERYONE),
)


def urgency_check(parser: IntakeParser) -> Callable[[object], bool]:
    """Whether an update is an emergency report, which then overtakes its chat's backlog."""

    def is_urgent(update: object) -> bool:
        if not isinstance(update, Update) or update.message is None:
            return False
        text = _text_of(update.message)
        if not text or text.startswith("/"):
            return False
        parsed = parser.parse(text[:MAX_TICKET_TEXT])
        return parsed.is_request and parsed.urgency is Urgency.EMERGENCY

    return is_urgent


LISTS: dict[ListName, PagedList] = {ListName.MY: my_tickets_page}
