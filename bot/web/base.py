"""What every console request shares: who is asking, and how a page is written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tornado.web
from markupsafe import Markup

from bot.domain.console_auth import ConsoleUser, NotAuthenticated, read_session
from bot.domain.errors import UserError
from bot.domain.loop import Actor
from bot.render import plain
from bot.services.container import Services

if TYPE_CHECKING:
    from bot.web.server import ConsoleServer

SESSION_COOKIE = "gridbot_console"


class ConsoleHandler(tornado.web.RequestHandler):
    """Who is asking (session cookie → Actor, re-checked every request), and page helpers."""

    login_required = True

    def initialize(self, server: ConsoleServer) -> None:
        """Tornado's per-request set-up: the console server, nobody
        signed in yet, the default language.
        """
        self.server = server
        self.viewer: Actor | None = None
        self.user: ConsoleUser | None = None
        self.locale_code = server.runtime.services.renderer.default_locale

    @property
    def services(self) -> Services:
        """The bot's services, the same objects the chat handlers use."""
        return self.server.runtime.services

    def set_default_headers(self) -> None:
        """Security headers on every response: nothing from other origins,
        framed only by Telegram's web client.
        """
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
        """Read the session cookie into the viewer and their language; answer
        401 or 403 before any page runs.
        """
        cookie = self.get_cookie(SESSION_COOKIE)
        if cookie:
            try:
                self.user = read_session(self.server.session_key, cookie, self.services.clock.now())
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
        """Write the console page `name` with the viewer, the
        language and the XSRF token it needs.
        """
        context.setdefault("live", False)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(
            self.server.pages.html(
                name,
                self.locale_code,
                viewer=self.viewer,
                request=self.request,
                xsrf_input=Markup(self.xsrf_form_html()),
                xsrf_token=self.xsrf_token.decode(),
                **context,
            )
        )

    def user_error_text(self, error: UserError) -> str:
        """A user error's message, from the same errors/ template the chat uses, as plain text."""
        return plain(
            self.services.renderer.render(f"errors/{error.code}", self.locale_code, **error.context)
        )

    def page_error(self, status: int, error: UserError) -> None:
        """Answer with `status` and the error's message as a page."""
        self.set_status(status)
        self.page("error", message=self.user_error_text(error))
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """An unexpected error's page: the status and its reason, no traceback."""
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(
            self.server.pages.html(
                "error",
                self.locale_code,
                viewer=None,
                request=self.request,
                xsrf_input="",
                xsrf_token="",
                live=False,
                message=f"{status_code} {self._reason}",
            )
        )

    def actor(self) -> Actor:
        """The signed-in viewer as an Actor (prepare() refused the request otherwise)."""
        assert self.viewer is not None
        return self.viewer


def whole(text: str | None) -> int | None:
    """A page number or id from the address; None for anything else."""
    return int(text) if text and text.isdigit() and len(text) < 10 else None
