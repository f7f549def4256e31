"""The button table beside the command table: typed callback data, parsed once, one guard.

A button is declared in its feature module, next to the commands it belongs with:

    class CardAction(StrEnum):
        CLAIM = "claim"
        RESOLVE = "resolve"

    @dataclass(frozen=True, slots=True)
    class CardPress(CallbackData, prefix="k"):   # data on the wire: "k:claim:42"
        action: CardAction                       # only the enum's values parse
        ticket_id: int                           # digits only (an optional leading "-")

    async def card_button(press: ButtonPress[CardPress]) -> None:
        '''[认领] [办结] under a ticket.'''
        ticket = ... press.data.ticket_id ...    # typed, already validated
        await press.toast("loop_done", outcome=...)       # the answer, in the presser's language
        await press.edit_text("ticket_cancelled", ...)    # the message, in the chat's language

    BUTTONS = (Button(CardPress, card_button, Audience.HANDLERS),)

and a keyboard carries it as `button(renderer, locale, "card_claim", CardPress(...))` (the label
is the template `buttons/<name>`). `handlers/__init__` adds each module's BUTTONS to the table.

What every press goes through, in this order (`dispatch`), before the callback runs:
- the data is parsed by the table: an unknown prefix, a wrong field count, a non-number where a
  number belongs, a value outside an enum -> the polite "this button is no longer valid";
- the data must be one of the buttons on the message it was pressed under (the message comes
  from Telegram, the data from the client): `bind:no:<other id>` pressed under an unrelated card
  changes nothing;
- the button's audience, against the presser's roles in the chat's grid (the same rule as
  commands: `bot.domain.permissions.allowed`); the callback still re-checks the ticket's state;
- a `UserError` raised by the callback is answered with the template `errors/<code>` as an alert;
  any other error is answered with an apology and re-raised (logged by `handlers.chats.on_error`).
Every press is answered exactly once: if the callback did not answer, an empty answer is sent.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import typing
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler

from bot.domain.errors import UserError
from bot.domain.models import Grid, PersonRoles
from bot.domain.permissions import Audience, allowed
from bot.render import Renderer
from handlers.context import GridApplication, GridContext

log = logging.getLogger(__name__)

# Telegram refuses callback data longer than this (bytes, UTF-8).
CALLBACK_DATA_LIMIT = 64
SEPARATOR = ":"
_MAX_DIGITS = 18  # int fields: room for any Telegram id, nothing that costs to convert


class CallbackData:
    """Typed callback data: `prefix:field:field…`; subclasses are frozen dataclasses.

    Field types: int, str (without ":"), bool ("1"/"0") and StrEnum subclasses.
    """

    prefix: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Any], ...]] = ()

    def __init_subclass__(cls, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # dataclass(slots=True) rebuilds the class without the keyword: keep the prefix.
        prefix = prefix or cls.__dict__.get("prefix", "")
        if not prefix or SEPARATOR in prefix:
            raise TypeError(f"{cls.__name__}: a prefix without {SEPARATOR!r} is required")
        cls.prefix = prefix

    @classmethod
    def _field_types(cls) -> tuple[tuple[str, Any], ...]:
        # Resolved lazily: the dataclass decorator runs after __init_subclass__.
        if "_fields" not in cls.__dict__:
            hints = typing.get_type_hints(cls)
            cls._fields = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        return cls._fields

    def pack(self) -> str:
        """The `prefix:field:…` string Telegram carries back; ValueError if a field holds the
        separator or it passes the 64-byte limit.
        """
        parts = [self.prefix]
        for name, kind in self._field_types():
            value = getattr(self, name)
            if kind is bool:
                text = "1" if value else "0"
            elif isinstance(value, enum.Enum):
                text = str(value.value)
            else:
                text = str(value)
            if SEPARATOR in text:
                raise ValueError(f"{type(self).__name__}.{name} may not contain {SEPARATOR!r}")
            parts.append(text)
        packed = SEPARATOR.join(parts)
        if len(packed.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {packed!r}")
        return packed

    @classmethod
    def unpack(cls, data: str) -> Self:
        """The typed data, or ValueError for anything a client could have made up."""
        prefix, *values = data.split(SEPARATOR)
        fields = cls._field_types()
        if prefix != cls.prefix or len(values) != len(fields):
            raise ValueError(f"not {cls.__name__}: {data!r}")
        parsed = [
            _parse_field(kind, text) for (_name, kind), text in zip(fields, values, strict=True)
        ]
        return cls(*parsed)


def _parse_field(kind: Any, text: str) -> Any:
    if kind is int:
        digits = text[1:] if text.startswith("-") else text
        if not digits.isascii() or not digits.isdigit() or len(digits) > _MAX_DIGITS:
            raise ValueError(f"not a number: {text!r}")
        return int(text)
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(f"not a flag: {text!r}")
        return text == "1"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(text)  # ValueError outside the enum
    if kind is str:
        return text
    raise TypeError(f"unsupported callback field type {kind!r}")


D = TypeVar("D", bound=CallbackData)


@dataclass(slots=True)
class ButtonPress(Generic[D]):
    """A press as a callback sees it: who, where, under which message, the parsed data."""

    context: GridContext
    query: CallbackQuery
    data: D
    user: User
    chat: Chat
    message: Message
    grid: Grid | None  # the grid of the chat the button sits in (None in private chats)
    roles: PersonRoles
    locale: str  # the presser's language: answers (toasts) are seen only by them
    chat_locale: str  # the chat's language: edits of the message are seen by everyone there
    answered: bool = False

    @property
    def renderer(self) -> Renderer:
        """The templates' renderer."""
        return self.context.messenger.renderer

    def render(self, template: str, locale: str | None = None, **ctx: Any) -> str:
        """A template rendered in the presser's locale unless another is given."""
        return self.renderer.render(template, locale or self.locale, **ctx)

    async def answer(self, text: str | None = None, *, alert: bool = False) -> None:
        """Answer the press (once); text is already rendered."""
        if self.answered:
            return
        self.answered = True
        try:
            await self.query.answer(text, show_alert=alert)
        except BadRequest as exc:
            # A press handled again after a restart is past Telegram's time to answer it:
            # the toast is lost, the rest of the answer (the message's edit) still goes out.
            if "too old" not in exc.message.lower():
                raise
            log.info("press %s answered too late for a toast: %s", self.query.id, exc.message)

    async def toast(self, template: str, *, alert: bool = False, **ctx: Any) -> None:
        """Answer with a template, in the presser's language."""
        await self.answer(self.render(template, **ctx), alert=alert)

    async def edit_text(
        self, template: str, *, keyboard: InlineKeyboardMarkup | None = None, **ctx: Any
    ) -> None:
        """Replace the message the button sits on (in the chat's language)."""
        try:
            await self.query.edit_message_text(
                self.render(template, self.chat_locale, **ctx),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise  # the same answer again (a re-delivered press) is no error

    async def edit_keyboard(self, keyboard: InlineKeyboardMarkup | None) -> None:
        """Replace the pressed message's buttons (None takes them away)."""
        await self.query.edit_message_reply_markup(keyboard)


ButtonCallback = Callable[[ButtonPress[Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Button:
    """One row of the button table: its callback data type, the callback, who may press it."""

    data: type[CallbackData]
    callback: ButtonCallback
    audience: Audience


def button(
    renderer: Renderer, locale: str, template: str, data: CallbackData, **ctx: Any
) -> InlineKeyboardButton:
    """An inline button labelled by `buttons/<template>` that carries `data`."""
    return InlineKeyboardButton(
        renderer.render_small(f"buttons/{template}", locale, **ctx), callback_data=data.pack()
    )


def keyboard_data(message: Message) -> set[str]:
    """The callback data of every button a message carries: a press must match one of them."""
    markup = message.reply_markup
    if markup is None:
        return set()
    return {
        b.callback_data
        for row in markup.inline_keyboard
        for b in row
        if isinstance(b.callback_data, str)
    }


class ButtonTable:
    """Buttons by prefix; a prefix is declared once."""

    def __init__(self, buttons: Sequence[Button]) -> None:
        self._by_prefix: dict[str, Button] = {}
        for entry in buttons:
            prefix = entry.data.prefix
            if prefix in self._by_prefix:
                raise ValueError(f"two buttons declare the prefix {prefix!r}")
            self._by_prefix[prefix] = entry

    def __iter__(self) -> typing.Iterator[Button]:
        return iter(self._by_prefix.values())

    def parse(self, data: str) -> tuple[Button, CallbackData] | None:
        """The button and its parsed data for a press's callback data; None for an unknown prefix or
        malformed data.
        """
        entry = self._by_prefix.get(data.split(SEPARATOR, 1)[0])
        if entry is None:
            return None
        try:
            return entry, entry.data.unpack(data)
        except ValueError:
            return None


def _dispatcher(
    table: ButtonTable,
) -> Callable[[Update, GridContext], Coroutine[Any, Any, None]]:
    async def dispatch(update: Update, context: GridContext) -> None:
        query = update.callback_query
        if query is None:
            return
        messenger = context.messenger
        user = query.from_user
        locale = await messenger.locale_for_chat(user.id, user.language_code)

        async def refuse(template: str, **ctx: Any) -> None:
            await query.answer(messenger.renderer.render(template, locale, **ctx), show_alert=True)

        message = query.message
        parsed = table.parse(query.data) if isinstance(query.data, str) else None
        if (
            parsed is None
            or not isinstance(message, Message)
            or query.data not in keyboard_data(message)
        ):
            log.info("stale or forged button %r from user %s", query.data, user.id)
            await refuse("errors/button_stale")
            return
        entry, data = parsed
        chat = message.chat
        in_group = chat.type in (Chat.GROUP, Chat.SUPERGROUP)
        services = context.services
        grid = await services.grids.grid_for_chat(chat.id) if in_group else None
        roles = await services.grids.roles_of(user.id)
        if not allowed(entry.audience, roles, grid.id if grid else None):
            log.info("refused button %r for user %s in chat %s", query.data, user.id, chat.id)
            await refuse("errors/button_not_allowed")
            return
        press: ButtonPress[Any] = ButtonPress(
            context=context,
            query=query,
            data=data,
            user=user,
            chat=chat,
            message=message,
            grid=grid,
            roles=roles,
            locale=locale,
            chat_locale=messenger.grid_locale(grid) if in_group else locale,
        )
        try:
            await entry.callback(press)
        except UserError as exc:
            if not press.answered:
                press.answered = True
                await refuse(f"errors/{exc.code}", **exc.context)
            return
        except Exception:
            if not press.answered:
                press.answered = True
                await refuse("errors/internal")
            raise
        await press.answer()

    return dispatch


def register_buttons(application: GridApplication, buttons: Sequence[Button]) -> ButtonTable:
    """One handler for every callback query: known data goes to its button, the rest is
    answered as stale (so no spinner keeps turning).
    """
    table = ButtonTable(buttons)
    application.add_handler(CallbackQueryHandler(_dispatcher(table)))
    return table
