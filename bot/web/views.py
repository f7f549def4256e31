"""The console's pages and the actions on them; each is as narrow as the viewer's roles."""

from __future__ import annotations

import asyncio
import html
import io
from datetime import timedelta
from urllib.parse import urlencode

import tornado.iostream
import tornado.web

from bot.domain.errors import UserError
from bot.domain.loop import REJECT_CODES, Action, is_overdue
from bot.domain.ticket_views import TicketFilter
from bot.domain.tickets import TicketStatus
from bot.render import plain
from bot.services.console import OVERVIEW_SORTS
from bot.web.base import ConsoleHandler, whole
from handlers.console import act_from_console, names_for

KEEPALIVE_SECONDS = 15.0
URGENCIES = ("emergency", "high", "normal")
STATUSES = ("open", *(s.value for s in TicketStatus))
PERIODS = ("today", "7d", "30d", "week", "lastweek", "month")


class OverviewPage(ConsoleHandler):
    """The overview: open tickets the viewer may see, overdue first (or by another sort)."""

    async def get(self) -> None:
        """Show the overview, sorted as asked."""
        sort = self.get_query_argument("sort", "overdue")
        rows = await self.services.console.overview(self.actor(), sort)
        self.page(
            "overview",
            rows=rows,
            sort=sort if sort in OVERVIEW_SORTS else "overdue",
            sorts=OVERVIEW_SORTS,
            live=True,
        )


class TicketsPage(ConsoleHandler):
    """Tickets the viewer may see, filtered by grid, status, urgency,
    category and words, a page at a time.
    """

    async def get(self) -> None:
        """Show one page of tickets for the filters in the address."""
        arg = self.get_query_argument
        status = arg("status", "") if arg("status", "") in STATUSES else None
        urgency = arg("urgency", "") if arg("urgency", "") in URGENCIES else None
        categories = self.services.tickets.parser.vocabulary.categories
        category = arg("category", "") if arg("category", "") in categories else None
        wanted = TicketFilter(
            grid_id=whole(arg("grid", "")),
            status=status,
            category=category,
            urgency=urgency,
            overdue=arg("overdue", "") == "1",
            text=arg("q", "").strip()[:100],
        )
        try:
            found = await self.services.console.tickets(
                self.actor(), wanted, whole(arg("page", "")) or 1
            )
        except UserError as exc:
            self.page_error(403, exc)
            return
        grids = await self.services.console.visible_grids(self.actor())
        kept = [(k, v) for k, vs in self.request.query_arguments.items() if k != "page" for v in vs]
        page_query = urlencode([(k, v.decode()) for k, v in kept]) + ("&" if kept else "")
        self.page(
            "tickets",
            found=found,
            page_query=page_query,
            wanted=wanted,
            grids=grids,
            grid_names={g.id: g for g in await self.services.grids.all_grids()},
            categories=sorted(categories),
            statuses=STATUSES,
            urgencies=URGENCIES,
            now=self.services.clock.now(),
            live=True,
        )


class TicketPage(ConsoleHandler):
    """One ticket: its history, attachments and the actions the viewer may take."""

    async def get(self, raw_id: str) -> None:
        """Show the ticket, or 404 for one the viewer may not see (as if it did not exist)."""
        try:
            view = await self.services.console.ticket(self.actor(), int(raw_id))
        except UserError as exc:
            # Someone else's ticket reads exactly like a ticket that does not exist.
            self.page_error(404, exc)
            return
        self.page(
            "ticket",
            view=view,
            overdue=is_overdue(view.ticket, self.services.clock.now()),
            reject_codes=tuple(REJECT_CODES),
            done=self.get_query_argument("done", ""),
            problem=self.get_query_argument("problem", ""),
            live=False,
        )


