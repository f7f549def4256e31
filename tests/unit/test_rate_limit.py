"""The rate limiter spaces requests evenly and does not stampede after a flood pause."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.rate_limit import URGENT, URGENT_PER_GROUP_MINUTE, EvenRateLimiter

RATE = 50.0  # requests per second: 20 ms apart


def test_the_private_names_it_builds_on_still_exist() -> None:
    # EvenRateLimiter re-implements AIORateLimiter._run_request with these.
    limiter = AIORateLimiter()
    for name in (
        "_base_limiter",
        "_get_group_limiter",
        "_group_max_rate",
        "_retry_after_event",
        "_run_request",
    ):
        assert hasattr(limiter, name), name


async def send_all(
    limiter: EvenRateLimiter, chats: list[int], fail_first: bool = False
) -> list[float]:
    loop = asyncio.get_running_loop()
    times: list[float] = []
    failed: list[bool] = []

    async def call(*_args: Any, **_kwargs: Any) -> bool:
        if fail_first and not failed:
            failed.append(True)
            raise RetryAfter(timedelta(seconds=0.2))
        times.append(loop.time())
        return True

    await asyncio.gather(
        *(
            limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, None)
            for chat in chats
        )
    )
    return sorted(times)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


async def test_requests_are_evenly_spaced_without_an_initial_burst() -> None:
    limiter = EvenRateLimiter(overall_max_rate=RATE, group_max_rate=20, max_retries=1)
    times = await send_all(limiter, [-n for n in range(1, 13)])
    assert len(times) == 12
    assert min(gaps(times)) >= 0.9 / RATE  # AIORateLimiter's default would send 12 at once


async def test_after_a_flood_pause_they_do_not_go_out_all_at_once() -> None:
    limiter = EvenRateLimiter(overall_max_rate=RATE, group_max_rate=20, max_retries=1)
    times = await send_all(limiter, [-n for n in range(1, 13)], fail_first=True)
    assert len(times) == 12  # the refused one was retried after the pause
    assert min(gaps(times)) >= 0.9 / RATE


async def test_urgent_sends_skip_a_groups_pacing_a_few_times_a_minute() -> None:
    limiter = EvenRateLimiter(overall_max_rate=RATE, group_max_rate=1, max_retries=1)
    sent: list[int] = []

    async def call(*_args: Any, **_kwargs: Any) -> bool:
        sent.append(1)
        return True

    async def send(urgent: bool) -> None:
        await limiter.process_request(
            call, (), {}, "sendMessage", {"chat_id": -5}, URGENT if urgent else None
        )

    await send(urgent=False)  # the group's one message a minute is used up
    for _ in range(URGENT_PER_GROUP_MINUTE):
        await send(urgent=True)  # an emergency does not wait for the next minute
    assert len(sent) == 1 + URGENT_PER_GROUP_MINUTE
    # Beyond that, urgent sends are paced like any other (here: the next minute).
    assert not limiter._may_skip_pacing(-5)
    assert limiter._may_skip_pacing(-6)
