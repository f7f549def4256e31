"""The one wiring place: database, services, handlers, menus, start-up checks."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import NetworkError
from telegram.ext import ApplicationBuilder, Defaults, ExtBot
from telegram.request import HTTPXRequest

import handlers
from bot.broadcast import NoticeBroadcaster
from bot.config import Config
from bot.domain.clock import Clock, SystemClock
from bot.domain.intake import IntakeModel, IntakeParser, Vocabulary
from bot.domain.loop import SlaPolicy
from bot.domain.models import Urgency
from bot.inbox import Inbox
from bot.messenger import Messenger
from bot.notice_worker import NoticeWorker
from bot.notifications import Notifier
from bot.outage import OutageLog
from bot.rate_limit import EvenRateLimiter
from bot.render import Renderer
from bot.services.console import ConsoleService
from bot.services.container import Services
from bot.services.digest import DigestService
from bot.services.grids import GridService
from bot.services.loop import LoopService
from bot.services.notices import NoticeService, NoticeSettings
from bot.services.people import PeopleService
from bot.services.stats import StatsService
from bot.services.tickets import IntakeSettings, TicketService
from bot.services.timers import TimerService
from bot.storage.unit_of_work import SqlStorage
from bot.update_order import ChatOrderedUpdateProcessor
from handlers.cards import CardKeyboards
from handlers.context import CONTEXT_TYPES, GridApplication, Runtime
from handlers.registry import publish_menus

log = logging.getLogger(__name__)

ALLOWED_UPDATES = Update.ALL_TYPES


def build_parser(config: Config) -> IntakeParser:
    """The request recogniser: rules with the deployment's extra vocabulary, and the model
    `[intake] model` names (the shipped one by default); both checked at config time.
    """
    vocabulary = Vocabulary.default()
    if config.intake.vocabulary:
        vocabulary = vocabulary.merged_with(config.intake.vocabulary)
    model_path = config.intake.model
    model = IntakeModel.load(Path(model_path)) if model_path else IntakeModel.shipped()
    return IntakeParser(vocabulary, model)


async def build_services(config: Config, clock: Clock) -> Services:
    """Open the storage and build every service from the config: the one place they are wired."""
    storage = await SqlStorage.open_configured(path=config.database.path, url=config.database.url)
    uow = storage.unit_of_work
    renderer = Renderer(config.bot.locale, config.bot.templates_dir, tz=config.bot.timezone)
    parser = build_parser(config)
    categories = parser.vocabulary.categories

    def category_label(code: str, locale: str) -> str:
        category = categories.get(code)
        if category is None:
            return code
        return category.label_zh if locale.startswith("zh") else category.label_en

    renderer.add_global("category_label", category_label)
    sla = SlaPolicy(
        limits={
            Urgency(name): getattr(config.sla, name) for name in ("emergency", "high", "normal")
        },
        by_category=config.sla.category,
        verification_timeout=config.verification.timeout,
    )
    timers = TimerService(uow, clock)
    grids = GridService(
        uow,
        clock,
        config.staff_ids,
        {
            level: chat
            for level in ("community", "street", "district")
            if (chat := config.escalation.duty_chat(level)) is not None
        },
    )
    people = PeopleService(uow, clock)
    loop = LoopService(uow, clock, sla, timers, grids)
    stats = StatsService(
        storage.stats, clock, grids, config.bot.timezone, lambda code: category_label(code, "zh-CN")
    )
    return Services(
        config=config,
        storage=storage,
        clock=clock,
        renderer=renderer,
        grids=grids,
        people=people,
        tickets=TicketService(
            uow,
            clock,
            parser,
            IntakeSettings(max_tickets_per_hour=config.intake.max_tickets_per_hour, sla=sla),
            timers,
        ),
        timers=timers,
        loop=loop,
        digest=DigestService(uow, clock, config.bot.timezone, config.digest.time),
        notices=NoticeService(
            uow,
            clock,
            timers,
            NoticeSettings(config.bot.timezone, config.notices.grace),
            NoticeWorker(),
        ),
        stats=stats,
        console=ConsoleService(uow, storage.console, clock, grids, people, loop, stats),
    )


# With a shared database, how often a process looks for timers it did not schedule itself.
SHARED_TIMER_POLL = timedelta(seconds=30)


def arm_timers_with_job_queue(
    application: GridApplication, timers: TimerService, *, poll: timedelta | None = None
) -> None:
    """Wake up exactly when the earliest pending timer is due (one job, moved as needed).

    With `poll` (a database other processes share), also at least that often: a timer
    another process scheduled, or left pending when it died, then fires here too.
    """
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required"
    armed: list[datetime] = []

    async def wake(_context: Any) -> None:
        armed.clear()
        await timers.fire_due()
        if poll is not None:
            arm(datetime.now(UTC) + poll)

    def arm(due_at: datetime) -> None:
        if armed and armed[0] <= due_at:
            return
        armed[:] = [due_at]
        job_queue.run_once(
            wake,
            when=max(due_at, datetime.now(UTC)),
            name="timers",
            job_kwargs={"id": "timers", "replace_existing": True, "misfire_grace_time": None},
        )

    timers.set_arm_callback(arm)
    if poll is not None:
        arm(datetime.now(UTC) + poll)


class _StoreBeforeConfirming(ExtBot[int]):
    """An ExtBot whose getUpdates stores each batch in the inbox before returning it.

    PTB's updater asks again (confirming the batch's offset) as soon as it has queued a
    batch; by then the batch is in SQLite, so a crash loses nothing and a busy chat never
    holds back fetching (bot.inbox). While the backlog is at its bound, fetching waits.
    """

    _inbox: Inbox | None = None  # PTB objects refuse public attributes after __init__
    _outage: OutageLog | None = None
    _fetched: list[str] | None = None  # the last batch as Telegram sent it, one JSON each

    @property
    def inbox(self) -> Inbox | None:
        return self._inbox

    def use_inbox(self, inbox: Inbox | None) -> None:
        self._inbox = inbox

    async def get_updates(self, *args: Any, **kwargs: Any) -> Any:
        inbox = self._inbox
        if inbox is not None:
            await inbox.wait_for_room()
        if self._outage is None:
            self._outage = OutageLog()
        try:
            updates = await super().get_updates(*args, **kwargs)
        except NetworkError as error:
            self._outage.failed(error)
            raise
        self._outage.succeeded()
        if inbox is not None:
            fetched, self._fetched = self._fetched, None
            await inbox.received(updates, fetched)
        return updates

    async def _post(
        self, endpoint: str, data: dict[str, Any] | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            # Kept as received: re-serialising the parsed Update objects (to_json) cost more
            # than handling a request (issue #14's profile).
            self._fetched = [json.dumps(update, ensure_ascii=False) for update in result]
        return result


def build_application(
    config: Config,
    token: str,
    *,
    clock: Clock | None = None,
    publish_command_menus: bool = True,
    arm_timers: bool = True,
) -> GridApplication:
    """A ready-to-run Application; the database opens in post_init, inside the event loop."""
    clock = clock or SystemClock()
    processor = ChatOrderedUpdateProcessor(config.bot.concurrent_chats)

    async def post_init(application: GridApplication) -> None:
        services = await build_services(config, clock)
        me = await application.bot.get_me()
        if not me.can_read_all_group_messages:
            log.warning(
                "privacy mode is on for @%s: in groups where it is not an admin it only sees "
                "commands and replies. Turn it off in @BotFather (/setprivacy) and re-add the bot "
                "to each group, or make it an admin.",
                me.username,
            )
        messenger = Messenger(application.bot, services.renderer, services.grids, services.people)
        broadcasts = NoticeBroadcaster(
            application,
            services.notices,
            messenger,
            parallel_sends=config.notices.parallel_sends,
            progress_every=config.notices.progress_every,
        )
        application.bot_data.runtime = Runtime(
            services=services,
            messenger=messenger,
            bot_username=me.username or "",
            commands=handlers.COMMANDS,
            broadcasts=broadcasts,
            notifier=Notifier(messenger, services, CardKeyboards(services.renderer)),
        )
        # Updates stored but not handled when the process stopped go first.
        inbox = Inbox(services.storage.inbox, clock)
        for update in await inbox.replay(application.bot):
            application.update_queue.put_nowait(update)
        processor.inbox = inbox
        processor.is_urgent = handlers.urgency_check(services.tickets.parser)
        bot.use_inbox(inbox)
        if arm_timers:
            shared = config.database.url is not None
            arm_timers_with_job_queue(
                application, services.timers, poll=SHARED_TIMER_POLL if shared else None
            )
        # Handlers for each timer kind are registered by the features (handlers.register_timers).
        await handlers.register_timers(application, services)
        # Anything that fell due while the bot was down fires now, late but once.
        await services.timers.fire_due()
        # Notice runs cut short by a restart carry on (sending only what is still pending).
        broadcasts.resume_after_start()
        if config.web.enabled:
            from bot.web.server import start_console

            application.bot_data.runtime.console = await start_console(application, config, token)
        if publish_command_menus:
            await publish_menus(
                application, services.renderer, handlers.COMMANDS, sorted(config.staff_ids)
            )

    async def post_shutdown(application: GridApplication) -> None:
        runtime = application.bot_data.runtime
        if bot.inbox is not None:
            await bot.inbox.close()
            processor.inbox = None
            bot.use_inbox(None)
        if runtime is not None:
            await runtime.services.notices.close()
            if runtime.console is not None:
                await runtime.console.stop()
            await runtime.services.storage.close()

    bot = _StoreBeforeConfirming(
        token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
        defaults=Defaults(tzinfo=config.bot.timezone),
        # ApplicationBuilder's own defaults for the two connection pools.
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        # AIORateLimiter with evenly spaced sends and no stampede after a 429 pause.
        rate_limiter=EvenRateLimiter(
            overall_max_rate=config.telegram.overall_max_rate,
            group_max_rate=config.telegram.group_max_rate,
            max_retries=config.telegram.max_retries,
        ),
    )
    builder: Any = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(CONTEXT_TYPES)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(processor)
    )
    application: GridApplication = builder.build()
    handlers.register(application)
    return application


def run(config: Config, token: str) -> None:
    """Serve until interrupted: long polling, or a webhook when [telegram] webhook_url is set."""
    application = build_application(config, token)
    telegram = config.telegram
    if telegram.webhook_url:
        from urllib.parse import urlparse

        log.info("serving webhook on %s:%d", telegram.webhook_listen, telegram.webhook_port)
        application.run_webhook(
            listen=telegram.webhook_listen,
            port=telegram.webhook_port,
            url_path=urlparse(telegram.webhook_url).path.lstrip("/"),
            webhook_url=telegram.webhook_url,
            secret_token=telegram.webhook_secret.reveal(),
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        log.info(
            "long polling %s",
            "the official Bot API"
            if "api.telegram.org" in telegram.base_url
            else telegram.base_url,
        )
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