class TicketAction(ConsoleHandler):
    """A ticket action from the console (claim, resolve, transfer, …),
    told in the chats like a button.
    """

    async def post(self, raw_id: str, raw_action: str) -> None:
        """Act on the ticket, then go back to it; refusals come back as the page's message."""
        ticket_id = int(raw_id)
        action = Action(raw_action)
        text = self.get_body_argument("text", "").strip()
        if action is Action.REJECT:
            text = f"{self.get_body_argument('code', '')} {text}".strip()
        try:
            outcome = await act_from_console(
                self.server.application, self.actor(), ticket_id, action, text
            )
        except UserError as exc:
            if exc.code == "unknown_ticket":
                self.page_error(404, exc)
                return
            if exc.code == "already_claimed" and exc.context.get("by"):
                person = await self.services.people.get(int(str(exc.context["by"])))
                exc.context["by"] = person.display_name if person else exc.context["by"]
            self.redirect(
                f"/tickets/{ticket_id}?" + urlencode({"problem": self.user_error_text(exc)}),
                status=303,
            )
            return
        done = plain(
            self.services.renderer.render(
                "loop_done",
                self.locale_code,
                outcome=outcome,
                **await names_for(self.server.application, outcome),
            )
        )
        self.redirect(f"/tickets/{ticket_id}?" + urlencode({"done": done}), status=303)


