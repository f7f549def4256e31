"""Use cases for notices: draft with a preview, confirm, pause/resume/cancel, list, show;
turn a fired timer into a run; record each delivery; finish a run with its report.

Scheduling rides on the durable timers (kind `notice.run`, ref = notice id): the next
run's timer is added in the same transaction as the state change that implies it, so a
crash never leaves a notice active without a timer or a timer for a cancelled notice.
Sending is done by `bot.broadcast`; it asks this service what to send and tells it
what happened, delivery by delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.clock import Clock
from bot.domain.errors import UserError
from bot.domain.notices import (
    DRAFT_TTL,
    RUNS_SHOWN,
    Notice,
    NoticeStatus,
    RunReport,
    RunStatus,
    TargetGrid,
    first_run,
    is_missed,
    parse_notice_command,
    plain_text,
    template_context,
)
from bot.domain.schedule import Schedule, ScheduleError, Targets
from bot.domain.timers import Timer
from bot.notice_worker import NoticeWorker, Result
from bot.services.ports import UnitOfWork, UnitOfWorkFactory
from bot.services.timers import TimerService

NOTICE_TIMER = "notice.run"
CANCELLED = "cancelled"  # the reason of deliveries a /notice_cancel stopped


@dataclass(frozen=True, slots=True)
class NoticeSettings:
    """Where notices' dates are read and how late a run may still go out."""

    tz: ZoneInfo
    grace: timedelta


@dataclass(frozen=True, slots=True)
class Draft:
    """What the preview shows before anything is scheduled."""

    notice: Notice
    preview: str  # the text as `preview_grid` will receive it
    preview_grid: TargetGrid
    grid_count: int
    next_runs: tuple[datetime, ...]  # empty for `now`: sent on confirmation


@dataclass(frozen=True, slots=True)
class RunStart:
    """What a fired `notice.run` timer led to: a run to send, or a missed one to report."""

    notice: Notice
    run_id: int
    missed: bool
    due_at: datetime
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunPlan:
    """A run as the sender needs it: what to render, for whom, how far it got."""

    run_id: int
    notice: Notice
    texts: Mapping[int, Result]  # by grid id, rendered (off the event loop) when planned
    grids: tuple[TargetGrid, ...]  # still pending
    total: int
    done: int  # sent or failed before this (resumed) attempt
    today: date
    progress_message_id: int | None

    def render(self, grid: TargetGrid) -> str:
        """Raises the UserError this grid's rendering ran into (its data broke the template)."""
        text = self.texts[grid.id]
        if isinstance(text, UserError):
            raise text
        return text


