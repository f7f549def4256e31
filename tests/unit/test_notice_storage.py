"""Notice storage on a real SQLite file: conditional transitions, one run per moment, reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.notices import NoticeStatus, RunStatus, parse_notice_command
from bot.domain.schedule import Targets
from bot.storage.unit_of_work import SqlStorage
from tests.conftest import open_storage

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
async def db(database: dict[str, str]) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(database)
    async with storage.unit_of_work() as uow:
        for n, (code, active) in enumerate((("G01", True), ("G02", True), ("G03", False)), 1):
            await uow.grids.create(
                code=code, name=f"{code}网格", chat_id=-n, chat_title=None, now=NOW
            )
            if not active:
                await uow.grids.set_active_by_chat(-n, False, NOW)
        await uow.grids.set_tags(2, ["幸福社区"])
    yield storage
    await storage.close()


async def draft(db: SqlStorage) -> int:
    request = parse_notice_command("每天 09:00 all", "停水", now=NOW, tz=ZoneInfo("Asia/Shanghai"))
    async with db.unit_of_work() as uow:
        return await uow.notices.create(
            author_id=9001,
            text=request.text,
            schedule=request.schedule,
            targets=request.targets,
            pin=False,
            locale="zh-CN",
            now=NOW,
        )


async def test_targets_reach_active_grids_by_all_code_or_tag(db: SqlStorage) -> None:
    ids = db.notices.target_grid_ids
    assert await ids(Targets(all=True)) == [1, 2]  # G03: the bot is not in its chat
    assert await ids(Targets(all=False, grid_codes=("g01", "G03"))) == [1]
    assert await ids(Targets(all=False, tags=("幸福社区",), grid_codes=("G01",))) == [1, 2]
    assert await ids(Targets(all=False, tags=("nowhere",))) == []


async def test_status_changes_are_conditional(db: SqlStorage) -> None:
    notice_id = await draft(db)
    async with db.unit_of_work() as uow:
        change = uow.notices.change_status
        assert await change(
            notice_id, NoticeStatus.ACTIVE, from_=[NoticeStatus.DRAFT], next_run_at=NOW, now=NOW
        )
        # A second [确认] (or a [取消] after it) finds no draft any more.
        assert not await change(
            notice_id, NoticeStatus.DISCARDED, from_=[NoticeStatus.DRAFT], next_run_at=None, now=NOW
        )
    notice = await db.notices.get(notice_id)
    assert notice is not None and notice.status is NoticeStatus.ACTIVE
    assert notice.next_run_at == NOW and notice.schedule.cron == "0 9 * * *"


async def test_one_run_per_moment_finished_once_when_nothing_is_pending(db: SqlStorage) -> None:
    notice_id = await draft(db)
    repo = db.notices
    async with db.unit_of_work() as uow:
        run_id = await uow.notices.create_run(notice_id, NOW, RunStatus.SENDING, NOW)
        assert run_id is not None
        assert await uow.notices.create_run(notice_id, NOW, RunStatus.SENDING, NOW) is None
        await uow.notices.add_deliveries(run_id, [1, 2])
    assert await repo.pending_grid_ids(run_id) == [1, 2]
    async with db.unit_of_work() as uow:
        await uow.notices.mark_sent(run_id, 1, chat_id=-1, message_id=7, now=NOW)
        assert not await uow.notices.finish_run(run_id, NOW)  # G02 still pending
        assert await uow.notices.mark_failed(run_id, 2, "Forbidden: kicked", NOW)
        assert not await uow.notices.mark_failed(run_id, 2, "again", NOW)
        assert await uow.notices.finish_run(run_id, NOW + timedelta(seconds=5))
        assert not await uow.notices.finish_run(run_id, NOW)  # reported once
    report = await repo.report(run_id)
    assert report is not None and report.status is RunStatus.DONE
    assert (report.total, report.sent, report.failed, report.pending) == (2, 1, 1, 0)
    assert [(f.grid_code, f.reason) for f in report.failures] == [("G02", "Forbidden: kicked")]
    assert await repo.unfinished_runs() == []


async def test_cancelling_fails_what_is_still_pending(db: SqlStorage) -> None:
    notice_id = await draft(db)
    async with db.unit_of_work() as uow:
        run_id = await uow.notices.create_run(notice_id, NOW, RunStatus.SENDING, NOW)
        assert run_id is not None
        await uow.notices.add_deliveries(run_id, [1, 2])
        await uow.notices.mark_sent(run_id, 1, chat_id=-1, message_id=7, now=NOW)
        assert await uow.notices.fail_pending(notice_id, "cancelled", NOW) == 1
    assert await db.notices.pending_grid_ids(run_id) == []
    assert await db.notices.unfinished_runs() == [run_id]  # the sender finishes it
