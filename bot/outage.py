"""Losing contact with Telegram is logged twice: once when it starts, once when it ends.

PTB's polling loop logs every failed getUpdates with its traceback (about 95 lines), every
1 to 30 seconds for as long as the network is down, and run_polling hands each one to the
error handlers as well (issue #13). `OutageLog` keeps one line for the start, naming the
error and the retry delay, and one for the end, with how long it lasted; the failures in
between go to the debug log.
"""

from __future__ import annotations

import logging
import time

from telegram.error import TimedOut

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0  # PTB's network_retry_loop backs off 1 s × 1.5 per failure, up to 30 s


class OutageLog:
    """One log line when contact with Telegram is lost, one when it
    is back; debug lines in between.
    """

    def __init__(self, poll_interval: float = 0.0) -> None:
        self._poll_interval = poll_interval
        self._since: float | None = None
        self._failures = 0
        self._delay = poll_interval

    @property
    def ongoing(self) -> bool:
        """Whether contact with Telegram is lost right now."""
        return self._since is not None

    def failed(self, error: Exception) -> None:
        """A getUpdates failed on the network: retried after the delay PTB will wait."""
        # The same back-off as telegram.ext._utils.networkloop: a time-out is retried at
        # once, other network errors after 1 s, then 1.5 times longer each time.
        if isinstance(error, TimedOut):
            self._delay = 0.0
        else:
            self._delay = 1.0 if self._delay == 0 else min(MAX_RETRY_DELAY, 1.5 * self._delay)
        self._failures += 1
        if self._since is None:
            self._since = time.monotonic()
            log.warning(
                "lost contact with Telegram (%s: %s); retrying in %.1f s, backing off "
                "to at most %.0f s",
                type(error).__name__,
                error,
                self._delay,
                MAX_RETRY_DELAY,
            )
        else:
            log.debug("still no contact with Telegram (%s); retrying in %.1f s", error, self._delay)

    def succeeded(self) -> None:
        """A getUpdates went through: if an outage was ongoing, log
        its end and how long it lasted.
        """
        if self._since is None:
            return
        lasted = time.monotonic() - self._since
        log.warning(
            "contact with Telegram is back after %.0f s (%d failed attempts, last "
            "retry delay %.1f s)",
            lasted,
            self._failures,
            self._delay,
        )
        self._since = None
        self._failures = 0
        self._delay = self._poll_interval
