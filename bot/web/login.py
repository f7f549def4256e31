"""Logging in: the one-time link /console sends, and the Mini App's signed initData."""

from __future__ import annotations

import logging

from bot.domain.console_auth import SESSION_LIFETIME, ConsoleUser, NotAuthenticated, sign_session
from bot.web.base import SESSION_COOKIE, ConsoleHandler

log = logging.getLogger(__name__)


class _Login(ConsoleHandler):
    login_required = False

    def start_session(self, user: ConsoleUser) -> None:
        expires = self.services.clock.now() + SESSION_LIFETIME
        # No Expires: the browser forgets it when closed; the signed value carries the
        # server-side expiry, checked on every request.
        self.set_cookie(
            SESSION_COOKIE,
            sign_session(self.server.session_key, user, expires),
            httponly=True,
            samesite="Lax",
            secure=self.server.secure,
        )


class LinkLogin(_Login):
    """The link /console sent: works once, within its lifetime, then becomes a session."""

    async def get(self) -> None:
        """Trade a one-time link for a session cookie, then go to the overview."""
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
        """The Mini App's page; its script posts Telegram's initData to /auth/webapp."""
        self.page("app", live=False)


class MiniAppLogin(_Login):
    """Checks the Mini App's initData (signed with the bot's token) and starts a session."""

    async def post(self) -> None:
        """Answer {ok: true} with a session cookie for valid initData, 403 otherwise."""
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
    """Ends the session."""

    login_required = False

    async def post(self) -> None:
        """Drop the session cookie and go back to the start page."""
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/", status=303)
