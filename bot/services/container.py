"""The services a handler may use, built once in bot.app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.domain.clock import Clock
from bot.render import Renderer
from bot.services.console import ConsoleService
from bot.services.digest import DigestService
from bot.services.grids import GridService
from bot.services.loop import LoopService
from bot.services.notices import NoticeService
from bot.services.people import PeopleService
from bot.services.ports import Storage
from bot.services.stats import StatsService
from bot.services.tickets import TicketService
from bot.services.timers import TimerService


@dataclass(slots=True)
class Services:
    """Every service, built once in bot.app and handed to handlers typed (GridContext.services)."""

    config: Config
    storage: Storage  # for the wiring (the inbox, closing at exit): services never need it
    clock: Clock
    renderer: Renderer
    grids: GridService
    people: PeopleService
    tickets: TicketService
    timers: TimerService
    loop: LoopService
    digest: DigestService
    notices: NoticeService
    stats: StatsService
    console: ConsoleService
