"""Staff and grid-head commands: bind chats to grids, tag grids, assign heads and workers,
make a group a level's duty chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telegram import InlineKeyboardMarkup, MessageEntity

from bot.domain.errors import UserError
from bot.domain.models import Person, Role
from bot.domain.permissions import Audience
from bot.domain.text import whole_number
from bot.services.grids import DUTY_LEVELS, BindResult, ChatRef
from handlers.buttons import Button, ButtonPress, CallbackData, button
from handlers.paging import Asker, ListName, PagedList, PageView, page_of, reply_page
from handlers.registry import Command, CommandCall, Where, is_anonymous_sender, publish_member_menu


class BindAnswer(StrEnum):
    """The answer to "move this grid to this chat?"."""

    CONFIRM = "yes"
    CANCEL = "no"


@dataclass(frozen=True, slots=True)
class BindPress(CallbackData, prefix="bind"):
    """bind:<yes|no>:<pending move id> — the answer to "move grid CODE to this chat?"."""

    answer: BindAnswer
    pending_id: int


def _chat_ref(call: CommandCall) -> ChatRef:
    return ChatRef(chat_id=call.chat.id, title=call.chat.title, type=call.chat.type)


async def bind(call: CommandCall) -> None:
    """/bind CODE 名称 — this chat becomes grid CODE."""
    parts = call.args.split(maxsplit=1)
    if not parts:
        raise UserError("bind_usage")
    code, name = parts[0], (parts[1] if len(parts) > 1 else None)
    outcome = await call.context.services.grids.bind(call.user.id, _chat_ref(call), code, name)
    if outcome.result is BindResult.NEEDS_CONFIRMATION:
        assert outcome.pending_id is not None
        renderer = call.context.messenger.renderer
        keyboard = InlineKeyboardMarkup(
            [
                [
                    button(
                        renderer,
                        call.locale,
                        "confirm_move",
                        BindPress(BindAnswer.CONFIRM, outcome.pending_id),
                    ),
                    button(
                        renderer,
                        call.locale,
                        "cancel",
                        BindPress(BindAnswer.CANCEL, outcome.pending_id),
                    ),
                ]
            ]
        )
        await call.reply("bind_confirm_move", grid=outcome.grid, keyboard=keyboard)
        return
    await call.reply(f"bind_{outcome.result.value}", grid=outcome.grid, previous=outcome.previous)


async def bind_button(press: ButtonPress[BindPress]) -> None:
    """[确认迁移]/[取消] under a move question; staff only, once, in the chat it was asked in."""
    grids = press.context.services.grids
    chat = press.chat
    if press.data.answer is BindAnswer.CANCEL:
        await grids.cancel_move(press.data.pending_id, chat.id)
        await press.answer()
        await press.edit_text("bind_move_cancelled")
        return
    outcome = await grids.confirm_move(
        press.user.id,
        press.data.pending_id,
        ChatRef(chat_id=chat.id, title=chat.title, type=chat.type),
    )
    await press.answer()
    await press.edit_text("bind_moved", grid=outcome.grid, previous=outcome.previous)


async def unbind(call: CommandCall) -> None:
    """/unbind — this chat stops being a grid (the grid and its history stay)."""
    grid = await call.context.services.grids.unbind(call.user.id, call.chat.id)
    await call.reply("unbind_done", grid=grid)


GRIDS_PER_PAGE = 8  # each at most ~450 characters (names, 3 heads, tags shortened)


async def grids(call: CommandCall) -> None:
    """/grids — every grid with its chat, heads and state."""
    await reply_page(call, ListName.GRIDS, grids_page)


async def grids_page(asker: Asker, _args: str, page: int, _locale: str) -> PageView:
    """A page of /grids: every grid with its heads and workers, and the duty chats on the first
    page.
    """
    services = asker.context.services
    part = page_of(await services.grids.overview(), page, GRIDS_PER_PAGE)
    duty = await services.grids.duty_chats() if part.page == 0 else {}
    return PageView(
        "grids_list",
        {
            "grids": part.items,
            "total": part.total,
            "duty_chats": [duty[level] for level in DUTY_LEVELS if level in duty],
        },
        part.page,
        part.pages,
    )


async def setduty(call: CommandCall) -> None:
    """/setduty community|street|district — this group becomes that level's duty chat."""
    level = call.arg_list[0].lower() if call.arg_list else ""
    if level not in DUTY_LEVELS:
        raise UserError("setduty_usage")
    outcome = await call.context.services.grids.set_duty_chat(call.user.id, level, _chat_ref(call))
    await call.reply("duty_chat_set", outcome=outcome, chat_id=call.chat.id)


