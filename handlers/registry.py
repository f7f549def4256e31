"""The one command table: registration, permission checks, /help and the command menus.

Each command's description and usage live in templates/<locale>/commands/<name>.html
(first line: the menu description; second line: usage for /help).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
    Chat,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import TelegramError
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.domain.errors import UserError
from bot.domain.models import Grid, PersonRoles
from bot.domain.permissions import Audience, allowed
from bot.render import Renderer
from handlers.context import GridApplication, GridContext

log = logging.getLogger(__name__)

# Telegram's "GroupAnonymousBot": an admin posting as the group. We cannot know who it is.
ANONYMOUS_ADMIN_ID = 1087968824
TELEGRAM_SERVICE_ID = 777000


class Where(StrEnum):
    """Where a command may be used."""

    GROUP = "group"
    PRIVATE = "private"
    ANY = "any"


@dataclass(slots=True)
class CommandCall:
    """A command as a handler sees it: who, where, which grid, the text after the command."""

    context: GridContext
    message: Message
    chat: Chat
    user: User
    args: str
    grid: Grid | None
    roles: PersonRoles
    locale: str

    @property
    def arg_list(self) -> list[str]:
        """The words after the command."""
        return self.args.split()

    async def reply(
        self, template: str, *, keyboard: InlineKeyboardMarkup | None = None, **ctx: Any
    ) -> Message | None:
        """Reply to the command's message with a template in the caller's locale."""
        return await self.context.messenger.send(
            self.chat.id,
            template,
            locale=self.locale,
            reply_to=self.message.message_id,
            keyboard=keyboard,
            **ctx,
        )


CommandCallback = Callable[[CommandCall], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Command:
    """One row of the command table: name, callback, who may use it and where; its help line is the
    callback's docstring.
    """

    name: str
    callback: CommandCallback
    audience: Audience
    where: Where = Where.ANY
    needs_grid: bool = False  # in a group, the chat must be bound to a grid
    with_photo: bool = False  # also as the caption of a photo (e.g. /close with proof)


def command_arguments(message: Message) -> str:
    """The text after the /command token (names may contain spaces, so not context.args)."""
    text = message.text or message.caption or ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def is_anonymous_sender(message: Message) -> bool:
    """Whether a message was sent as a chat or an anonymous admin: nobody to check a role of."""
    user = message.from_user
    return message.sender_chat is not None or (user is not None and user.id == ANONYMOUS_ADMIN_ID)


def describe(renderer: Renderer, command: Command, locale: str) -> tuple[str, str]:
    """(menu description, usage) from the command's template."""
    lines = renderer.render(f"commands/{command.name}", locale).splitlines()
    description = lines[0].strip()
    usage = lines[1].strip() if len(lines) > 1 else f"/{command.name}"
    return description, usage


def _guarded(command: Command) -> Callable[[Update, GridContext], Coroutine[Any, Any, None]]:
    async def run(update: Update, context: GridContext) -> None:
        message = update.effective_message
        chat = update.effective_chat
        if message is None or chat is None:
            return
        messenger = context.messenger
        services = context.services
        user = message.from_user
        in_group = chat.type in (Chat.GROUP, Chat.SUPERGROUP)
        # One grid lookup serves both the locale and the permission check.
        grid = await services.grids.grid_for_chat(chat.id) if in_group else None
        locale = (
            messenger.grid_locale(grid)
            if in_group
            else await messenger.locale_for_chat(chat.id, user.language_code if user else None)
        )

        async def refuse(template: str, **ctx: Any) -> None:
            await messenger.send(
                chat.id, template, locale=locale, reply_to=message.message_id, **ctx
            )

        if update.edited_message is not None:
            await refuse("errors/edited_command", command=command.name)
            return
        if message.forward_origin is not None:
            await refuse("errors/forwarded_command", command=command.name)
            return
        if user is None or (is_anonymous_sender(message) and command.audience != Audience.EVERYONE):
            await refuse("errors/anonymous_admin", command=command.name)
            return
        if command.where is Where.GROUP and not in_group:
            await refuse("errors/use_in_group", command=command.name)
            return
        if command.where is Where.PRIVATE and in_group:
            await refuse(
                "errors/use_in_private",
                command=command.name,
                bot_username=context.runtime.bot_username,
            )
            return
        roles = await services.grids.roles_of(user.id)
        if not allowed(command.audience, roles, grid.id if grid else None):
            log.info("refused /%s for user %s in chat %s", command.name, user.id, chat.id)
            await refuse(
                "errors/not_allowed", command=command.name, audience=command.audience.value
            )
            return
        if command.needs_grid and in_group and grid is None:
            await refuse("errors/not_a_grid_chat")
            return
        call = CommandCall(
            context=context,
            message=message,
            chat=chat,
            user=user,
            args=command_arguments(message),
            grid=grid,
            roles=roles,
            locale=locale,
        )
        try:
            await command.callback(call)
        except UserError as exc:
            await refuse(f"errors/{exc.code}", **exc.context)

    run.__name__ = f"command_{command.name}"
    return run


