"""The console's web server: tornado on the bot's own asyncio loop.

tornado because python-telegram-bot's webhook extra already brings it (no new dependency),
it runs on the running asyncio loop, streams server-sent events, and has XSRF protection
built in. Every request re-reads the viewer's roles, so the console never shows more than
the chat commands would.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import tornado.httpserver
import tornado.iostream
import tornado.netutil
import tornado.web
from markupsafe import Markup

from bot.config import Config
from bot.domain.console_auth import (
    SESSION_LIFETIME,
    ConsoleUser,
    NotAuthenticated,
    read_session,
    session_key,
    sign_session,
    validate_init_data,
)
from bot.domain.errors import UserError
from bot.domain.loop import REJECT_CODES, Action, Actor, is_overdue
from bot.domain.tickets import TicketStatus
from bot.render import plain, shipped_templates_dir
from bot.services.console import OVERVIEW_SORTS
from bot.storage.console import TicketFilter
from bot.web.live import ChangeFeed
from bot.web.pages import Pages
from handlers.console import act_from_console, names_for
from handlers.context import GridApplication

log = logging.getLogger(__name__)

SESSION_COOKIE = "gridbot_console"
KEEPALIVE_SECONDS = 15.0
URGENCIES = ("emergency", "high", "normal")
STATUSES = ("open", *(s.value for s in TicketStatus))
PERIODS = ("today", "7d", "30d", "week", "lastweek", "month")


class ConsoleServer:
    """Serves the console while the bot runs; `start` in post_init, `stop` at shutdown."""

    def __init__(self, application: GridApplication, config: Config, token: str) -> None:
        self.application = application
        self._config = config
        self._token = token
        self._server: tornado.httpserver.HTTPServer | None = None
        self.port = config.web.port
        services = self.runtime.services
        self.pages = Pages(
            config.bot.templates_dir, config.bot.tz,
            {"category_label": services.renderer.global_helper("category_label")},
        )
        self.feed = ChangeFeed(services.console.repository.change_mark)
        self.session_key = session_key(token)

    @property
    def runtime(self) -> Any:
        runtime = self.application.bot_data.runtime
        assert runtime is not None
        return runtime

    @property
    def base_url(self) -> str:
        public = self._config.web.public_url
        if public:
            return public if public.endswith("/") else public + "/"
        host = self._config.web.listen
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        return f"http://{host}:{self.port}/"

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def serves_mini_app(self) -> bool:
        """Telegram opens Mini Apps over https only."""
        return self.secure

    @property
    def mini_app_url(self) -> str:
        return self.base_url + "app"

    def login_url(self, secret: str) -> str:
        return self.base_url + "login?" + urlencode({"t": secret})

    def validate_init_data(self, init_data: str) -> ConsoleUser:
        return validate_init_data(init_data, self._token, self.runtime.services.clock.now())

    def make_app(self) -> tornado.web.Application:
        static = Path(self._config.bot.templates_dir or "") / "web" / "static"
        if not static.is_dir():
            static = shipped_templates_dir() / "web" / "static"
        ctx = {"server": self}
        return tornado.web.Application(
            [
                (r"/", OverviewPage, ctx),
                (r"/tickets", TicketsPage, ctx),
                (r"/tickets/(\d+)", TicketPage, ctx),
                (r"/tickets/(\d+)/(claim|resolve|escalate|reject|note)", TicketAction, ctx),
                (r"/tickets/(\d+)/files/(\d+)", TicketFile, ctx),
                (r"/figures", FiguresPage, ctx),
                (r"/export", ExportDownload, ctx),
                (r"/notices", NoticesPage, ctx),
                (r"/notices/draft", NoticeDraftPage, ctx),
                (r"/notices/(\d+)/(confirm|discard)", NoticeDecision, ctx),
                (r"/events", LiveEvents, ctx),
                (r"/login", LinkLogin, ctx),
                (r"/app", MiniAppStart, ctx),
                (r"/auth/webapp", MiniAppLogin, ctx),
                (r"/logout", Logout, ctx),
            ],
            static_path=str(static),
            static_url_prefix="/static/",
            xsrf_cookies=True,
            xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax", "secure": self.secure},
        )

    async def start(self) -> None:
        web = self._config.web
        sockets = tornado.netutil.bind_sockets(web.port, web.listen or None,
                                               family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(self.make_app(), xheaders=True)
        self._server.add_sockets(sockets)
        log.info("staff console at %s", self.base_url)

    async def stop(self) -> None:
        await self.feed.close()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None


class ConsoleHandler(tornado.web.RequestHandler):
    """Who is asking (session cookie → Actor, re-checked every request), and page helpers."""

    login_required = True

    def initialize(self, server: ConsoleServer) -> None:
        self.server = server
        self.viewer: Actor | None = None
        self.user: ConsoleUser | None = None
        self.locale_code = server.runtime.services.renderer.default_locale

    @property
    def services(self) -> Any:
        return self.server.runtime.services

    def set_default_headers(self) -> None:
        # Everything is served by the bot: no other origin may run script or be loaded.
        # Telegram's web client shows Mini Apps in a frame.
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'self' https://web.telegram.org",
        )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")

    async def prepare(self) -> None:
        cookie = self.get_cookie(SESSION_COOKIE)
        if cookie:
            try:
                self.user = read_session(self.server.session_key, cookie,
                                         self.services.clock.now())
            except NotAuthenticated:
                self.clear_cookie(SESSION_COOKIE)
        if self.user is not None:
            self.locale_code = self.services.renderer.pick_locale(
                self.get_query_argument("lang", None), self.user.language_code
            )
            try:
                self.viewer = await self.services.console.viewer(self.user.telegram_id)
            except UserError as exc:
                self.page_error(403, exc)
                return
        elif self.login_required:
            self.locale_code = self.services.renderer.pick_locale(
                self.get_query_argument("lang", None), self.request.headers.get("Accept-Language")
            )
            self.set_status(401)
            self.page("login_needed")
            self.finish()

    def page(self, name: str, **context: Any) -> None:
        context.setdefault("live", False)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(self.server.pages.html(
            name, self.locale_code, viewer=self.viewer, request=self.request,
            xsrf_input=Markup(self.xsrf_form_html()), xsrf_token=self.xsrf_token.decode(),
            **context,
        ))

    def user_error_text(self, error: UserError) -> str:
        return plain(self.services.renderer.render(f"errors/{error.code}", self.locale_code,
                                                   **error.context))

    def page_error(self, status: int, error: UserError) -> None:
        self.set_status(status)
        self.page("error", message=self.user_error_text(error))
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.server.pages.html(
            "error", self.locale_code, viewer=None, request=self.request, xsrf_input="",
            xsrf_token="", live=False, message=f"{status_code} {self._reason}",
        ))

    def actor(self) -> Actor:
        assert self.viewer is not None
        return self.viewer


class OverviewPage(ConsoleHandler):
    async def get(self) -> None:
        sort = self.get_query_argument("sort", "overdue")
        rows = await self.services.console.overview(self.actor(), sort)
        self.page("overview", rows=rows, sort=sort if sort in OVERVIEW_SORTS else "overdue",
                  sorts=OVERVIEW_SORTS, live=True)


def _whole(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


class TicketsPage(ConsoleHandler):
    async def get(self) -> None:
        arg = self.get_query_argument
        status = arg("status", "") if arg("status", "") in STATUSES else None
        urgency = arg("urgency", "") if arg("urgency", "") in URGENCIES else None
        categories = self.services.tickets.parser.vocabulary.categories
        category = arg("category", "") if arg("category", "") in categories else None
        wanted = TicketFilter(
            grid_id=_whole(arg("grid", "")), status=status, category=category,
            urgency=urgency, overdue=arg("overdue", "") == "1", text=arg("q", "").strip()[:100],
        )
        try:
            found = await self.services.console.tickets(self.actor(), wanted,
                                                        _whole(arg("page", "")) or 1)
        except UserError as exc:
            self.page_error(403, exc)
            return
        grids = await self.services.console.visible_grids(self.actor())
        kept = [(k, v) for k, vs in self.request.query_arguments.items()
                if k != "page" for v in vs]
        self.page("tickets", found=found, page_query=urlencode(
                      [(k, v.decode()) for k, v in kept]) + ("&" if kept else ""), wanted=wanted, grids=grids,
                  grid_names={g.id: g for g in await self.services.grids.grids.all()},
                  categories=sorted(categories), statuses=STATUSES, urgencies=URGENCIES,
                  now=self.services.clock.now(), live=True)


class TicketPage(ConsoleHandler):
    async def get(self, raw_id: str) -> None:
        try:
            view = await self.services.console.ticket(self.actor(), int(raw_id))
        except UserError as exc:
            # Someone else's ticket reads exactly like a ticket that does not exist.
            self.page_error(404, exc)
            return
        self.page("ticket", view=view, overdue=is_overdue(view.ticket, self.services.clock.now()),
                  reject_codes=tuple(REJECT_CODES), done=self.get_query_argument("done", ""),
                  problem=self.get_query_argument("problem", ""), live=False)


class TicketAction(ConsoleHandler):
    async def post(self, raw_id: str, raw_action: str) -> None:
        ticket_id = int(raw_id)
        action = Action(raw_action)
        text = self.get_body_argument("text", "").strip()
        if action is Action.REJECT:
            text = f"{self.get_body_argument('code', '')} {text}".strip()
        try:
            outcome = await act_from_console(self.server.application, self.actor(), ticket_id,
                                             action, text)
        except UserError as exc:
            if exc.code == "unknown_ticket":
                self.page_error(404, exc)
                return
            if exc.code == "already_claimed" and exc.context.get("by"):
                person = await self.services.people.get(int(str(exc.context["by"])))
                exc.context["by"] = person.display_name if person else exc.context["by"]
            self.redirect(f"/tickets/{ticket_id}?" + urlencode(
                {"problem": self.user_error_text(exc)}), status=303)
            return
        done = plain(self.services.renderer.render(
            "loop_done", self.locale_code, outcome=outcome,
            **await names_for(self.server.application, outcome),
        ))
        self.redirect(f"/tickets/{ticket_id}?" + urlencode({"done": done}), status=303)


class TicketFile(ConsoleHandler):
    """A ticket's photo, fetched from Telegram for a viewer who may see the ticket."""

    async def get(self, raw_id: str, raw_index: str) -> None:
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
        self.set_header("Content-Type",
                        "image/png" if data.startswith(b"\x89PNG") else "image/jpeg")
        self.set_header("Cache-Control", "private, max-age=3600")
        self.write(bytes(data))


