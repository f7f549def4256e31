"""Notice templates generated from jinja2's grammar never hold up the bot's event loop.

Each generated template is rendered through `NoticeWorker` (a child process under a time
and memory budget) while a heartbeat task runs on the same event loop. The property the
issue asks for (#13): whatever the template, the loop is never blocked for longer than the
budget, and the answer is a text or a user-facing refusal.

"Blocked" is measured as the CPU time the loop's thread spends between two heartbeats
(time.thread_time): rendering on the loop would show up there in full, while a machine
too busy to schedule us (2 shared cores) does not. The bound is the budget itself, not a
speed figure: speed is measured by bench/attack.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import jinja2.lexer
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain.errors import UserError
from bot.notice_templates import ALLOWED_FILTERS
from bot.notice_worker import BUDGET_SECONDS, NoticeWorker

CONTEXT = {
    "grid": {"code": "G01", "name": "幸福里", "tags": ["幸福社区"]},
    "heads": [{"name": "王网格长", "username": "wang"}],
    "open_tickets": 3,
    "today": "2026-11-23",
}
USER_FACING = {
    "notice_template_syntax",
    "notice_template_error",
    "notice_too_long",
    "notice_template_html",
    "notice_template_too_slow",
    "notice_template_too_big",
}

# Jinja2's own vocabulary: its binary operators and the filters a notice may use.
BINARY = sorted(
    op
    for op in jinja2.lexer.operators
    if op in {"+", "-", "/", "//", "*", "%", "**", "~", "==", "<", ">"}
)
NAMES = ["grid.code", "grid.name", "grid.tags", "heads", "open_tickets", "today", "v", "w"]

literals = (
    st.integers(-99, 10**6).map(str)
    | st.sampled_from(["'x'", "'字'", "''"])
    | st.integers(1, 1000).map(lambda n: f"'{'x' * min(n, 12)}'*{n}")
    | st.just("[1, 2, 3]")
    | st.just("(['x'*1000]*1000)")
)
expressions = st.recursive(
    literals | st.sampled_from(NAMES),
    lambda inner: (
        st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        | st.tuples(inner, st.sampled_from(sorted(ALLOWED_FILTERS))).map(
            lambda t: f"({t[0]})|{t[1]}"
        )
        | inner.map(lambda e: f"[{e}, {e}]")
    ),
    max_leaves=8,
)
text = st.sampled_from(["停水", "<b>", "</b>", "&lt;", "&amp;", "\n", " ", "<i>注意</i>"])
statements = st.recursive(
    text | expressions.map(lambda e: f"{{{{ {e} }}}}"),
    lambda body: (
        st.tuples(st.sampled_from(["v", "w"]), expressions, body).map(
            lambda t: f"{{% for {t[0]} in {t[1]} %}}{t[2]}{{% endfor %}}"
        )
        | st.tuples(expressions, body).map(lambda t: f"{{% if {t[0]} %}}{t[1]}{{% endif %}}")
        | st.tuples(st.sampled_from(["v", "w"]), expressions).map(
            lambda t: f"{{% set {t[0]} = {t[1]} %}}"
        )
        | body.map(lambda b: f"{{% raw %}}{b}{{% endraw %}}")
        | st.lists(body, min_size=2, max_size=4).map("".join)
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def worker(loop: asyncio.AbstractEventLoop) -> Iterator[NoticeWorker]:
    worker = NoticeWorker()
    yield worker
    loop.run_until_complete(worker.close())


async def longest_stall(worker: NoticeWorker, template: str) -> tuple[float, object]:
    stall = 0.0
    done = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal stall
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.thread_time()
            stall = max(stall, now - last)
            last = now

    beating = asyncio.create_task(heartbeat())
    try:
        result: object = await worker.render(template, [("G01", CONTEXT), ("G02", CONTEXT)])
    except UserError as refused:
        result = refused
    done.set()
    await beating
    return stall, result


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(statements)
@example(
    "{% for a in 'x'*1000 %}{% for b in 'x'*1000 %}{% for c in 'x'*1000 %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)
@example("{{ (((9**64)**64)**64)**64 }}")
@example(
    "{% set v = (['x'*1000]*100)|join %}{% set w = ([v]*1000)|map('lower')|join %}"
    "{{ ([w]*4)|map('lower')|join }}"
)
def test_no_template_blocks_the_loop_longer_than_the_budget(
    loop: asyncio.AbstractEventLoop, worker: NoticeWorker, template: str
) -> None:
    stall, result = loop.run_until_complete(longest_stall(worker, template))
    assert stall < BUDGET_SECONDS, (template, stall)
    outcomes = result if isinstance(result, list) else [result]
    for outcome in outcomes:
        assert isinstance(outcome, str) or (
            isinstance(outcome, UserError) and outcome.code in USER_FACING
        ), (template, outcome)
