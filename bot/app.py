"""The one wiring place: database, services, handlers, menus, start-up checks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import ApplicationBuilder, Defaults, ExtBot
from telegram.request import HTTPXRequest

import handlers
from bot.broadcast import NoticeBroadcaster
from bot.config import Config, time_limits
from bot.domain.clock import Clock, SystemClock
from bot.domain.intake import IntakeModel, IntakeParser, Vocabulary
from bot.domain.loop import SlaPolicy
from bot.domain.models import Urgency
from bot.domain.schedule import parse_clock
from bot.messenger import Messenger
from bot.rate_limit import EvenRateLimiter
from bot.render import Renderer
from bot.update_order import ChatOrderedUpdateProcessor
from bot.services.container import Services
from bot.services.digest import DigestService
from bot.services.grids import GridService
from bot.services.loop import LoopService
from bot.services.notices import NoticeService, NoticeSettings
from bot.services.people import PeopleService
from bot.services.tickets import IntakeSettings, TicketService
from bot.services.stats import StatsService
from bot.services.timers import TimerService
from bot.storage.database import Database
from handlers.context import CONTEXT_TYPES, GridApplication, Runtime
from handlers.registry import publish_menus

log = logging.getLogger(__name__)

ALLOWED_UPDATES = Update.ALL_TYPES


def build_parser(config: Config) -> IntakeParser:
    """The request recogniser: rules with the deployment's extra vocabulary, and the model
    `[intake] model` names (the shipped one by default); both checked at config time."""
    vocabulary = Vocabulary.default()
    if config.intake.vocabulary:
        vocabulary = vocabulary.merged_with(config.intake.vocabulary)
    model = (
        IntakeModel.load(Path(config.intake.model)) if config.intake.model else IntakeModel.shipped()
    )
    return IntakeParser(vocabulary, model)


async def build_services(config: Config, clock: Clock) -> Services:
    db = await Database.open(config.database.path)
    renderer = Renderer(config.bot.locale, config.bot.templates_dir, tz=config.bot.tz)
    parser = build_parser(config)
    categories = parser.vocabulary.categories

    def category_label(code: str, locale: str) -> str:
        category = categories.get(code)
        if category is None:
            return code
        return category.label_zh if locale.startswith("zh") else category.label_en

    renderer.add_global("category_label", category_label)
    per_urgency, per_category, verification_timeout = time_limits(config)
    sla = SlaPolicy(
        limits={Urgency(name): limits for name, limits in per_urgency.items()},
        by_category=per_category, verification_timeout=verification_timeout,
    )
    timers = TimerService(db, clock)
    grids = GridService(db, clock, config.staff_ids)
    return Services(
        config=config,
        db=db,
        clock=clock,
        renderer=renderer,
        grids=grids,
        people=PeopleService(db, clock),
        tickets=TicketService(
            db, clock, parser,
            IntakeSettings(max_tickets_per_hour=config.intake.max_tickets_per_hour, sla=sla),
            timers,
        ),
        timers=timers,
        loop=LoopService(db, clock, sla, timers, grids),
        digest=DigestService(db, clock, grids, config.bot.tz, parse_clock(config.digest.time)),
        notices=NoticeService(
            db, clock, timers, NoticeSettings(config.bot.tz, config.notices.grace_period)
        ),
        stats=StatsService(db, clock, grids, config.bot.tz,
                           lambda code: category_label(code, "zh-CN")),
    )


def arm_timers_with_job_queue(application: GridApplication, timers: TimerService) -> None:
    """Wake up exactly when the earliest pending timer is due (one job, moved as needed)."""
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required"
    armed: list[datetime] = []

    async def wake(_context: Any) -> None:
        armed.clear()
        await timers.fire_due()

    def arm(due_at: datetime) -> None:
        if armed and armed[0] <= due_at:
            return
        armed[:] = [due_at]
        job_queue.run_once(
            wake, when=max(due_at, datetime.now(UTC)), name="timers",
            job_kwargs={"id": "timers", "replace_existing": True, "misfire_grace_time": None},
        )

    timers.set_arm_callback(arm)


class _ConfirmAfterHandling(ExtBot[None]):
    """An ExtBot whose getUpdates waits until every update fetched before has been handled.

    Telegram forgets updates once a getUpdates carries an offset past them. PTB's updater
    asks again as soon as it has *queued* a batch, so a crash (SIGKILL, OOM, power) lost the
    updates fetched but not yet handled: residents' requests never filed
    (tests/e2e/test_crash.py). Waiting for the queue to be worked off first makes delivery
    at-least-once; a re-delivered report is deduplicated on chat + message.
    """

    _handled: Any = None

    async def get_updates(self, *args: Any, **kwargs: Any) -> Any:
        if self._handled is not None:
            await self._handled()
        return await super().get_updates(*args, **kwargs)


def build_application(
    config: Config, token: str, *, clock: Clock | None = None,
    publish_command_menus: bool = True, arm_timers: bool = True,
) -> GridApplication:
    """A ready-to-run Application; the database opens in post_init, inside the event loop."""
    clock = clock or SystemClock()

    async def post_init(application: GridApplication) -> None:
        services = await build_services(config, clock)
        me = await application.bot.get_me()
        if not me.can_read_all_group_messages:
            log.warning(
                "privacy mode is on for @%s: in groups where it is not an admin it only sees "
                "commands and replies. Turn it off in @BotFather (/setprivacy) and re-add the bot "
                "to each group, or make it an admin.", me.username,
            )
        messenger = Messenger(application.bot, services.renderer, services.grids, services.people)
        broadcasts = NoticeBroadcaster(
            application, services.notices, messenger,
            parallel_sends=config.notices.parallel_sends,
            progress_every=config.notices.progress_interval,
        )
        application.bot_data.runtime = Runtime(
            services=services, messenger=messenger, bot_username=me.username or "",
            commands=handlers.COMMANDS, broadcasts=broadcasts,
        )
        if arm_timers:
            arm_timers_with_job_queue(application, services.timers)
        # Handlers for each timer kind are registered by the features (handlers.register_timers).
        await handlers.register_timers(application, services)
        # Anything that fell due while the bot was down fires now, late but once.
        await services.timers.fire_due()
        # Notice runs cut short by a restart carry on (sending only what is still pending).
        broadcasts.resume_after_start()
        if publish_command_menus:
            await publish_menus(application, services.renderer, handlers.COMMANDS,
                                sorted(config.staff_ids))

    async def post_shutdown(application: GridApplication) -> None:
        runtime = application.bot_data.runtime
        if runtime is not None:
            await runtime.services.db.close()

    bot = _ConfirmAfterHandling(
        token,
        base_url=config.telegram.base_url,
        base_file_url=config.telegram.base_file_url,
        defaults=Defaults(tzinfo=config.bot.tz),
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
        .concurrent_updates(ChatOrderedUpdateProcessor(config.bot.concurrent_chats))
    )
    application: GridApplication = builder.build()
    bot._handled = application.update_queue.join
    handlers.register(application)
    return application


async def verify_token(config: Config, token: str) -> None:
    """Raise InvalidToken if Telegram refuses the token; network trouble is left to run()."""
    bot = Bot(token, base_url=config.telegram.base_url,
              base_file_url=config.telegram.base_file_url)
    try:
        async with bot:
            pass  # initialize() calls getMe
    except InvalidToken:
        raise
    except TelegramError as exc:
        log.warning("could not reach the Bot API yet (%s); will keep trying", exc)


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
        log.info("long polling %s", "the official Bot API"
                 if "api.telegram.org" in telegram.base_url else telegram.base_url)
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