class FiguresPage(ConsoleHandler):
    async def get(self) -> None:
        word = self.get_query_argument("period", "month")
        word = word if word in PERIODS else "month"
        period = self.services.stats.period(word)
        try:
            grids, report = await self.services.console.figures(
                self.actor(), period, _whole(self.get_query_argument("grid", "")))
        except UserError as exc:
            self.page_error(403, exc)
            return
        tz = self.services.config.bot.tz
        first = period.start.astimezone(tz).date()
        last = (period.end - timedelta(seconds=1)).astimezone(tz).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        day_values: list[tuple[str, float | None]] = [
            (day.strftime("%m-%d"),
             float(sum(report.daily_by_category.get(day.isoformat(), {}).values())))
            for day in days
        ]
        grid_rates = [(row.grid.code, row.figures.resolve_on_time_rate) for row in report.grids]
        self.page("figures", report=report, grids=grids, period=period, periods=PERIODS,
                  word=word, day_values=day_values, grid_rates=grid_rates, live=False)


class ExportDownload(ConsoleHandler):
    async def get(self) -> None:
        kind = self.get_query_argument("kind", "csv")
        word = self.get_query_argument("period", "month")
        period = self.services.stats.period(word if word in PERIODS else "month")
        try:
            grids, _report = await self.services.console.figures(self.actor(), period, None)
            out = io.StringIO()
            await self.services.stats.export(kind, period.start, period.end, grids, out)
        except UserError as exc:
            self.page_error(400, exc)
            return
        suffix = "csv" if kind == "csv" else "json"
        self.set_header("Content-Type", "text/csv; charset=utf-8" if kind == "csv"
                        else "application/json; charset=utf-8")
        self.set_header("Content-Disposition",
                        f'attachment; filename="gridbot-{period.label}.{suffix}"')
        self.write(out.getvalue())


