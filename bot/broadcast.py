"""Sending a notice run: one message per grid, in the background, resumable, reported.

A run is an `application.create_task` task, so updates keep being handled while it
sends and `Application.stop()` waits for it. Workers (`[notices] parallel_sends`) take
the pending deliveries one by one; PTB's AIORateLimiter paces every request (≈30/s
overall, 20/min per group) and retries 429s; `Messenger.deliver_text` moves migrated
groups, marks kicked ones inactive and retries network errors. Each delivery is
recorded right after its send, so a stopped run (the app stopping sets `running` to
False; the workers finish what is in flight and leave the rest pending) is resumed
after the restart without sending anything twice.

The author sees one progress message, edited at most every `progress_every`, only when
a run takes that long, and a final report.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram.error import RetryAfter, TelegramError

from bot.domain.errors import UserError
from bot.domain.notices import RunReport, TargetGrid
from bot.messenger import Messenger
from bot.services.notices import NoticeService, RunPlan

if TYPE_CHECKING:  # the type only: handlers.context builds on this module
    from handlers.context import GridApplication

log = logging.getLogger(__name__)

# After AIORateLimiter's own retries, a delivery still refused with 429 waits and tries
# again this many times before it is recorded as failed.
FLOOD_ROUNDS = 5
NO_CHAT = "no_chat"
FLOOD = "flood"


def _seconds(retry_after: Any) -> float:
    """RetryAfter.retry_after is an int, or a timedelta with PTB_TIMEDELTA set."""
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


class NoticeBroadcaster:
    """Sends notice runs as background tasks of the application, one worker pool per run, and
    resumes unfinished runs after a restart (see the module docstring).
    """

    def __init__(
        self,
        application: GridApplication,
        notices: NoticeService,
        messenger: Messenger,
        *,
        parallel_sends: int,
        progress_every: timedelta,
    ) -> None:
        self._application = application
        self._notices = notices
        self._messenger = messenger
        self._parallel = max(1, parallel_sends)
        self._progress_every = progress_every.total_seconds()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._resumed = asyncio.Event()
        self._resumed.set()

    # --- starting runs ---

    def resume_after_start(self) -> None:
        """Call while starting up: once the application runs, unfinished runs carry on.

        Runs can only become tasks of a *running* application (so that stopping waits for
        them), and post_init comes before that: a JobQueue job fires right after start.
        """
        job_queue = self._application.job_queue
        assert job_queue is not None, "python-telegram-bot[job-queue] is required"
        self._resumed.clear()
        job_queue.run_once(
            self._resume,
            when=0,
            name="notices.resume",
            job_kwargs={
                "id": "notices.resume",
                "replace_existing": True,
                "misfire_grace_time": None,
            },
        )

    async def _resume(self, _context: object) -> None:
        try:
            for run_id in await self._notices.unfinished_runs():
                self.launch(run_id)
        finally:
            self._resumed.set()

    def launch(self, run_id: int) -> None:
        """Send a run in the background (once: a run already sending is left alone)."""
        if not self._application.running:
            return  # starting or stopping: the run stays `sending` and resumes after start
        running = self._tasks.get(run_id)
        if running is not None and not running.done():
            return
        task = self._application.create_task(self._send_run(run_id), name=f"notice-run-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda done: self._forget(run_id, done))

    def _forget(self, run_id: int, task: asyncio.Task[None]) -> None:
        if self._tasks.get(run_id) is task:
            del self._tasks[run_id]

    async def idle(self) -> None:
        """Wait until no run is being sent (for tests, the demo and the benchmark)."""
        await self._resumed.wait()
        while tasks := [task for task in self._tasks.values() if not task.done()]:
            await asyncio.wait(tasks)

    # --- one run ---

    async def _send_run(self, run_id: int) -> None:
        plan = await self._notices.plan(run_id)
        if plan is None:
            return
        progress = _Progress(self._messenger, self._notices, plan, self._progress_every)
        queue = deque(plan.grids)

        async def worker() -> None:
            while queue and self._application.running:
                grid = queue.popleft()
                if not await self._deliver(plan, grid):
                    queue.appendleft(grid)  # stopping while it waited out a flood
                    return
                await progress.delivered()

        # A bug in one delivery cancels the others: the run stays `sending` for the restart.
        async with asyncio.TaskGroup() as workers:
            for _ in range(min(self._parallel, len(queue))):
                workers.create_task(worker())
        if queue:
            log.info("notice run %s stopped with %d deliveries pending", run_id, len(queue))
            return
        finished, report = await self._notices.finish(run_id)
        if report is None:
            return
        await progress.done(report)
        if finished:
            await self._messenger.send(
                plan.notice.author_id,
                "notice_report",
                locale=plan.notice.locale,
                reply_to=progress.message_id,
                notice=plan.notice,
                report=report,
            )

    async def _deliver(self, plan: RunPlan, grid: TargetGrid) -> bool:
        """Send to one grid and record the outcome; False if left pending (stopping)."""
        run_id = plan.run_id
        if not await self._notices.still_pending(run_id, grid.id):
            return True  # cancelled meanwhile
        if grid.chat_id is None:
            await self._notices.failed(run_id, grid.id, NO_CHAT)
            return True
        try:
            text = plan.render(grid)
        except UserError as problem:
            detail = problem.context.get("detail") or problem.code
            await self._notices.failed(run_id, grid.id, f"template: {detail}")
            return True
        for _round in range(FLOOD_ROUNDS):
            try:
                sent = await self._messenger.deliver_text(grid.chat_id, text)
            except RetryAfter as flood:
                # AIORateLimiter gave up after its retries; nothing was sent: wait, retry.
                await asyncio.sleep(_seconds(flood.retry_after) + 0.1)
                if not self._application.running:
                    return False
                continue
            except TelegramError as error:
                log.warning("notice run %s: grid %s failed: %s", run_id, grid.code, error)
                await self._notices.failed(run_id, grid.id, error.message)
                return True
            break
        else:
            await self._notices.failed(run_id, grid.id, FLOOD)
            return True
        message = sent.message
        if message is None:
            await self._notices.failed(run_id, grid.id, sent.refused or "forbidden")
            return True
        await self._notices.sent(
            run_id, grid.id, chat_id=message.chat_id, message_id=message.message_id
        )
        if plan.notice.pin:
            refused = await self._messenger.pin(message.chat_id, message.message_id)
            await self._notices.pinned(run_id, grid.id, refused)
        return True


class _Progress:
    """The author's one "发送中 120/186" message: sent once a run takes a while, then edited."""

    def __init__(
        self, messenger: Messenger, notices: NoticeService, plan: RunPlan, every: float
    ) -> None:
        self._messenger = messenger
        self._notices = notices
        self._every = every
        self._plan = plan
        self.message_id = plan.progress_message_id
        self._done = plan.done
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self._last = self._clock()
        self._busy = False

    def _text(self, done: int, report: RunReport | None = None) -> str:
        notice = self._plan.notice
        return self._messenger.renderer.render(
            "notice_progress",
            notice.locale,
            notice=notice,
            done=done,
            total=self._plan.total,
            report=report,
        )

    async def delivered(self) -> None:
        self._done += 1
        now = self._clock()
        if self._busy or self._done >= self._plan.total or now - self._last < self._every:
            return
        self._busy, self._last = True, now
        try:
            await self._show(self._text(self._done))
        finally:
            self._busy = False

    async def done(self, report: RunReport) -> None:
        if self.message_id is not None:
            await self._show(self._text(report.sent + report.failed, report))

    async def _show(self, text: str) -> None:
        author = self._plan.notice.author_id
        if self.message_id is not None:
            await self._messenger.edit_text(author, self.message_id, text)
            return
        message = await self._messenger.send_text(author, text)
        if message is not None:
            self.message_id = message.message_id
            await self._notices.progress_message(self._plan.run_id, message.message_id)
