"""What the closed loop's durable timers do: remind, escalate on breach, close unanswered
verifications, send the daily digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram.ext import Application

from bot.domain.timers import Timer
from bot.services.container import Services
from bot.services.digest import DIGEST_TIMER
from bot.services.ports import UnitOfWork
from bot.services.timers import AfterCommit
from handlers.context import GridContext

TICKET_TIMERS = (
    "ticket.claim_remind", "ticket.claim_due", "ticket.resolve_remind", "ticket.resolve_due",
    "ticket.verify_due",
)


async def register_loop_timers(
    application: Application[Any, Any, Any, Any, Any, Any], services: Services
) -> None:
    # Timers fire outside any update; a context built on the application gives them the
    # same services and messenger handlers have.
    context = GridContext(application)

    async def on_ticket_timer(timer: Timer, uow: UnitOfWork, now: datetime) -> AfterCommit:
        outcome = await services.loop.on_timer(timer, uow, now)
        if outcome is None:
            return None

        async def tell() -> None:
            await context.notifier.loop_event(outcome)

        return tell

    async def on_digest(timer: Timer, uow: UnitOfWork, now: datetime) -> AfterCommit:
        digests = await services.digest.digests(now)
        await services.digest.schedule_next(uow, now)

        async def send() -> None:
            for digest in digests:
                await context.notifier.digest(digest)
            await services.timers.rearm()

        return send

    for kind in TICKET_TIMERS:
        services.timers.on(kind, on_ticket_timer)
    services.timers.on(DIGEST_TIMER, on_digest)
    await services.digest.ensure_scheduled()