class NoticesPage(ConsoleHandler):
    async def get(self) -> None:
        if not self.actor().roles.is_staff:
            self.page_error(403, UserError("not_allowed", command="notices", audience="staff"))
            return
        notices = await self.services.notices.listing()
        shown = _whole(self.get_query_argument("id", ""))
        detail = None
        if shown is not None:
            try:
                detail = await self.services.notices.show(shown)
            except UserError as exc:
                self.page_error(404, exc)
                return
        self.page("notices", notices=notices, detail=detail, problem="", command="", text="",
                  done=self.get_query_argument("done", ""))


class NoticeDraftPage(ConsoleHandler):
    """A new notice: the same draft, preview and confirmation as /notice in private."""

    async def post(self) -> None:
        if not self.actor().roles.is_staff:
            self.page_error(403, UserError("not_allowed", command="notice", audience="staff"))
            return
        command = self.get_body_argument("command", "").strip()[:200]
        # What Telegram's text_html gives for typed text: the words, HTML-escaped.
        text = html.escape(self.get_body_argument("text", "").replace("\r\n", "\n"), quote=False)
        try:
            if not command:
                raise UserError("notice_usage")
            draft = await self.services.notices.draft(self.actor().telegram_id, self.locale_code,
                                                      command, text)
        except UserError as exc:
            self.set_status(400)
            notices = await self.services.notices.listing()
            self.page("notices", notices=notices, detail=None, problem=self.user_error_text(exc),
                      command=command, text=self.get_body_argument("text", ""))
            return
        summary = plain(self.services.renderer.render(
            "notice_preview", self.locale_code, draft=draft,
            schedule=draft.notice.schedule.describe(self.locale_code)))
        self.page("notice_preview", draft=draft, preview=plain(draft.preview), summary=summary)


