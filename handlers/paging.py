"""Lists a person asks for come a page at a time, with [‹] [›] under them.

A paged list is a function `(asker, args, page, locale) -> PageView`: it loads what the
asker may see (the same service call as before), takes one page of it and names the
template. The command replies with the first page (`reply_page`); a press of [‹]/[›]
edits the message to another page (`page_button`), after checking that the presser is
the person who asked (the message is a reply to their command) and that they may still
use the command (its audience in the command table).

Page sizes keep every page within Telegram's 4,096 characters: each item's user text is
shortened in its template, so a page of `size` items has a known worst case.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from telegram import Chat, InlineKeyboardMarkup, User

from bot.domain.errors import UserError
from bot.domain.models import Grid, PersonRoles
from bot.domain.permissions import Audience, allowed
from handlers.buttons import Button, ButtonPress, CallbackData, button
from handlers.context import GridContext
from handlers.registry import Command, CommandCall

T = TypeVar("T")


class ListName(StrEnum):
    """The lists that page; each page button names one."""

    GRIDS = "grids"
    OPEN = "open"
    LOGS = "logs"
    NOTICES = "notices"
    WHOAMI = "whoami"
    MY = "my"


@dataclass(frozen=True, slots=True)
class PagePress(CallbackData, prefix="p"):
    """p:<list>:<page>:<the command's arguments, words joined by "+">."""

    list: ListName
    page: int
    args: str


class Asker(Protocol):
    """Who a page is for: a command call or a button press."""

    context: GridContext
    user: User
    chat: Chat
    grid: Grid | None
    roles: PersonRoles


@dataclass(frozen=True, slots=True)
class PageView:
    """One page of a list: the template that shows it, its context, and where it is among
    the pages.
    """

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    page: int = 0
    pages: int = 1


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, and where it stands in it."""

    items: list[Any]
    page: int
    pages: int
    total: int
    first: int  # the position of items[0] in the whole list, from 0


def page_of(items: Sequence[T], page: int, size: int) -> Page:
    """Items of page `page` (clamped to the pages there are) of `size` items each."""
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(page, 0), pages - 1)
    start = page * size
    return Page(list(items[start : start + size]), page, pages, len(items), start)


PagedList = Callable[[Asker, str, int, str], Awaitable[PageView]]


def _packed_args(args: str) -> str | None:
    """The arguments as button data; None if they do not fit (no page buttons then)."""
    packed = "+".join(args.split())
    if ":" in packed or len(packed.encode()) > 40:
        return None
    return packed


def page_keyboard(
    context: GridContext, locale: str, name: ListName, view: PageView, args: str | None
) -> InlineKeyboardMarkup | None:
    """The ‹ previous / next › buttons of a paged list (None when it fits on one page)."""
    if view.pages <= 1 or args is None:
        return None
    renderer = context.messenger.renderer
    row = []
    if view.page > 0:
        row.append(button(renderer, locale, "page_previous", PagePress(name, view.page - 1, args)))
    if view.page < view.pages - 1:
        row.append(
            button(
                renderer,
                locale,
                "page_next",
                PagePress(name, view.page + 1, args),
                page=view.page + 2,
                pages=view.pages,
            )
        )
    return InlineKeyboardMarkup([row])


async def reply_page(call: CommandCall, name: ListName, show: PagedList) -> None:
    """The first page of a list as the command's reply, with [›] when there is more."""
    view = await show(call, call.args, 0, call.locale)
    keyboard = page_keyboard(call.context, call.locale, name, view, _packed_args(call.args))
    await call.reply(
        view.template, keyboard=keyboard, page=view.page, pages=view.pages, **view.context
    )


def page_button(lists: Mapping[ListName, PagedList], commands: Sequence[Command]) -> Button:
    """The [‹]/[›] button of every paged list (each list is named after its command)."""
    by_name = {c.name: c for c in commands}

    async def turn_page(press: ButtonPress[PagePress]) -> None:
        """[‹] [›] under a list: only the person who asked turns its pages."""
        asked = press.message.reply_to_message
        if asked is None or asked.from_user is None or asked.from_user.id != press.user.id:
            raise UserError("not_your_list")
        name = press.data.list
        command = by_name[name.value]
        if not allowed(command.audience, press.roles, press.grid.id if press.grid else None):
            raise UserError("button_not_allowed")
        view = await lists[name](press, press.data.args, press.data.page, press.chat_locale)
        await press.answer()
        await press.edit_text(
            view.template,
            page=view.page,
            pages=view.pages,
            keyboard=page_keyboard(press.context, press.chat_locale, name, view, press.data.args),
            **view.context,
        )

    return Button(PagePress, turn_page, Audience.EVERYONE)


def unpacked_args(args: str) -> list[str]:
    """The command's words again, from a page button's data (or the command itself)."""
    return [word for word in args.replace("+", " ").split() if word]