class CaptionCommand(filters.MessageFilter):
    """A caption starting with /name or /name@<this bot>: never another bot's command."""

    def __init__(self, name: str) -> None:
        super().__init__(name=f"CaptionCommand({name})")
        self._pattern = re.compile(rf"/{re.escape(name)}(?:@(\w+))?(?:\s|$)", re.IGNORECASE)

    def filter(self, message: Message) -> bool:
        """Whether a photo's caption starts with this command (addressed to this bot, or to
        none).
        """
        found = self._pattern.match(message.caption or "")
        if found is None:
            return False
        addressed = found.group(1)
        return addressed is None or addressed.casefold() == message.get_bot().username.casefold()


def register_commands(application: GridApplication, commands: Sequence[Command]) -> None:
    """Add a guarded handler for each command (and its photo-caption form where it has one)."""
    for command in commands:
        guarded = _guarded(command)
        application.add_handler(
            CommandHandler(command.name, guarded, filters=filters.UpdateType.MESSAGES)
        )
        if command.with_photo:
            # CommandHandler reads only message text; a photo's caption needs its own route.
            application.add_handler(
                MessageHandler(
                    filters.UpdateType.MESSAGE & filters.PHOTO & CaptionCommand(command.name),
                    guarded,
                )
            )


def commands_for(
    commands: Sequence[Command], roles: PersonRoles, grid_id: int | None, in_group: bool
) -> list[Command]:
    """The commands someone with these roles may use in this kind of chat: /help and the menus."""
    return [
        c
        for c in commands
        if allowed(c.audience, roles, grid_id)
        and (c.where is Where.ANY or (c.where is Where.GROUP) == in_group)
    ]


def _bot_commands(renderer: Renderer, commands: Sequence[Command], locale: str) -> list[BotCommand]:
    return [BotCommand(c.name, html.unescape(describe(renderer, c, locale)[0])) for c in commands]


async def _set_menu(
    application: GridApplication,
    renderer: Renderer,
    commands: Sequence[Command],
    scope: BotCommandScope,
) -> None:
    """One menu in the default locale, and the other locales for users whose app speaks them."""
    for locale in renderer.locales:
        language = None if locale == renderer.default_locale else locale.split("-")[0]
        try:
            await application.bot.set_my_commands(
                _bot_commands(renderer, commands, locale), scope=scope, language_code=language
            )
        except TelegramError as exc:
            # A staff member who never opened a private chat has no chat to scope to yet.
            log.warning("could not set the command menu for %s: %s", scope.type, exc)
            return


async def publish_menus(
    application: GridApplication,
    renderer: Renderer,
    commands: Sequence[Command],
    staff_ids: Sequence[int],
) -> None:
    """Set Telegram's command menus: everyone's in private and in groups, and each staff member's
    own.
    """
    everyone = PersonRoles(person=None, is_staff=False)
    staff = PersonRoles(person=None, is_staff=True)
    await _set_menu(
        application,
        renderer,
        commands_for(commands, everyone, None, False),
        BotCommandScopeDefault(),
    )
    await _set_menu(
        application,
        renderer,
        commands_for(commands, everyone, None, False),
        BotCommandScopeAllPrivateChats(),
    )
    await _set_menu(
        application,
        renderer,
        commands_for(commands, everyone, None, True),
        BotCommandScopeAllGroupChats(),
    )
    for staff_id in staff_ids:
        await _set_menu(
            application,
            renderer,
            commands_for(commands, staff, None, False),
            BotCommandScopeChat(staff_id),
        )


async def publish_member_menu(
    application: GridApplication,
    renderer: Renderer,
    commands: Sequence[Command],
    roles: PersonRoles,
    grid: Grid,
    telegram_id: int,
) -> None:
    """A head or worker sees their commands in their grid's chat once they are assigned."""
    if grid.chat_id is None:
        return
    await _set_menu(
        application,
        renderer,
        commands_for(commands, roles, grid.id, True),
        BotCommandScopeChatMember(grid.chat_id, telegram_id),
    )
