"""Staff notices to grids: /notice (preview, [确认]/[取消]), /notices, /notice_show,
/notice_pause, /notice_resume, /notice_cancel, and what a `notice.run` timer does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler

from bot.domain.errors import UserError
from bot.domain.notices import parse_notice_id
from bot.domain.schedule import format_duration
from bot.services.container import Services
from bot.services.notices import NOTICE_TIMER
from bot.services.timers import AfterCommit
from bot.storage.database import Transaction
from bot.storage.timers import Timer
from handlers.context import GridContext
from handlers.registry import CommandCall

NOTICE_CONFIRM = "n:ok:"
NOTICE_DISCARD = "n:no:"


def _html_of(message: Message) -> str:
    if message.text:
        return message.text_html
    return message.caption_html if message.caption else ""


def notice_text(message: Message) -> str:
    """The notice as Telegram HTML: the lines after the command, else the replied-to message."""
    body = _html_of(message).partition("\n")[2]
    if not body.strip() and message.reply_to_message is not None:
        body = _html_of(message.reply_to_message)
    return body


async def notice(call: CommandCall) -> None:
    """/notice <when> <targets> [pin], the text on the next lines: preview, then [确认]/[取消]."""
    command_line = call.args.partition("\n")[0].strip()
    if not command_line:
        raise UserError("notice_usage")
    draft = await call.context.services.notices.draft(
        call.user.id, call.locale, command_line, notice_text(call.message)
    )
    messenger = call.context.messenger
    # Exactly what the first grid will receive, then what, where and when, with the buttons.
    await messenger.send_text(call.chat.id, draft.preview, reply_to=call.message.message_id)
    render = messenger.renderer.render
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(render("buttons/notice_confirm", call.locale),
                             callback_data=f"{NOTICE_CONFIRM}{draft.notice.id}"),
        InlineKeyboardButton(render("buttons/cancel", call.locale),
                             callback_data=f"{NOTICE_DISCARD}{draft.notice.id}"),
    ]])
    await call.reply("notice_preview", keyboard=keyboard, draft=draft,
                     schedule=draft.notice.schedule.describe(call.locale))


async def notice_button(update: Update, context: GridContext) -> None:
    """[确认]/[取消] under a preview: staff only, and only while the draft is still a draft."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    services = context.services
    renderer = context.messenger.renderer
    locale = await context.messenger.locale_for_chat(
        query.message.chat.id, query.from_user.language_code
    )
    if not services.grids.is_staff(query.from_user.id):
        await query.answer(renderer.render("errors/button_not_allowed", locale), show_alert=True)
        return
    try:
        notice_id = int(query.data.rsplit(":", 1)[1])
        if query.data.startswith(NOTICE_CONFIRM):
            confirmed = await services.notices.confirm(notice_id)
            text = renderer.render("notice_confirmed", locale, notice=confirmed,
                                   schedule=confirmed.schedule.describe(locale))
        else:
            await services.notices.discard(notice_id)
            text = renderer.render("notice_discarded", locale)
    except ValueError:
        await query.answer(renderer.render("errors/confirmation_gone", locale), show_alert=True)
        return
    except UserError as exc:
        await query.answer(renderer.render(f"errors/{exc.code}", locale, **exc.context),
                           show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)


async def notices(call: CommandCall) -> None:
    """/notices — scheduled and past notices with their next run."""
    listing = await call.context.services.notices.listing()
    await call.reply("notices_list", notices=[
        (n, n.schedule.describe(call.locale)) for n in listing
    ])


async def notice_show(call: CommandCall) -> None:
    """/notice_show 3 — the text, the schedule and the report of each recent run."""
    found, reports = await call.context.services.notices.show(
        parse_notice_id(call.args, "notice_show")
    )
    await call.reply("notice_detail", notice=found, reports=reports,
                     schedule=found.schedule.describe(call.locale))


async def notice_pause(call: CommandCall) -> None:
    """/notice_pause 3 — no more runs until /notice_resume."""
    paused = await call.context.services.notices.pause(parse_notice_id(call.args, "notice_pause"))
    await call.reply("notice_paused", notice=paused)


async def notice_resume(call: CommandCall) -> None:
    """/notice_resume 3 — runs again from the next moment of its schedule."""
    resumed, due = await call.context.services.notices.resume(
        parse_notice_id(call.args, "notice_resume")
    )
    await call.reply("notice_resumed", notice=resumed, due=due,
                     now=call.context.services.clock.now())


async def notice_cancel(call: CommandCall) -> None:
    """/notice_cancel 3 — no more runs; a run in progress stops."""
    cancelled, stopped = await call.context.services.notices.cancel(
        parse_notice_id(call.args, "notice_cancel")
    )
    await call.reply("notice_cancelled", notice=cancelled, stopped=stopped)


def register_notice_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    application.add_handler(CallbackQueryHandler(notice_button, pattern=r"^n:(ok|no):"))


async def register_notice_timers(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services
) -> None:
    """A `notice.run` timer records the run (or a missed one); sending starts after commit."""
    context = GridContext(application)

    async def on_run(timer: Timer, tx: Transaction, now: datetime) -> AfterCommit:
        start = await services.notices.on_timer(timer, tx, now)
        if start is None:
            return None

        async def after() -> None:
            if not start.missed:
                broadcasts = context.runtime.broadcasts
                assert broadcasts is not None, "bot.app builds the broadcaster"
                broadcasts.launch(start.run_id)
                return
            notice = start.notice
            await context.messenger.send(
                notice.author_id, "notice_missed", locale=notice.locale, notice=notice,
                due_at=start.due_at, next_run_at=start.next_run_at,
                grace=format_duration(services.notices.settings.grace, notice.locale),
            )

        return after

    services.timers.on(NOTICE_TIMER, on_run)
