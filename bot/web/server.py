"""The console's web server: tornado on the bot's own asyncio loop.

tornado because python-telegram-bot's webhook extra already brings it (no new dependency),
it runs on the running asyncio loop, streams server-sent events, and has XSRF protection
built in. Every request re-reads the viewer's roles, so the console never shows more than
the chat commands would.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from urllib.parse import urlencode

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.config import Config
from bot.domain.console_auth import ConsoleUser, session_key, validate_init_data
from bot.render import shipped_templates_dir
from bot.web import login, views
from bot.web.live import ChangeFeed
from bot.web.pages import Pages
from handlers.console import set_console_menu_button
from handlers.context import GridApplication, Runtime

log = logging.getLogger(__name__)


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
            config.bot.templates_dir,
            config.bot.timezone,
            {"category_label": services.renderer.global_helper("category_label")},
        )
        self.feed = ChangeFeed(services.console.change_mark)
        self.session_key = session_key(token)

    @property
    def runtime(self) -> Runtime:
        """The running bot's services, messenger and notifier."""
        runtime = self.application.bot_data.runtime
        assert runtime is not None
        return runtime

    @property
    def base_url(self) -> str:
        """Where people open the console: [web] public_url, else the listening address."""
        public = self._config.web.public_url
        if public:
            return public if public.endswith("/") else public + "/"
        host = self._config.web.listen
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        return f"http://{host}:{self.port}/"

    @property
    def secure(self) -> bool:
        """Whether the console is reached over https."""
        return self.base_url.startswith("https://")

    @property
    def serves_mini_app(self) -> bool:
        """Telegram opens Mini Apps over https only."""
        return self.secure

    @property
    def mini_app_url(self) -> str:
        """The address Telegram's menu button opens."""
        return self.base_url + "app"

    def login_url(self, secret: str) -> str:
        """A one-time login link for /console, carrying `secret`."""
        return self.base_url + "login?" + urlencode({"t": secret})

    def validate_init_data(self, init_data: str) -> ConsoleUser:
        """The Telegram user a Mini App's initData names, checked against the bot's token."""
        return validate_init_data(init_data, self._token, self.runtime.services.clock.now())

    def make_app(self) -> tornado.web.Application:
        """The tornado application: the pages, the static files, cookies and XSRF protection."""
        static = Path(self._config.bot.templates_dir or "") / "web" / "static"
        if not static.is_dir():
            static = shipped_templates_dir() / "web" / "static"
        ctx = {"server": self}
        return tornado.web.Application(
            [
                (r"/", views.OverviewPage, ctx),
                (r"/tickets", views.TicketsPage, ctx),
                (r"/tickets/(\d+)", views.TicketPage, ctx),
                (r"/tickets/(\d+)/(claim|resolve|escalate|reject|note)", views.TicketAction, ctx),
                (r"/tickets/(\d+)/files/(\d+)", views.TicketFile, ctx),
                (r"/figures", views.FiguresPage, ctx),
                (r"/export", views.ExportDownload, ctx),
                (r"/notices", views.NoticesPage, ctx),
                (r"/notices/draft", views.NoticeDraftPage, ctx),
                (r"/notices/(\d+)/(confirm|discard)", views.NoticeDecision, ctx),
                (r"/events", views.LiveEvents, ctx),
                (r"/login", login.LinkLogin, ctx),
                (r"/app", login.MiniAppStart, ctx),
                (r"/auth/webapp", login.MiniAppLogin, ctx),
                (r"/logout", login.Logout, ctx),
            ],
            static_path=str(static),
            static_url_prefix="/static/",
            xsrf_cookies=True,
            xsrf_cookie_kwargs={"httponly": True, "samesite": "Lax", "secure": self.secure},
        )

    async def start(self) -> None:
        """Listen on [web] listen:port (a free port for 0) and log the console's address."""
        web = self._config.web
        sockets = tornado.netutil.bind_sockets(web.port, web.listen or None, family=socket.AF_INET)
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(self.make_app(), xheaders=True)
        self._server.add_sockets(sockets)
        log.info("staff console at %s", self.base_url)

    async def stop(self) -> None:
        """Stop the change feed and close every connection."""
        await self.feed.close()
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None


async def start_console(application: GridApplication, config: Config, token: str) -> ConsoleServer:
    """Start the staff console for `application` and give staff its menu
    button when it can be a Mini App.
    """
    server = ConsoleServer(application, config, token)
    await server.start()
    if server.serves_mini_app:
        # Staff are known from the config; heads and duty staff get theirs on /console.
        for staff_id in sorted(config.staff_ids):
            await set_console_menu_button(application, staff_id, server.mini_app_url)
    return server
