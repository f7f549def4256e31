"""Staff notices to grids: /notice (preview, [确认]/[取消]), /notices, /notice_show,
/notice_pause, /notice_resume, /notice_cancel, and what a `notice.run` timer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from telegram import InlineKeyboardMarkup, Message

from bot.domain.errors import UserError
from bot.domain.notices import parse_notice_id
from bot.domain.permissions import Audience
from bot.domain.schedule import format_duration
from bot.domain.timers import Timer
from bot.services.container import Services
from bot.services.notices import NOTICE_TIMER
from bot.services.ports import UnitOfWork
from bot.services.timers import AfterCommit
from handlers.buttons import Button, ButtonPress, CallbackData, button
from handlers.context import GridApplication, GridContext
from handlers.paging import Asker, ListName, PagedList, PageView, page_of, reply_page
from handlers.registry import Command, CommandCall, Where


class NoticeAnswer(StrEnum):
    """The author's answer to a new notice's preview."""

    CONFIRM = "ok"
    DISCARD = "no"


@dataclass(frozen=True, slots=True)
class NoticePress(CallbackData, prefix="n"):
    """n:<ok|no>:<notice id> — the answer under a notice preview."""

    answer: NoticeAnswer
    notice_id: int


def _html_of(message: Message) -> str:
    if message.text:
        return message.text_html
    return message.caption_html if message.caption else ""


def notice_text(message: Message) -> str:
    """The notice as Telegram HTML: the lines after the command, else the replied-to message."""
    body = _html_of(message).partition("\n")[2]
    if not body.strip() and message.reply_to_message is not None:
        body = _html_of(message.reply_to_message)
    return body


async def notice(call: CommandCall) -> None:
    """/notice <when> <targets> [pin], the text on the next lines: preview, then [确认]/[取消]."""
    command_line = call.args.partition("\n")[0].strip()
    if not command_line:
        raise UserError("notice_usage")
    draft = await call.context.services.notices.draft(
        call.user.id, call.locale, command_line, notice_text(call.message)
    )
    messenger = call.context.messenger
    # Exactly what the first grid will receive, then what, where and when, with the buttons.
    await messenger.send_text(call.chat.id, draft.preview, reply_to=call.message.message_id)
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(
                    messenger.renderer,
                    call.locale,
                    "notice_confirm",
                    NoticePress(NoticeAnswer.CONFIRM, draft.notice.id),
                ),
                button(
                    messenger.renderer,
                    call.locale,
                    "cancel",
                    NoticePress(NoticeAnswer.DISCARD, draft.notice.id),
                ),
            ]
        ]
    )
    await call.reply("notice_preview", keyboard=keyboard, draft=draft)


async def notice_button(press: ButtonPress[NoticePress]) -> None:
    """[确认]/[取消] under a preview: staff only, and only while the draft is still a draft."""
    notices = press.context.services.notices
    if press.data.answer is NoticeAnswer.CONFIRM:
        confirmed = await notices.confirm(press.data.notice_id)
        await press.answer()
        await press.edit_text("notice_confirmed", notice=confirmed)
        return
    await notices.discard(press.data.notice_id)
    await press.answer()
    await press.edit_text("notice_discarded")


NOTICES_PER_PAGE = 10
NOTICES_LISTED = 200  # the newest; older ones stay reachable with /notice_show N


async def notices(call: CommandCall) -> None:
    """/notices — scheduled and past notices with their next run."""
    await reply_page(call, ListName.NOTICES, notices_page)


async def notices_page(asker: Asker, _args: str, page: int, locale: str) -> PageView:
    """A page of /notices: scheduled and past notices, shown as residents read them."""
    notices = asker.context.services.notices
    part = page_of(await notices.listing(NOTICES_LISTED), page, NOTICES_PER_PAGE)
    return PageView(
        "notices_list",
        {
            "notices": part.items,
            "total": part.total,
            # What residents read (the first grid's rendering), not the template source.
            "texts": await notices.first_grid_texts(part.items),
        },
        part.page,
        part.pages,
    )


async def notice_show(call: CommandCall) -> None:
    """/notice_show 3 — the text, the schedule and the report of each recent run."""
    found, reports = await call.context.services.notices.show(
        parse_notice_id(call.args, "notice_show")
    )
    await call.reply("notice_detail", notice=found, reports=reports)


async def notice_pause(call: CommandCall) -> None:
    """/notice_pause 3 — no more runs until /notice_resume."""
    paused = await call.context.services.notices.pause(parse_notice_id(call.args, "notice_pause"))
    await call.reply("notice_paused", notice=paused)


async def notice_resume(call: CommandCall) -> None:
    """/notice_resume 3 — runs again from the next moment of its schedule."""
    resumed, due = await call.context.services.notices.resume(
        parse_notice_id(call.args, "notice_resume")
    )
    await call.reply(
        "notice_resumed", notice=resumed, due=due, now=call.context.services.clock.now()
    )


async def notice_cancel(call: CommandCall) -> None:
    """/notice_cancel 3 — no more runs; a run in progress stops."""
    cancelled, stopped = await call.context.services.notices.cancel(
        parse_notice_id(call.args, "notice_cancel")
    )
    await call.reply("notice_cancelled", notice=cancelled, stopped=stopped)


async def register_notice_timers(application: GridApplication, services: Services) -> None:
    """A `notice.run` timer records the run (or a missed one); sending starts after commit."""
    context = GridContext(application)

    async def on_run(
        timer: Timer, uow: UnitOfWork, now: datetime, following: datetime | None
    ) -> AfterCommit:
        start = await services.notices.on_timer(timer, uow, now, following)
        if start is None:
            return None

        async def after() -> None:
            if not start.missed:
                broadcasts = context.runtime.broadcasts
                assert broadcasts is not None, "bot.app builds the broadcaster"
                broadcasts.launch(start.run_id)
                return
            notice = start.notice
            await context.messenger.send(
                notice.author_id,
                "notice_missed",
                locale=notice.locale,
                notice=notice,
                due_at=start.due_at,
                next_run_at=start.next_run_at,
                grace=format_duration(services.notices.settings.grace, notice.locale),
            )

        return after

    services.timers.recurring(NOTICE_TIMER, services.notices.schedule_of, on_run)


COMMANDS: tuple[Command, ...] = (
    Command("notice", notice, Audience.STAFF, Where.PRIVATE),
    Command("notices", notices, Audience.STAFF, Where.PRIVATE),
    Command("notice_show", notice_show, Audience.STAFF, Where.PRIVATE),
    Command("notice_pause", notice_pause, Audience.STAFF, Where.PRIVATE),
    Command("notice_resume", notice_resume, Audience.STAFF, Where.PRIVATE),
    Command("notice_cancel", notice_cancel, Audience.STAFF, Where.PRIVATE),
)

BUTTONS: tuple[Button, ...] = (Button(NoticePress, notice_button, Audience.STAFF),)

LISTS: dict[ListName, PagedList] = {ListName.NOTICES: notices_page}