class NoticeDecision(ConsoleHandler):
    """[确认] / [取消] under the preview, as the buttons under /notice's preview do."""

    async def post(self, raw_id: str, decision: str) -> None:
        if not self.actor().roles.is_staff:
            self.page_error(403, UserError("not_allowed", command="notice", audience="staff"))
            return
        notice_id = int(raw_id)
        try:
            if decision == "confirm":
                confirmed = await self.services.notices.confirm(notice_id)
                done = plain(self.services.renderer.render(
                    "notice_confirmed", self.locale_code, notice=confirmed,
                    schedule=confirmed.schedule.describe(self.locale_code)))
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


class _Login(ConsoleHandler):
    login_required = False

    def start_session(self, user: ConsoleUser) -> None:
        expires = self.services.clock.now() + SESSION_LIFETIME
        # No Expires: the browser forgets it when closed; the signed value carries the
        # server-side expiry, checked on every request.
        self.set_cookie(
            SESSION_COOKIE, sign_session(self.server.session_key, user, expires),
            httponly=True, samesite="Lax", secure=self.server.secure,
        )


class LinkLogin(_Login):
    """The link /console sent: works once, within its lifetime, then becomes a session."""

    async def get(self) -> None:
        secret = self.get_query_argument("t", "")[:100]
        telegram_id = await self.services.console.use_login_link(secret) if secret else None
        if telegram_id is None:
            self.set_status(403)
            self.page("login_needed", expired=True)
            return
        language = await self.services.console.language_of(telegram_id)
        self.start_session(ConsoleUser(telegram_id, language))
        self.redirect("/", status=303)


class MiniAppStart(_Login):
    """The Mini App's first page: a script hands Telegram's initData to /auth/webapp."""

    async def get(self) -> None:
        self.page("app", live=False)


class MiniAppLogin(_Login):
    async def post(self) -> None:
        try:
            user = self.server.validate_init_data(self.get_body_argument("init_data", ""))
        except NotAuthenticated as exc:
            log.info("console: refused Mini App initData: %s", exc)
            self.set_status(403)
            self.write({"ok": False})
            return
        self.start_session(user)
        self.write({"ok": True})


class Logout(ConsoleHandler):
    login_required = False

    async def post(self) -> None:
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/", status=303)


async def start_console(application: GridApplication, config: Config,
                        token: str) -> ConsoleServer:
    server = ConsoleServer(application, config, token)
    await server.start()
    return server
