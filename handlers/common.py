"""Commands for everyone: /start, /help, /whoami."""

from __future__ import annotations

from bot.domain.permissions import Audience
from handlers.registry import Command, CommandCall, commands_for, describe
from handlers.resident import start_deep_link


async def start(call: CommandCall) -> None:
    """Private: welcome (and note the person can now be messaged). Group: what this grid is."""
    if call.chat.type == "private":
        if await start_deep_link(call):
            return
        await call.reply("start_private", roles=call.roles, user=call.user)
        return
    await call.reply(
        "start_group", grid=call.grid, bot_username=call.context.runtime.bot_username
    )


async def help_command(call: CommandCall) -> None:
    """The commands this person may use here, with usage."""
    in_group = call.chat.type != "private"
    available = commands_for(
        call.context.runtime.commands, call.roles, call.grid.id if call.grid else None, in_group
    )
    renderer = call.context.messenger.renderer
    entries = [(c.name, *describe(renderer, c, call.locale)) for c in available]
    await call.reply("help", entries=entries, roles=call.roles, grid=call.grid)


async def whoami(call: CommandCall) -> None:
    """Your roles, and whether the bot can reach you privately (emergency alerts need it)."""
    person = call.roles.person
    await call.reply(
        "whoami",
        user=call.user,
        roles=call.roles,
        reachable_privately=bool(person and person.has_private_chat),
        serves_any=bool(call.roles.grid_roles) or call.roles.is_staff,
        bot_username=call.context.runtime.bot_username,
    )


COMMANDS: tuple[Command, ...] = (
    Command("start", start, Audience.EVERYONE),
    Command("help", help_command, Audience.EVERYONE),
    Command("whoami", whoami, Audience.EVERYONE),
)