class NoticeService:
    """Scheduled notices to many grids: create, confirm, cancel, and one durable run per scheduled
    moment with a delivery per grid.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        timers: TimerService,
        settings: NoticeSettings,
        templates: NoticeWorker,
    ) -> None:
        self._templates = templates
        self._uow = uow
        self._clock = clock
        self._timers = timers
        self._settings = settings

    async def close(self) -> None:
        """Stop the template worker process."""
        await self._templates.close()

    @property
    def settings(self) -> NoticeSettings:
        """The time zone and grace notices run with."""
        return self._settings

    def today(self, now: datetime) -> date:
        """The local date of `now` in the notices' time zone."""
        return now.astimezone(self._settings.tz).date()

    # --- scheduling ---

    async def draft(self, author_id: int, locale: str, command_line: str, text_html: str) -> Draft:
        """Parse, resolve the targets, compile and render for every target; store a draft.

        Every mistake (schedule, targets, template, length) is a UserError here, so
        nothing can fail for these reasons at send time.
        """
        now = self._clock.now()
        request = parse_notice_command(command_line, text_html, now=now, tz=self._settings.tz)
        grid_ids = await self._grid_ids_for(request.targets)
        async with self._uow() as uow:
            grids = await uow.notices.target_grids(grid_ids)
        rendered = await self._render_all(request.text, grids, self.today(now))
        previews: list[str] = []
        for text in rendered:
            if isinstance(text, UserError):
                raise text
            previews.append(text)
        async with self._uow() as uow:
            notice_id = await uow.notices.create(
                author_id=author_id,
                text=request.text,
                schedule=request.schedule,
                targets=request.targets,
                pin=request.pin,
                locale=locale,
                now=now,
            )
            notice = await uow.notices.get(notice_id)
        assert notice is not None
        return Draft(
            notice=notice,
            preview=previews[0],
            preview_grid=grids[0],
            grid_count=len(grids),
            next_runs=tuple(request.schedule.next_runs(now, count=3)),
        )

    async def _render_all(
        self, text_html: str, grids: Sequence[TargetGrid], today: date
    ) -> list[Result]:
        """Every grid's rendering, in the worker process under its budget."""
        return await self._templates.render(
            text_html, [(g.code, template_context(g, today)) for g in grids]
        )

    async def _grid_ids_for(self, targets: Targets) -> list[int]:
        async with self._uow() as uow:
            if targets.grid_codes:
                known = {
                    code.casefold(): (chat_id, active)
                    for code, chat_id, active in await uow.notices.grids_by_code(targets.grid_codes)
                }
                for code in targets.grid_codes:
                    if code.casefold() not in known:
                        raise UserError("unknown_grid", code=code)
                    chat_id, active = known[code.casefold()]
                    if chat_id is None or not active:
                        raise UserError("notice_grid_unreachable", code=code)
            grid_ids = await uow.notices.target_grid_ids(targets)
        if not grid_ids:
            raise UserError("notice_no_grids", tags=", ".join(targets.tags))
        return grid_ids

    async def confirm(self, notice_id: int) -> Notice:
        """[确认]: the draft becomes active, its first run a timer (fired at once for `now`)."""
        now = self._clock.now()
        async with self._uow() as uow:
            notice = await uow.notices.get(notice_id)
            if notice is None or notice.status is not NoticeStatus.DRAFT:
                raise UserError("confirmation_gone")
            if now - notice.created_at > DRAFT_TTL:
                raise UserError("notice_draft_expired")
            due = first_run(notice.schedule, now)
            if due is None:
                at = (notice.schedule.at or now).astimezone(self._settings.tz)
                raise ScheduleError("past_time", f"{at:%Y-%m-%d %H:%M}")
            if not await uow.notices.change_status(
                notice_id,
                NoticeStatus.ACTIVE,
                from_=(NoticeStatus.DRAFT,),
                next_run_at=due,
                now=now,
            ):
                raise UserError("confirmation_gone")
            await uow.timers.add(NOTICE_TIMER, notice_id, due)
        await self._timer_added(due, now)
        async with self._uow() as uow:
            confirmed = await uow.notices.get(notice_id)  # after a `now` run has started
        assert confirmed is not None
        return confirmed

    async def discard(self, notice_id: int) -> None:
        """[取消] under the preview: the draft is dropped, nothing was scheduled."""
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.notices.change_status(
                notice_id,
                NoticeStatus.DISCARDED,
                from_=(NoticeStatus.DRAFT,),
                next_run_at=None,
                now=now,
            ):
                raise UserError("confirmation_gone")

    async def pause(self, notice_id: int) -> Notice:
        """No runs until resumed (a run in progress finishes)."""
        now = self._clock.now()
        async with self._uow() as uow:
            return await self._stop(uow, notice_id, NoticeStatus.PAUSED, now)

    async def resume(self, notice_id: int) -> tuple[Notice, datetime | None]:
        """The next run after now; a one-off whose moment passed while paused goes out now.

        Returns the notice and its next run (None: the schedule has ended, it is finished).
        """
        now = self._clock.now()
        async with self._uow() as uow:
            notice = await self._must_get(uow, notice_id)
            if notice.status is not NoticeStatus.PAUSED:
                raise UserError("notice_not_paused", id=notice_id, status=notice.status.value)
            due = first_run(notice.schedule, now)
            if due is None and not notice.schedule.is_repeating:
                due = now
            status = NoticeStatus.ACTIVE if due is not None else NoticeStatus.FINISHED
            if not await uow.notices.change_status(
                notice_id,
                status,
                from_=(NoticeStatus.PAUSED,),
                next_run_at=due,
                now=now,
            ):
                raise UserError("notice_not_paused", id=notice_id, status=notice.status.value)
            if due is not None:
                await uow.timers.add(NOTICE_TIMER, notice_id, due)
            resumed = await self._must_get(uow, notice_id)
        if due is not None:
            await self._timer_added(due, now)
        return resumed, due

    async def cancel(self, notice_id: int) -> tuple[Notice, int]:
        """No more runs; deliveries of a run in progress not sent yet fail as cancelled.

        Returns the notice and how many deliveries were stopped (the sender then finishes
        that run and reports it).
        """
        now = self._clock.now()
        async with self._uow() as uow:
            cancelled = await self._stop(uow, notice_id, NoticeStatus.CANCELLED, now)
            stopped = await uow.notices.fail_pending(notice_id, CANCELLED, now)
        return cancelled, stopped

    async def _stop(
        self, uow: UnitOfWork, notice_id: int, to: NoticeStatus, now: datetime
    ) -> Notice:
        """Pause or cancel, and its timer goes.

        Pausing needs an active notice; cancelling also takes a paused one, and a finished
        one whose last run is still sending (`/notice now …` stopped half way).
        """
        notice = await self._must_get(uow, notice_id)
        from_: tuple[NoticeStatus, ...] = (NoticeStatus.ACTIVE,)
        if to is NoticeStatus.CANCELLED:
            from_ += (NoticeStatus.PAUSED,)
            if await uow.notices.is_sending(notice_id):
                from_ += (NoticeStatus.FINISHED,)
        if not await uow.notices.change_status(
            notice_id, to, from_=from_, next_run_at=None, now=now
        ):
            raise UserError("notice_not_active", id=notice_id, status=notice.status.value)
        await uow.timers.cancel(NOTICE_TIMER, notice_id, now)
        return await self._must_get(uow, notice_id)

    async def _timer_added(self, due: datetime, now: datetime) -> None:
        await self._timers.scheduled(due)
        if due <= now:
            await self._timers.fire_due()

    async def _must_get(self, uow: UnitOfWork, notice_id: int) -> Notice:
        notice = await uow.notices.get(notice_id)
        if notice is None or notice.status in (NoticeStatus.DRAFT, NoticeStatus.DISCARDED):
            raise UserError("unknown_notice", id=notice_id)
        return notice

    # --- reading ---

    async def listing(self, limit: int = 15) -> list[Notice]:
        """Scheduled and past notices, the live ones first (/notices)."""
        async with self._uow() as uow:
            return await uow.notices.listing(limit)

    async def first_grid_texts(self, notices: Sequence[Notice]) -> dict[int, str]:
        """Each notice as its first target grid reads it today (plain text), for listings;
        a notice that reaches no grid now, or fails to render, is left out.
        """
        today = self.today(self._clock.now())
        texts: dict[int, str] = {}
        for notice in notices:
            async with self._uow() as uow:
                grid_ids = await uow.notices.target_grid_ids(notice.targets)
                if not grid_ids:
                    continue
                grids = await uow.notices.target_grids(grid_ids[:1])
            [rendered] = await self._render_all(notice.text, grids, today)
            if isinstance(rendered, str):
                texts[notice.id] = plain_text(rendered)
        return texts

    async def show(self, notice_id: int) -> tuple[Notice, list[RunReport]]:
        """A notice and its latest runs' reports; a polite refusal for an unknown id."""
        async with self._uow() as uow:
            notice = await self._must_get(uow, notice_id)
            return notice, await uow.notices.reports_of(notice_id, RUNS_SHOWN)

    # --- runs ---

    async def schedule_of(self, uow: UnitOfWork, notice_id: int) -> Schedule | None:
        """The schedule a `notice.run` timer re-arms from (TimerService.recurring)."""
        notice = await uow.notices.get(notice_id)
        if notice is None or notice.status is not NoticeStatus.ACTIVE:
            return None  # paused or cancelled meanwhile; its timers were cancelled too
        return notice.schedule

    async def on_timer(
        self, timer: Timer, uow: UnitOfWork, now: datetime, following: datetime | None
    ) -> RunStart | None:
        """A run fell due (the next one is stored already): record a run (or a missed one)."""
        notice = await uow.notices.get(timer.ref_id)
        assert notice is not None, "schedule_of found it in this unit of work"
        if following is not None:
            await uow.notices.set_next_run(notice.id, following, now)
        else:
            await uow.notices.change_status(
                notice.id,
                NoticeStatus.FINISHED,
                from_=(NoticeStatus.ACTIVE,),
                next_run_at=None,
                now=now,
            )
        missed = is_missed(timer.due_at, now, self._settings.grace)
        status = RunStatus.MISSED if missed else RunStatus.SENDING
        run_id = await uow.notices.create_run(notice.id, timer.due_at, status, now)
        if run_id is None:
            return None  # this moment already has its run
        if not missed:
            grid_ids = await uow.notices.target_grid_ids(notice.targets)
            await uow.notices.add_deliveries(run_id, grid_ids)
        return RunStart(notice, run_id, missed, timer.due_at, following)

    async def unfinished_runs(self) -> list[int]:
        """Runs still sending, to resume after a restart."""
        async with self._uow() as uow:
            return await uow.notices.unfinished_runs()

    async def plan(self, run_id: int) -> RunPlan | None:
        """What a sending run still has to deliver, each grid's text rendered for today (None: the
        run is over).
        """
        async with self._uow() as uow:
            found = await uow.notices.run_notice(run_id)
            report = await uow.notices.report(run_id)
            if found is None or report is None or report.status is not RunStatus.SENDING:
                return None
            notice, progress_message_id = found
            grids = await uow.notices.target_grids(await uow.notices.pending_grid_ids(run_id))
        today = self.today(self._clock.now())
        texts: list[Result]
        try:
            texts = await self._render_all(notice.text, grids, today)
        except UserError as problem:  # checked at creation; today's data made it worse
            texts = [problem] * len(grids)
        return RunPlan(
            run_id=run_id,
            notice=notice,
            texts={g.id: t for g, t in zip(grids, texts, strict=True)},
            grids=tuple(grids),
            total=report.total,
            done=report.sent + report.failed,
            today=today,
            progress_message_id=progress_message_id,
        )

    async def still_pending(self, run_id: int, grid_id: int) -> bool:
        """Whether a run's delivery to a grid has still to go out (checked just before sending)."""
        async with self._uow() as uow:
            return await uow.notices.is_pending(run_id, grid_id)

    async def sent(self, run_id: int, grid_id: int, *, chat_id: int, message_id: int) -> None:
        """Record that a delivery went out as this message."""
        async with self._uow() as uow:
            await uow.notices.mark_sent(
                run_id,
                grid_id,
                chat_id=chat_id,
                message_id=message_id,
                now=self._clock.now(),
            )

    async def pinned(self, run_id: int, grid_id: int, refused: str | None) -> None:
        """How pinning a sent notice went: None, or Telegram's reason for refusing."""
        async with self._uow() as uow:
            await uow.notices.mark_pinned(run_id, grid_id, refused)

    async def failed(self, run_id: int, grid_id: int, reason: str) -> None:
        """Record that a delivery failed, with Telegram's reason (cut to 300 characters)."""
        async with self._uow() as uow:
            await uow.notices.mark_failed(run_id, grid_id, reason[:300], self._clock.now())

    async def progress_message(self, run_id: int, message_id: int) -> None:
        """Remember the message that shows the run's progress to its author."""
        async with self._uow() as uow:
            await uow.notices.set_progress_message(run_id, message_id)

    async def finish(self, run_id: int) -> tuple[bool, RunReport | None]:
        """(whether this call finished the run, its report); the report goes out once."""
        async with self._uow() as uow:
            finished = await uow.notices.finish_run(run_id, self._clock.now())
            return finished, await uow.notices.report(run_id)

    async def report(self, run_id: int) -> RunReport | None:
        """A run's outcome: sent, pinned and failed deliveries."""
        async with self._uow() as uow:
            return await uow.notices.report(run_id)