class TicketFile(ConsoleHandler):
    """A ticket's photo, fetched from Telegram for a viewer who may see the ticket."""

    async def get(self, raw_id: str, raw_index: str) -> None:
        """Send the photo, or 404 when the viewer may not see the ticket."""
        try:
            view = await self.services.console.ticket(self.actor(), int(raw_id))
        except UserError as exc:
            self.page_error(404, exc)
            return
        index = int(raw_index)
        if index >= len(view.attachments) or view.attachments[index].kind != "photo":
            raise tornado.web.HTTPError(404)
        file = await self.server.application.bot.get_file(view.attachments[index].file_id)
        data = await file.download_as_bytearray()
        # Telegram's photos are JPEG; other bytes (an emulator's PNG) say what they are.
        self.set_header(
            "Content-Type", "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        )
        self.set_header("Cache-Control", "private, max-age=3600")
        self.write(bytes(data))


class FiguresPage(ConsoleHandler):
    """/stats as a page: a period, optionally one grid; charts per day and per grid."""

    async def get(self) -> None:
        """Show the period's figures for the viewer's grids (or one of them)."""
        word = self.get_query_argument("period", "month")
        word = word if word in PERIODS else "month"
        period = self.services.stats.period(word)
        chosen = whole(self.get_query_argument("grid", ""))
        try:
            grids, report = await self.services.console.figures(self.actor(), period, chosen)
        except UserError as exc:
            self.page_error(403, exc)
            return
        tz = self.services.config.bot.timezone
        first = period.start.astimezone(tz).date()
        last = (period.end - timedelta(seconds=1)).astimezone(tz).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        day_values: list[tuple[str, float | None]] = [
            (
                day.strftime("%m-%d"),
                float(sum(report.daily_by_category.get(day.isoformat(), {}).values())),
            )
            for day in days
        ]
        grid_rates = [(row.grid.code, row.figures.resolve_on_time_rate) for row in report.grids]
        self.page(
            "figures",
            report=report,
            period=period,
            periods=PERIODS,
            word=word,
            choices=await self.services.console.visible_grids(self.actor()),
            chosen=chosen,
            day_values=day_values,
            grid_rates=grid_rates,
        )


class ExportDownload(ConsoleHandler):
    """The period's tickets as CSV or Open311 JSON, of the grids the viewer may see (/export)."""

    async def get(self) -> None:
        """Send the export as a file download."""
        kind = self.get_query_argument("kind", "csv")
        word = self.get_query_argument("period", "month")
        period = self.services.stats.period(word if word in PERIODS else "month")
        actor = self.actor()
        grids = None if actor.roles.is_staff else await self.services.console.visible_grids(actor)
        out = io.StringIO()
        try:
            if grids == []:
                raise UserError("not_your_grid")
            await self.services.stats.export(kind, period.start, period.end, grids, out)
        except UserError as exc:
            self.page_error(400, exc)
            return
        suffix = "csv" if kind == "csv" else "json"
        self.set_header(
            "Content-Type",
            "text/csv; charset=utf-8" if kind == "csv" else "application/json; charset=utf-8",
        )
        self.set_header(
            "Content-Disposition", f'attachment; filename="gridbot-{period.label}.{suffix}"'
        )
        self.write(out.getvalue())


class NoticesPage(ConsoleHandler):
    """Notices and one notice's detail; staff only."""

    async def get(self) -> None:
        """Show the notices, and the one in `id` with its run reports."""
        if not self.actor().roles.is_staff:
            self.page_error(403, UserError("not_allowed", command="notices", audience="staff"))
            return
        notices = await self.services.notices.listing()
        shown = whole(self.get_query_argument("id", ""))
        detail = None
        if shown is not None:
            try:
                detail = await self.services.notices.show(shown)
            except UserError as exc:
                self.page_error(404, exc)
                return
        self.page(
            "notices",
            notices=notices,
            detail=detail,
            problem="",
            command="",
            text="",
            done=self.get_query_argument("done", ""),
        )


class NoticeDraftPage(ConsoleHandler):
    """A new notice: the same draft, preview and confirmation as /notice in private."""

    async def post(self) -> None:
        """Draft the notice from the form and show its preview, or
        the form again with the problem.
        """
        if not self.actor().roles.is_staff:
            self.page_error(403, UserError("not_allowed", command="notice", audience="staff"))
            return
        command = self.get_body_argument("command", "").strip()[:200]
        # What Telegram's text_html gives for typed text: the words, HTML-escaped.
        text = html.escape(self.get_body_argument("text", "").replace("\r\n", "\n"), quote=False)
        try:
            if not command:
                raise UserError("notice_usage")
            draft = await self.services.notices.draft(
                self.actor().telegram_id, self.locale_code, command, text
            )
        except UserError as exc:
            self.set_status(400)
            notices = await self.services.notices.listing()
            self.page(
                "notices",
                notices=notices,
                detail=None,
                problem=self.user_error_text(exc),
                command=command,
                text=self.get_body_argument("text", ""),
            )
            return
        summary = plain(
            self.services.renderer.render("notice_preview", self.locale_code, draft=draft)
        )
        self.page("notice_preview", draft=draft, preview=plain(draft.preview), summary=summary)


class NoticeDecision(ConsoleHandler):
    """[确认] / [取消] under the preview, as the buttons under /notice's preview do."""

    async def post(self, raw_id: str, decision: str) -> None:
        """Confirm or discard the draft, and say what happened."""
        if not self.actor().roles.is_staff:
            self.page_error(403, UserError("not_allowed", command="notice", audience="staff"))
            return
        notice_id = int(raw_id)
        try:
            if decision == "confirm":
                confirmed = await self.services.notices.confirm(notice_id)
                done = plain(
                    self.services.renderer.render(
                        "notice_confirmed", self.locale_code, notice=confirmed
                    )
                )
            else:
                await self.services.notices.discard(notice_id)
                done = plain(self.services.renderer.render("notice_discarded", self.locale_code))
        except UserError as exc:
            self.page_error(409, exc)
            return
        self.redirect("/notices?" + urlencode({"id": notice_id, "done": done}), status=303)


class LiveEvents(ConsoleHandler):
    """text/event-stream: a `change` event whenever tickets change, comments to keep alive."""

    async def get(self) -> None:
        """Stream `change` events to the page until it goes away."""
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        feed = self.server.feed
        changed = feed.listen()
        try:
            self.write("retry: 3000\n\n")
            await self.flush()
            while True:
                try:
                    await asyncio.wait_for(changed.wait(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    self.write(": keepalive\n\n")
                else:
                    changed.clear()
                    self.write("event: change\ndata: tickets\n\n")
                await self.flush()
                # Re-check the viewer now and then: removed roles end the stream.
                await self.services.console.viewer(self.actor().telegram_id)
        except (tornado.iostream.StreamClosedError, UserError):
            pass
        finally:
            feed.leave(changed)
