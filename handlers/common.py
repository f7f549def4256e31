"""Commands for everyone: /start, /help, /whoami."""

from __future__ import annotations

from bot.domain.permissions import Audience
from handlers.paging import Asker, ListName, PagedList, PageView, page_of, reply_page
from handlers.registry import Command, CommandCall, commands_for, describe
from handlers.resident import start_deep_link


async def start(call: CommandCall) -> None:
    """Private: welcome (and note the person can now be messaged). Group: what this grid is."""
    if call.chat.type == "private":
        if await start_deep_link(call):
            return
        await call.reply("start_private", roles=call.roles, user=call.user)
        return
    await call.reply("start_group", grid=call.grid, bot_username=call.context.runtime.bot_username)


async def help_command(call: CommandCall) -> None:
    """The commands this person may use here, with usage."""
    in_group = call.chat.type != "private"
    available = commands_for(
        call.context.runtime.commands, call.roles, call.grid.id if call.grid else None, in_group
    )
    renderer = call.context.messenger.renderer
    entries = [(c.name, *describe(renderer, c, call.locale)) for c in available]
    await call.reply("help", entries=entries, roles=call.roles, grid=call.grid)


ROLES_PER_PAGE = 20


async def whoami(call: CommandCall) -> None:
    """Your roles, and whether the bot can reach you privately (emergency alerts need it)."""
    await reply_page(call, ListName.WHOAMI, whoami_page)


async def whoami_page(asker: Asker, _args: str, page: int, _locale: str) -> PageView:
    """A page of /whoami: the person's roles, and in a group what the chat is (its grid, its duty
    level, its id).
    """
    roles = asker.roles
    person = roles.person
    part = page_of(roles.grid_roles, page, ROLES_PER_PAGE)
    in_group = asker.chat.type != "private"
    return PageView(
        "whoami",
        {
            "user": asker.user,
            "roles": roles,
            "grid_roles": part.items,
            # In a group, what this chat is: staff need its id for [escalation] and /setduty.
            "chat": asker.chat if in_group else None,
            "chat_grid": asker.grid if in_group else None,
            "chat_duty_level": (
                await asker.context.services.grids.duty_level_of(asker.chat.id)
                if in_group
                else None
            ),
            "reachable_privately": bool(person and person.has_private_chat),
            "serves_any": bool(roles.grid_roles) or roles.is_staff,
            "bot_username": asker.context.runtime.bot_username,
        },
        part.page,
        part.pages,
    )


COMMANDS: tuple[Command, ...] = (
    Command("start", start, Audience.EVERYONE),
    Command("help", help_command, Audience.EVERYONE),
    Command("whoami", whoami, Audience.EVERYONE),
)

LISTS: dict[ListName, PagedList] = {ListName.WHOAMI: whoami_page}
