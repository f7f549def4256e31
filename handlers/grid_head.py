"""Grid heads, workers and duty staff close the loop: /open, /claim, /close, /reopen,
/transfer, /escalate, /reject, /note, /log, /logs, /duty; card and verification buttons.

Sent as a reply to a ticket's message (acknowledgement, alert, card, the report itself), a
command needs no ticket number.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Chat, Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.domain.errors import UserError
from bot.domain.events import TicketEvent
from bot.domain.loop import Actor, is_overdue
from bot.domain.permissions import Audience
from bot.domain.schedule import format_duration
from bot.domain.text import whole_number
from bot.domain.tickets import TicketStatus
from bot.services.loop import REASON_BUTTON, LoopOutcome
from handlers.buttons import Button, ButtonPress
from handlers.cards import CardAction, CardPress, VerifyAnswer, VerifyPress, ticket_on_message
from handlers.context import GridApplication, GridContext
from handlers.paging import (
    Asker,
    ListName,
    PagedList,
    PageView,
    page_of,
    reply_page,
    unpacked_args,
)
from handlers.registry import Command, CommandCall, Where
from handlers.staff import target_person

log = logging.getLogger(__name__)

CLOSE_NOTE_TTL = timedelta(minutes=30)


async def _ticket_and_rest(call: CommandCall) -> tuple[int, str]:
    """The ticket a command is about (first argument, or the replied-to ticket message)."""
    replied = call.message.reply_to_message
    first, _sep, rest = call.args.partition(" ")
    ticket_id = whole_number(first)
    if ticket_id is not None:
        return ticket_id, rest.strip()
    if replied is not None:
        linked = await call.context.services.tickets.ticket_id_of_message(
            call.chat.id, replied.message_id
        )
        if linked is not None:
            return linked, call.args
    command = call.message.text.split()[0] if call.message.text else ""
    raise UserError("needs_ticket_id", command=command)


async def _done(call: CommandCall, outcome: LoopOutcome) -> None:
    """Tell everyone concerned; whoever acted gets a confirmation only when none of that
    went to their chat (one group message per action).
    """
    notifier = call.context.notifier
    if not await notifier.loop_event(outcome, acted_in=call.chat.id):
        await notifier.confirm(call.chat.id, outcome, reply_to=call.message.message_id)


async def _actor(call: CommandCall) -> Actor:
    return await call.context.services.loop.actor(call.user.id)


TICKETS_PER_PAGE = 10
LOGS_PER_PAGE = 10
LOGS_LISTED = 200  # the newest


async def open_tickets(call: CommandCall) -> None:
    """/open [分类] [状态] — open tickets, most urgent and oldest first; overdue marked."""
    await reply_page(call, ListName.OPEN, open_page)


async def open_page(asker: Asker, args: str, page: int, _locale: str) -> PageView:
    """A page of /open: the open tickets the asker may see, filtered by status or category words;
    private tickets only in private.
    """
    services = asker.context.services
    category = status = None
    for word in unpacked_args(args):
        if word in {s.value for s in TicketStatus}:
            status = TicketStatus(word)
        elif word in services.tickets.parser.vocabulary.categories:
            category = word
        else:
            raise UserError("open_usage", word=word[:30])
    actor = await services.loop.actor(asker.user.id)
    tickets = await services.loop.open_for(
        actor, asker.grid.id if asker.grid else None, category=category, status=status
    )
    if asker.chat.type != Chat.PRIVATE:
        tickets = [t for t in tickets if not t.private]
    now = services.clock.now()
    part = page_of(tickets, page, TICKETS_PER_PAGE)
    return PageView(
        "open_list",
        {
            "tickets": part.items,
            "total": part.total,
            "grid": asker.grid,
            "overdue": {t.id for t in part.items if is_overdue(t, now)},
        },
        part.page,
        part.pages,
    )


async def claim(call: CommandCall) -> None:
    """/claim 编号 — take a ticket."""
    ticket_id, _rest = await _ticket_and_rest(call)
    outcome = await call.context.services.loop.claim(ticket_id, await _actor(call))
    await _done(call, outcome)


async def close(call: CommandCall) -> None:
    """/close 编号 办结说明 — handled (a photo with this caption is kept as proof)."""
    ticket_id, note = await _ticket_and_rest(call)
    proof = call.message.photo[-1].file_id if call.message.photo else None
    outcome = await call.context.services.loop.resolve(ticket_id, await _actor(call), note, proof)
    await _done(call, outcome)


async def reopen(call: CommandCall) -> None:
    """/reopen 编号 原因 — back to its handler."""
    ticket_id, reason = await _ticket_and_rest(call)
    outcome = await call.context.services.loop.reopen(ticket_id, await _actor(call), reason)
    await _done(call, outcome)


async def transfer(call: CommandCall) -> None:
    """/transfer 编号 (reply to or mention a head/worker of the grid)."""
    ticket_id, rest = await _ticket_and_rest(call)
    person = await target_person(call, allow_reply=not _replied_is_ticket(call), words=rest.split())
    outcome = await call.context.services.loop.transfer(ticket_id, await _actor(call), person)
    await _done(call, outcome)


def _replied_is_ticket(call: CommandCall) -> bool:
    replied = call.message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.is_bot


async def escalate(call: CommandCall) -> None:
    """/escalate 编号 原因 — up one level (grid → community → street → district)."""
    ticket_id, reason = await _ticket_and_rest(call)
    outcome = await call.context.services.loop.escalate(ticket_id, await _actor(call), reason)
    await _done(call, outcome)


async def reject(call: CommandCall) -> None:
    """/reject 编号 代码 原因 — closed without a fix.

    Codes: unable, not_ours, duplicate N, referred, invalid.
    """
    ticket_id, rest = await _ticket_and_rest(call)
    outcome = await call.context.services.loop.reject(ticket_id, await _actor(call), rest)
    await _done(call, outcome)


async def note(call: CommandCall) -> None:
    """/note 编号 内容 — an internal note (not shown to residents)."""
    ticket_id, text = await _ticket_and_rest(call)
    outcome = await call.context.services.loop.note(ticket_id, await _actor(call), text)
    await call.context.notifier.confirm(call.chat.id, outcome, reply_to=call.message.message_id)


async def patrol_log(call: CommandCall) -> None:
    """/log 内容 — a patrol or home-visit record (走访/巡查日志) for this grid."""
    assert call.grid is not None
    await call.context.services.loop.log_patrol(call.grid.id, call.user.id, call.args)
    await call.reply("log_saved", grid=call.grid)


async def patrol_logs(call: CommandCall) -> None:
    """/logs — recent patrol records (this grid, or in private every grid you serve)."""
    await reply_page(call, ListName.LOGS, logs_page)


async def logs_page(asker: Asker, _args: str, page: int, _locale: str) -> PageView:
    """A page of /logs: the latest patrol notes of this grid, or of every grid the asker serves (all
    for staff).
    """
    roles = asker.roles
    services = asker.context.services
    all_grids = await services.grids.all_grids()
    grid_ids = [asker.grid.id] if asker.grid else sorted({g.id for g, _r in roles.grid_roles})
    if asker.grid is None and roles.is_staff:
        grid_ids = [g.id for g in all_grids]
    rows = await services.loop.patrol_logs(grid_ids, limit=LOGS_LISTED)
    part = page_of(rows, page, LOGS_PER_PAGE)
    return PageView(
        "log_list",
        {"logs": part.items, "grids": {g.id: g for g in all_grids}},
        part.page,
        part.pages,
    )


async def duty(call: CommandCall) -> None:
    """/duty 级别 (reply or mention) — make someone duty staff of community/street/district."""
    await _duty(call, on=True)


async def unduty(call: CommandCall) -> None:
    """/unduty 级别 (reply or mention) — remove a duty role."""
    await _duty(call, on=False)


async def _duty(call: CommandCall, *, on: bool) -> None:
    level = call.arg_list[0].lower() if call.arg_list else ""
    if level not in ("community", "street", "district"):
        raise UserError("duty_usage")
    person = await target_person(call)
    changed = await call.context.services.loop.set_duty(level, person, on=on, by=call.user.id)
    await call.reply("duty_set", person=person, level=level, on=on, changed=changed)


# --- buttons ---


async def card_button(press: ButtonPress[CardPress]) -> None:
    """[认领] [办结] [升级] under a ticket; role and state re-checked on every press."""
    context = press.context
    ticket_id = press.data.ticket_id
    chat_id = press.chat.id
    await ticket_on_message(press, ticket_id)
    loop = context.services.loop
    actor = await loop.actor(press.user.id)
    if press.data.action is CardAction.CLAIM:
        outcome = await loop.claim(ticket_id, actor)
    elif press.data.action is CardAction.ESCALATE:
        outcome = await loop.escalate(ticket_id, actor, REASON_BUTTON)
    else:
        await _ask_for_close_note(context, chat_id, actor, ticket_id)
        await press.toast("close_note_toast", id=ticket_id)
        chat_locale = await context.messenger.locale_for_chat(chat_id)
        await context.messenger.send(
            chat_id,
            "close_note_ask",
            locale=chat_locale,
            user=press.user,
            id=ticket_id,
            within=format_duration(CLOSE_NOTE_TTL, chat_locale),
        )
        return
    await press.toast("loop_done", outcome=outcome, **await _names(context, outcome))
    await context.notifier.loop_event(outcome)


async def _ask_for_close_note(
    context: GridContext, chat_id: int, actor: Actor, ticket_id: int
) -> None:
    """[办结] pressed: the presser's next message in this chat is the closing note."""
    await context.services.loop.ask_close_note(chat_id, actor, ticket_id, CLOSE_NOTE_TTL)