async def tags(call: CommandCall) -> None:
    """/tags CODE tag1 tag2 … — set a grid's tags (used to target notices)."""
    parts = call.arg_list
    if not parts:
        raise UserError("tags_usage")
    grid = await call.context.services.grids.set_tags(call.user.id, parts[0], parts[1:])
    await call.reply("tags_done", grid=grid)


async def target_person(
    call: CommandCall, *, allow_reply: bool = True, words: list[str] | None = None
) -> Person:
    """Whom a command is about: a replied-to message, a mention, or an id among `words`
    (default: the command's arguments).
    """
    people = call.context.services.people
    replied = call.message.reply_to_message if allow_reply else None
    if replied is not None and replied.from_user is not None and not is_anonymous_sender(replied):
        target = replied.from_user
        if target.is_bot:
            raise UserError("target_is_bot")
        await people.seen(
            telegram_id=target.id,
            display_name=target.full_name,
            username=target.username,
            language_code=target.language_code,
            in_private_chat=False,
        )
        person = await people.get(target.id)
        assert person is not None
        return person
    for entity in call.message.entities:
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None:
            if entity.user.is_bot:
                raise UserError("target_is_bot")
            await people.seen(
                telegram_id=entity.user.id,
                display_name=entity.user.full_name,
                username=entity.user.username,
                language_code=None,
                in_private_chat=False,
            )
            person = await people.get(entity.user.id)
            assert person is not None
            return person
    for word in call.arg_list if words is None else words:
        if word.startswith("@") and len(word) > 1:
            person = await people.by_username(word)
            if person is None:
                raise UserError("unknown_person", name=word)
            return person
        user_id = whole_number(word, max_digits=15)
        if user_id is not None:
            person = await people.get(user_id)
            if person is None:
                raise UserError("unknown_person", name=word)
            return person
    raise UserError("role_usage", command=call.message.text.split()[0] if call.message.text else "")


async def _assign(call: CommandCall, role: Role) -> None:
    person = await target_person(call)
    grids = call.context.services.grids
    outcome = await grids.assign_role(call.user.id, call.chat.id, person, role)
    await call.reply("role_assigned", outcome=outcome, person=person)
    await publish_member_menu(
        call.context.application,
        call.context.messenger.renderer,
        call.context.runtime.commands,
        await grids.roles_of(person.telegram_id),
        outcome.grid,
        person.telegram_id,
    )


async def head(call: CommandCall) -> None:
    """/head (reply to a member, or mention them) — make them a grid head (网格长)."""
    await _assign(call, Role.HEAD)


async def worker(call: CommandCall) -> None:
    """/worker (reply or mention) — make them a grid worker (网格员)."""
    await _assign(call, Role.WORKER)


async def unhead(call: CommandCall) -> None:
    """/unhead (reply or mention) — remove their head or worker role in this grid."""
    person = await target_person(call)
    grids = call.context.services.grids
    outcome = await grids.remove_role(call.user.id, call.chat.id, person)
    await call.reply("role_removed", outcome=outcome, person=person)
    await publish_member_menu(
        call.context.application,
        call.context.messenger.renderer,
        call.context.runtime.commands,
        await grids.roles_of(person.telegram_id),
        outcome.grid,
        person.telegram_id,
    )


COMMANDS: tuple[Command, ...] = (
    Command("bind", bind, Audience.STAFF, Where.GROUP),
    Command("unbind", unbind, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("grids", grids, Audience.STAFF),
    Command("tags", tags, Audience.STAFF),
    Command("head", head, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("worker", worker, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("unhead", unhead, Audience.STAFF, Where.GROUP, needs_grid=True),
    Command("setduty", setduty, Audience.STAFF, Where.GROUP),
)

BUTTONS: tuple[Button, ...] = (Button(BindPress, bind_button, Audience.STAFF),)

LISTS: dict[ListName, PagedList] = {ListName.GRIDS: grids_page}
