"""What the closed loop's durable timers do: remind, escalate on breach, close unanswered
verifications, send the daily digest.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.timers import Timer
from bot.services.container import Services
from bot.services.digest import DIGEST_TIMER
from bot.services.ports import UnitOfWork
from bot.services.timers import AfterCommit
from handlers.context import GridApplication, GridContext

TICKET_TIMERS = (
    "ticket.claim_remind",
    "ticket.claim_due",
    "ticket.resolve_remind",
    "ticket.resolve_due",
    "ticket.verify_due",
)


async def register_loop_timers(application: GridApplication, services: Services) -> None:
    """Register the ticket deadline timers: the service acts in the timer's unit of work, the
    notifier tells people after it commits.
    """
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

    async def on_digest(
        timer: Timer, uow: UnitOfWork, now: datetime, _following: datetime | None
    ) -> AfterCommit:
        digests = await services.digest.digests(now)

        async def send() -> None:
            for digest in digests:
                await context.notifier.digest(digest)

        return send

    for kind in TICKET_TIMERS:
        services.timers.on(kind, on_ticket_timer)
    services.timers.recurring(DIGEST_TIMER, services.digest.schedule, on_digest)
    await services.timers.keep_running(DIGEST_TIMER, services.digest.schedule)