async def close_note_message(update: Update, context: GridContext) -> None:
    """The message after [办结]: it is the note (and never a new report)."""
    message = update.message
    if message is None or message.from_user is None:
        return
    ticket_id = await context.services.loop.take_close_note(message.chat_id, message.from_user.id)
    if ticket_id is None:
        return
    text = (message.text or message.caption or "").strip()
    locale = await context.messenger.locale_for_chat(
        message.chat_id, message.from_user.language_code
    )
    loop = context.services.loop
    try:
        outcome = await loop.resolve(
            ticket_id,
            await loop.actor(message.from_user.id),
            text,
            message.photo[-1].file_id if message.photo else None,
        )
    except UserError as exc:
        await context.messenger.send(
            message.chat_id,
            f"errors/{exc.code}",
            locale=locale,
            reply_to=message.message_id,
            **exc.context,
        )
        raise ApplicationHandlerStop from None
    if not await context.notifier.loop_event(outcome, acted_in=message.chat_id):
        await context.notifier.confirm(message.chat_id, outcome, reply_to=message.message_id)
    raise ApplicationHandlerStop


async def verify_button(press: ButtonPress[VerifyPress]) -> None:
    """[已解决 ✅] [未解决 ❌] [1–5 ⭐] — only the people asked may answer."""
    data = press.data
    loop = press.context.services.loop
    if data.answer in (VerifyAnswer.SOLVED, VerifyAnswer.NOT_SOLVED):
        outcome = await loop.verify(
            data.ticket_id, data.round, press.user.id, solved=data.answer is VerifyAnswer.SOLVED
        )
    else:
        outcome = await loop.verify(
            data.ticket_id, data.round, press.user.id, score=int(data.answer.value)
        )
    await press.toast("verify_thanks", outcome=outcome)
    if outcome.action in (TicketEvent.CONFIRMED, TicketEvent.REOPENED):
        await press.context.notifier.loop_event(outcome)


