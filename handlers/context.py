"""The typed context every handler receives: services and the messenger, no string lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.broadcast import NoticeBroadcaster
from bot.messenger import Messenger
from bot.notifications import Notifier
from bot.services.container import Services


@dataclass(slots=True)
class Runtime:
    """What bot.app wires for the handlers (services, messenger, command table, notifier …), kept in
    bot_data.
    """

    services: Services
    messenger: Messenger
    bot_username: str = ""
    # The command table (handlers.registry.Command); typed loosely to keep imports one-way.
    commands: tuple[Any, ...] = field(default_factory=tuple)
    # Sends notice runs in the background (bot.app builds it with the messenger).
    broadcasts: NoticeBroadcaster | None = None
    # Who is told what about tickets (bot.app builds it with the messenger and the buttons).
    notifier: Notifier | None = None
    # The staff console's web server when [web] enabled (bot.web.server.ConsoleServer).
    console: Any = None


class BotData:
    """Application-wide state; PTB creates it empty, bot.app fills in `runtime` at start."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None


class GridContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context every handler gets: typed access to the runtime bot.app wired."""

    # PTB types CallbackContext.application with the context class as an unbound TypeVar;
    # ours is always built with CONTEXT_TYPES, so it is a GridApplication. Narrowing it here
    # (mypy calls that an incompatible override) spares every caller a cast.
    @property
    def application(self) -> GridApplication:  # type: ignore[override]
        """The application, typed as ours."""
        return cast("GridApplication", super().application)

    @property
    def runtime(self) -> Runtime:
        """What bot.app wired; RuntimeError if a handler runs before it did."""
        runtime = self.bot_data.runtime
        if runtime is None:
            raise RuntimeError("handlers ran before bot.app wired the services")
        return runtime

    @property
    def services(self) -> Services:
        """The services."""
        return self.runtime.services

    @property
    def messenger(self) -> Messenger:
        """Sends rendered templates, within Telegram's rate limits."""
        return self.runtime.messenger

    @property
    def notifier(self) -> Notifier:
        """Decides who is told about a ticket event and tells them."""
        notifier = self.runtime.notifier
        if notifier is None:
            raise RuntimeError("handlers ran before bot.app wired the notifier")
        return notifier


CONTEXT_TYPES = ContextTypes(context=GridContext, bot_data=BotData)

GridApplication = Application[Any, GridContext, dict[Any, Any], dict[Any, Any], BotData, Any]
