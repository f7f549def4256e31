"""Notice templates rendered in a separate process, under a time and a memory budget.

A staff member's template is code: three nested loops over a 1,000-character string are
10⁹ steps, a power of a power is a 27-second C call, a join of joins is a gigabyte. Run
on the event loop, any of them froze every grid (issue #13). Here they run in a child
process that the bot talks to over a pipe:

- time: each request (at most `CHUNK` grids) must be answered within `BUDGET_SECONDS`,
  or the child is killed (a C call cannot be interrupted any other way) and the template
  refused as too slow; the next request starts a fresh child;
- memory: the child's address space is capped (`MEMORY_LIMIT_BYTES`); a MemoryError is
  answered as "too much memory" and the child exits, leaving the bot's own memory alone;
- output: each rendering is capped and checked by `bot.notice_templates`.

The bot's event loop only waits on the pipe. Start-up of the child (about 0.1 s) is not
counted against the budget.

Protocol: one JSON line per request, `{"text": …, "grids": [[code, context], …]}`; one
JSON line per answer, `{"results": [{"text": …} | {"error": {"code": …, "context": …}}]}`
or `{"error": …}` when the template does not even compile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.errors import UserError

log = logging.getLogger(__name__)

BUDGET_SECONDS = 0.5
CHUNK = 50  # grids per request: a legitimate template renders 50 grids in milliseconds
MEMORY_LIMIT_BYTES = 96 * 1024 * 1024  # the interpreter and jinja2 take about 30 MB of it
WALL_FACTOR = 6  # wall-clock cap, in budgets, when the machine is too busy to run the child
START_TIMEOUT_SECONDS = 30.0  # a loaded machine starts Python slowly; not the template's fault
_PIPE_LIMIT = 16 * 1024 * 1024  # one answer line: CHUNK renderings of at most MAX_OUTPUT


GridContext = tuple[str, Mapping[str, Any]]
Result = str | UserError


class NoticeWorker:
    """The bot's side: `await render(text, grids)` -> one text or UserError per grid."""

    def __init__(
        self, budget: float = BUDGET_SECONDS, memory_limit: int = MEMORY_LIMIT_BYTES
    ) -> None:
        self._budget = budget
        self._memory_limit = memory_limit
        self._process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()  # one request at a time on the pipe

    async def render(self, text_html: str, grids: Sequence[GridContext]) -> list[Result]:
        """Each grid's text, or the UserError that grid's rendering ran into.

        Raises UserError for what concerns the template as a whole: it does not compile,
        it is too slow, it needs too much memory.
        """
        results: list[Result] = []
        for start in range(0, max(len(grids), 1), CHUNK):
            chunk = list(grids[start : start + CHUNK])
            async with self._lock:
                answer = await self._ask({"text": text_html, "grids": chunk})
            if "error" in answer:
                raise _user_error(answer["error"])
            results.extend(
                _user_error(r["error"]) if "error" in r else str(r["text"])
                for r in answer["results"]
            )
        return results

    async def close(self) -> None:
        """Stop the template worker process (killed if it does not exit within 2 s)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 2)
        except TimeoutError:
            await self._kill(process)

    async def _ask(self, request: Mapping[str, Any]) -> dict[str, Any]:
        process = await self._running()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
        try:
            await process.stdin.drain()
            line = await self._answer_within_budget(process)
        except TimeoutError:
            await self._kill(process)
            raise UserError("notice_template_too_slow", budget=int(self._budget * 1000)) from None
        except (ConnectionError, ValueError) as exc:  # died, or an over-long line
            await self._kill(process)
            log.warning("the notice worker failed: %s", exc)
            raise UserError("notice_template_too_big") from None
        if not line:  # killed by the kernel (the memory cap) or crashed
            await self._kill(process)
            raise UserError("notice_template_too_big")
        answer: dict[str, Any] = json.loads(line)
        if answer.get("exit"):  # it ran out of memory and will not serve again
            await self._kill(process)
        return answer

    async def _answer_within_budget(self, process: asyncio.subprocess.Process) -> bytes:
        """The answer line; TimeoutError once the child has spent the budget in CPU time.

        On a busy machine the child may wait for a core: wall time alone would refuse a
        harmless template. So the budget is the child's CPU time, and wall time is capped
        at `WALL_FACTOR` budgets whatever happens.
        """
        assert process.stdout is not None
        reading = asyncio.ensure_future(process.stdout.readline())
        started = _cpu_seconds(process.pid)
        try:
            waited = 0.0
            while True:
                done, _pending = await asyncio.wait({reading}, timeout=self._budget / 4)
                if done:
                    return reading.result()
                waited += self._budget / 4
                spent = _cpu_seconds(process.pid)
                over_cpu = spent is None or started is None or spent - started >= self._budget
                if (waited >= self._budget and over_cpu) or waited >= self._budget * WALL_FACTOR:
                    raise TimeoutError
        finally:
            if not reading.done():
                reading.cancel()

    async def _running(self) -> asyncio.subprocess.Process:
        process = self._process
        if process is not None and process.returncode is None:
            return process
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.notice_worker",
            str(self._memory_limit),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_PIPE_LIMIT,
        )
        assert process.stdout is not None
        try:
            ready = await asyncio.wait_for(process.stdout.readline(), START_TIMEOUT_SECONDS)
        except TimeoutError:
            ready = b""
        if not ready.startswith(b"{"):
            await self._kill(process)
            raise RuntimeError("the notice worker did not start")
        self._process = process
        return process

    async def _kill(self, process: asyncio.subprocess.Process) -> None:
        if self._process is process:
            self._process = None
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux); None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _user_error(error: Mapping[str, Any]) -> UserError:
    return UserError(str(error["code"]), **dict(error.get("context") or {}))


# --- the child ---


def _serve(memory_limit: int) -> None:
    import resource

    from bot.notice_templates import NoticeTemplate

    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            answer = _answer(NoticeTemplate, json.loads(line))
        except MemoryError:
            answer = {"error": {"code": "notice_template_too_big"}, "exit": True}
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
        out.flush()
        if answer.get("exit"):
            return


def _answer(template_class: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    try:
        template = template_class(request["text"])
    except UserError as error:
        return {"error": {"code": error.code, "context": error.context}}
    except RecursionError:  # 1,500 nested parentheses
        return {
            "error": {
                "code": "notice_template_syntax",
                "context": {"line": 1, "detail": "nested too deeply"},
            }
        }
    results: list[dict[str, Any]] = []
    for code, context in request["grids"]:
        try:
            results.append({"text": template.render(context, grid=code)})
        except UserError as error:
            results.append({"error": {"code": error.code, "context": error.context}})
    return {"results": results}


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