async def _names(context: GridContext, outcome: LoopOutcome) -> dict[str, Any]:
    people = context.services.people
    handler = outcome.ticket.handler_id
    return {
        "handler": await people.get(handler) if handler else None,
        "actor": await people.get(outcome.actor_id) if outcome.actor_id else None,
    }


def register_grid_head_handlers(application: GridApplication) -> None:
    """Route the message after [办结], the closing note, to the pending close before intake sees it
    (group 0).
    """
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.COMMAND & (filters.TEXT | filters.CAPTION),
            close_note_message,
        ),
        group=0,
    )


COMMANDS: tuple[Command, ...] = (
    Command("open", open_tickets, Audience.HANDLERS),
    Command("claim", claim, Audience.HANDLERS),
    Command("close", close, Audience.HANDLERS, with_photo=True),
    Command("reopen", reopen, Audience.HANDLERS),
    Command("transfer", transfer, Audience.HANDLERS),
    Command("escalate", escalate, Audience.HANDLERS),
    Command("reject", reject, Audience.HANDLERS),
    Command("note", note, Audience.HANDLERS),
    Command("log", patrol_log, Audience.GRID_STAFF, Where.GROUP, needs_grid=True),
    Command("logs", patrol_logs, Audience.GRID_STAFF),
    Command("duty", duty, Audience.STAFF),
    Command("unduty", unduty, Audience.STAFF),
)

BUTTONS: tuple[Button, ...] = (
    # The loop rules decide per ticket (grid, level, state); the table only keeps out
    # people who handle nothing anywhere.
    Button(CardPress, card_button, Audience.HANDLERS),
    # Only the people asked may answer: checked by the loop service.
    Button(VerifyPress, verify_button, Audience.EVERYONE),
)

LISTS: dict[ListName, PagedList] = {ListName.OPEN: open_page, ListName.LOGS: logs_page}
