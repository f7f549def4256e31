"""/console, and the console's actions told to the chats exactly as the chat commands tell them.

/console sends a one-time login link privately (never into a group) and, where the console
is served over https, a Mini App button; the web pages themselves live in bot.web.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import TelegramError

from bot.domain.errors import UserError
from bot.domain.events import TicketEvent
from bot.domain.loop import Action, Actor
from bot.domain.permissions import Audience
from bot.services.loop import LoopOutcome
from handlers.context import GridApplication, GridContext
from handlers.grid_head import _names
from handlers.registry import Command, CommandCall

log = logging.getLogger(__name__)


async def console(call: CommandCall) -> None:
    """/console — open the staff console (a login link sent privately, or the Mini App)."""
    server = call.context.runtime.console
    if server is None:
        raise UserError("console_off")
    secret = await call.context.services.console.issue_login_link(call.user.id)
    link = server.login_url(secret)
    keyboard = None
    if server.serves_mini_app:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        call.context.messenger.renderer.render("buttons/console_open", call.locale),
                        web_app=WebAppInfo(server.mini_app_url),
                    )
                ]
            ]
        )
    private_locale = await call.context.messenger.locale_for_chat(
        call.user.id, call.user.language_code
    )
    sent = await call.context.messenger.send(
        call.user.id, "console_link", locale=private_locale, keyboard=keyboard, link=link
    )
    if call.chat.id != call.user.id:
        await call.reply(
            "console_sent_privately" if sent else "console_start_private",
            bot_username=call.context.runtime.bot_username,
        )
    if sent and server.serves_mini_app:
        await _menu_button(call, server.mini_app_url, private_locale)


async def _menu_button(call: CommandCall, url: str, locale: str) -> None:
    """The chat's menu button opens the console from then on (staff, heads, duty staff)."""
    await set_console_menu_button(call.context.application, call.user.id, url, locale)


async def set_console_menu_button(
    application: GridApplication, telegram_id: int, url: str, locale: str | None = None
) -> None:
    """Put the console's web-app button in the person's private chat menu; logged, not raised, when
    Telegram refuses.
    """
    runtime = application.bot_data.runtime
    assert runtime is not None
    text = runtime.messenger.renderer.render("buttons/console_open", locale)
    try:
        await application.bot.set_chat_menu_button(
            chat_id=telegram_id, menu_button=MenuButtonWebApp(text, WebAppInfo(url))
        )
    except TelegramError as exc:
        # Someone who never opened a private chat with the bot has no chat to set it in.
        log.warning("could not set the console menu button for %s: %s", telegram_id, exc)


async def act_from_console(
    application: GridApplication, actor: Actor, ticket_id: int, action: Action, text: str
) -> LoopOutcome:
    """One console action through the same LoopService call and event log as the command.

    `text` is what follows the ticket id in the command (a note, a reason, or a reject code
    and reason). Raises UserError as the command would.
    """
    runtime = application.bot_data.runtime
    assert runtime is not None
    loop = runtime.services.loop
    if action is Action.CLAIM:
        outcome = await loop.claim(ticket_id, actor)
    elif action is Action.RESOLVE:
        outcome = await loop.resolve(ticket_id, actor, text)
    elif action is Action.ESCALATE:
        outcome = await loop.escalate(ticket_id, actor, text)
    elif action is Action.REJECT:
        outcome = await loop.reject(ticket_id, actor, text)
    elif action is Action.NOTE:
        outcome = await loop.note(ticket_id, actor, text)
    else:
        raise UserError("unknown_ticket", id=ticket_id)
    if outcome.action is not TicketEvent.NOTED:
        await tell_everyone(application, outcome)
    return outcome


async def tell_everyone(application: GridApplication, outcome: LoopOutcome) -> None:
    """After a console action, the chats hear what they hear after the command."""
    await GridContext(application).notifier.loop_event(outcome)


async def names_for(application: GridApplication, outcome: LoopOutcome) -> dict[str, Any]:
    """The people a `loop_done` confirmation names (as the chat's confirmation does)."""
    return await _names(GridContext(application), outcome)


COMMANDS: tuple[Command, ...] = (Command("console", console, Audience.HANDLERS),)
