"""PTB's AIORateLimiter, shaped so that a broadcast at Telegram's pace draws no 429s.

Two changes, both measured with `bench/broadcast.py` (1,000 grids against the emulator
enforcing 30 messages/s and 20/min per group; the figures are in bench/README.md):

- Evenly spaced sends. AIORateLimiter's overall bucket holds a second's worth of
  requests, so after any pause it lets that many out at once and then keeps the full
  rate: close to twice the limit within one second (49 × 429 for 1,000 grids). A bucket
  of one request refilled `overall_max_rate` times a second spaces them instead (none).
- No stampede after a flood pause. AIORateLimiter takes a request's slot first and only
  then waits out a RetryAfter pause, so the senders that took their slots during the
  pause all go out at once when it ends and trip the limit again: with 8 parallel sends,
  one 429 became a 429 every two seconds for the rest of the run (11 for 1,000 grids).
  Here a slot taken while a pause is on is given up and the request queues again.

A third, for emergencies (issue #13): a request sent with `rate_limit_args=URGENT` skips
its group's pacing (one message every 3 s), so an emergency alert never waits behind the
acknowledgements of a flood in the same group. It still takes its slot of the overall
rate, and a 429 it might draw is retried like any other. At most
`URGENT_PER_GROUP_MINUTE` urgent sends a minute skip a group's pacing: a resident
flooding emergency-sounding text cannot push the group past Telegram's limit (a 429
pauses every chat).

The override re-implements `_run_request` with AIORateLimiter's private attributes
(`_base_limiter`, `_get_group_limiter`, `_group_max_rate`, `_retry_after_event`);
python-telegram-bot is pinned below 23 and tests/unit/test_rate_limit.py fails if they
change.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Coroutine
from contextlib import nullcontext
from contextvars import ContextVar
from typing import Any

from telegram.ext import AIORateLimiter

JSONDict = dict[str, Any]

# Passed as `rate_limit_args` (PTB hands it to the limiter untouched).
URGENT: Any = "urgent"
URGENT_PER_GROUP_MINUTE = 5
_KEPT_GROUPS = 512
_urgent: ContextVar[bool] = ContextVar("urgent_request", default=False)


class EvenRateLimiter(AIORateLimiter):
    """AIORateLimiter with evenly spaced sends, no stampede after a flood pause, and urgent sends
    (see the module docstring).
    """

    __slots__ = ("_urgent_sends",)

    def __init__(self, *, overall_max_rate: float, group_max_rate: float, max_retries: int) -> None:
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1 / overall_max_rate,
            group_max_rate=group_max_rate,
            max_retries=max_retries,
        )
        self._urgent_sends: dict[str | int | bool, deque[float]] = {}

    def _may_skip_pacing(self, group: str | int | bool) -> bool:
        """An urgent send to `group` skips its pacing, unless too many did this minute."""
        now = time.monotonic()
        if len(self._urgent_sends) > _KEPT_GROUPS:
            self._urgent_sends = {
                g: q for g, q in self._urgent_sends.items() if q and now - q[-1] < 60
            }
        sends = self._urgent_sends.setdefault(group, deque())
        while sends and now - sends[0] >= 60:
            sends.popleft()
        if len(sends) >= URGENT_PER_GROUP_MINUTE:
            return False
        sends.append(now)
        return True

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Send one request within the limits, retrying a 429 after the pause it asks for."""
        urgent = rate_limit_args == URGENT
        token = _urgent.set(urgent)
        try:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, None if urgent else rate_limit_args
            )
        finally:
            _urgent.reset(token)

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> bool | JSONDict | list[JSONDict]:
        if allow_paid_broadcast:
            return await super()._run_request(
                chat, group, allow_paid_broadcast, callback, args, kwargs
            )
        overall = self._base_limiter if chat and self._base_limiter else nullcontext()
        paced = not (_urgent.get() and self._may_skip_pacing(group))
        per_group = (
            self._get_group_limiter(group)
            if group and self._group_max_rate and paced
            else nullcontext()
        )
        async with per_group:
            while True:
                await self._retry_after_event.wait()
                async with overall:
                    if self._retry_after_event.is_set():
                        return await callback(*args, **kwargs)
                # A flood pause began while this request waited for its slot: the slot is
                # void (sending now would burst with everyone else's), queue again.
