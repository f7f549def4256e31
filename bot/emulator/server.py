"""HTTP in front of the emulated world: the Bot API, file downloads, and the control side.

:class:`BotApiEmulator` is a :class:`~bot.emulator.world.World` that also listens on
127.0.0.1 (tornado, in the running asyncio loop) and can be awaited on: long-polling
``getUpdates``, :meth:`~BotApiEmulator.wait_until_delivered`,
:meth:`~BotApiEmulator.wait_for_bot_message`. Routes:

* ``/bot<token>/<method>`` — the Bot API, GET or POST, form-encoded, multipart or JSON;
* ``/file/bot<token>/<file_path>`` — file downloads (``base_file_url``);
* ``/control/<action>`` — the world's own methods as JSON, for a bot in another process
  (listed in :mod:`bot.emulator`).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.emulator.records import JSONDict, Reply, UploadedFile
from bot.emulator.world import World

_LOGGER = logging.getLogger(__name__)

# Parameters that are plain strings on the wire even when they look like JSON or numbers.
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "data",
        "callback_query_id",
        "title",
        "description",
        "short_description",
        "language_code",
        "url",
        "secret_token",
        "ip_address",
        "file_id",
        "action",
        "emoji",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "sticker",
        "animation",
        "thumbnail",
        "name",
        "query",
        "payload",
        "first_name",
        "last_name",
        "address",
        "question",
    }
)


def decode_params(raw: Mapping[str, str]) -> JSONDict:
    """Turn form fields back into values: JSON-encoded objects, ints, bools.

    PTB sends every non-string value as its JSON text (``"123"``, ``"true"``,
    ``'{"inline_keyboard": ...}'``); known text parameters stay strings.
    """
    params: JSONDict = {}
    for name, value in raw.items():
        if name in _STRING_PARAMS:
            params[name] = value
            continue
        try:
            decoded = json.loads(value)
        except ValueError:
            params[name] = value
            continue
        params[name] = value if decoded is None or isinstance(decoded, str) else decoded
    return params


class _Waiters:
    """Futures woken on every change in the world, for predicate-based waits."""

    def __init__(self) -> None:
        self._futures: set[asyncio.Future[None]] = set()

    def wake(self) -> None:
        for future in self._futures:
            if not future.done():
                future.set_result(None)
        self._futures.clear()

    # A test emulator's awaitable: the timeout is the callers' to state (ASYNC109 by design).
    async def until(self, predicate: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds; False if ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            future: asyncio.Future[None] = loop.create_future()
            self._futures.add(future)
            try:
                await asyncio.wait_for(future, remaining)
            except TimeoutError:
                return predicate()
            finally:
                self._futures.discard(future)
        return True


class BotApiEmulator(World):
    """A local Telegram Bot API server for the real PTB ``Application``.

    Use it as an async context manager or call :meth:`start` / :meth:`stop`, then point
    PTB at :attr:`base_url` and :attr:`base_file_url`. Everything :class:`World` offers
    (people, chats, posting, faults, observation) is available directly on this object.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Take the same arguments as :class:`World`."""
        self._waiters = _Waiters()
        self._server: tornado.httpserver.HTTPServer | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._stopping = False
        super().__init__(*args, **kwargs)

    def _changed(self) -> None:
        self._waiters.wake()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0 picks a free one) in the running loop."""
        if self._server is not None:
            raise RuntimeError("the emulator is running already")
        routes: list[Any] = [
            (r"/bot([^/]*)/([^/]*)", _ApiHandler, {"emulator": self}),
            (r"/file/bot([^/]*)/(.+)", _FileHandler, {"emulator": self}),
            (r"/control/([a-z_]+)", _ControlHandler, {"emulator": self}),
        ]
        app = tornado.web.Application(routes, log_function=_log_request)
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=64 * 1024 * 1024)
        sockets = tornado.netutil.bind_sockets(port, address=host)
        self._server.add_sockets(sockets)
        self._host = host
        self._port = sockets[0].getsockname()[1]
        self._stopping = False
        _LOGGER.info("Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Answer held long polls, close every connection, stop listening."""
        if self._server is None:
            return
        self._stopping = True
        self._waiters.wake()
        server, self._server = self._server, None
        server.stop()
        await asyncio.sleep(0)  # let held requests answer before their connections go
        try:
            await asyncio.wait_for(server.close_all_connections(), 5.0)
        except TimeoutError:
            _LOGGER.warning("some emulator connections did not close in time")

    async def __aenter__(self) -> BotApiEmulator:
        """Start on a free port of 127.0.0.1."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop (see :meth:`stop`)."""
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (known after :meth:`start`)."""
        return self._port

    @property
    def root_url(self) -> str:
        """``http://host:port``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` must be (PTB appends the token)."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        """What PTB's ``base_file_url`` must be (PTB appends the token)."""
        return f"{self.root_url}/file/bot"

    @property
    def control_url(self) -> str:
        """Root of the HTTP control side."""
        return f"{self.root_url}/control"

    # -- waiting ------------------------------------------------------------------------

    # Test emulator's awaitables take a timeout by design (callers state how long to wait).
    async def wait_until_delivered(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once the bot has taken every queued update and confirmed it.

        An update counts as confirmed when a later getUpdates carries an offset past it;
        PTB's updater only asks again after putting the previous batch into
        ``application.update_queue``, so after this ``await update_queue.join()`` tells
        when handling finished. Raises ``TimeoutError`` naming what is still pending.
        """
        if not await self._waiters.until(lambda: self.pending_update_count == 0, timeout):
            pending = [next(k for k in u if k != "update_id") for u in self.pending_updates()]
            raise TimeoutError(
                f"{len(pending)} update(s) not confirmed by the bot after {timeout} s: "
                f"{pending[:10]}"
            )

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[JSONDict], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - emulator awaitable, timeout by design
        *,
        since: int | None = None,
    ) -> JSONDict:
        """The first bot message in ``chat_id`` after ``since`` that satisfies ``predicate``.

        ``since`` is a :meth:`mark`; by default the mark taken when the latest update was
        queued, so "post, then wait for the reply" finds a reply that already came.
        Raises ``TimeoutError`` listing what the bot did send.
        """
        start = self._mark_at_last_update if since is None else since
        found: list[JSONDict] = []

        def arrived() -> bool:
            for message in self.bot_messages_since(start):
                if message["chat"]["id"] == chat_id and (predicate is None or predicate(message)):
                    found.append(message)
                    return True
            return False

        if not await self._waiters.until(arrived, timeout):
            sent = [
                (m["chat"]["id"], m.get("text", m.get("caption")))
                for m in self.bot_messages_since(start)
            ]
            raise TimeoutError(
                f"no matching bot message in chat {chat_id} after {timeout} s; the bot sent: {sent}"
            )
        return found[0]

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Any], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - emulator awaitable, timeout by design
        *,
        since: int = 0,
    ) -> Any:
        """The first recorded call of ``method`` with ``seq >= since`` matching ``predicate``."""
        wanted = method.lower()
        found: list[Any] = []
        scanned = since  # calls are append-only: look at each one once

        def made() -> bool:
            nonlocal scanned
            calls = self.calls
            while scanned < len(calls):
                call = calls[scanned]
                scanned += 1
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    found.append(call)
                    return True
            return False

        if not await self._waiters.until(made, timeout):
            raise TimeoutError(f"the bot did not call {method} within {timeout} s")
        return found[0]

    async def _hold_poll(self, reply: Reply, gone: Callable[[], bool]) -> None:
        """Keep a getUpdates open until updates arrive, it times out or is superseded."""
        generation = reply.poll_generation

        def ready() -> bool:
            return (
                self.pending_update_count > 0
                or self.poll_generation != generation
                or self._stopping
                or gone()
            )

        await self._waiters.until(ready, reply.poll_timeout)
        if self.poll_generation != generation and not gone():
            # A client that cancels a poll and polls again (PTB does on stop) is not a
            # second bot instance: give its closed connection a moment to be noticed.
            await asyncio.sleep(0.05)
        self.finish_poll(reply, terminated=self.poll_generation != generation, abandoned=gone())


def _log_request(handler: tornado.web.RequestHandler) -> None:
    # per-request access logs would drown a benchmark; keep them at DEBUG
    if _LOGGER.isEnabledFor(logging.DEBUG):
        request = handler.request
        _LOGGER.debug(
            "%s %s -> %s (%.1f ms)",
            request.method,
            request.path,
            handler.get_status(),
            1000 * request.request_time(),
        )


def _json_response(handler: tornado.web.RequestHandler, status: int, body: Any) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json")
    handler.finish(json.dumps(body, ensure_ascii=False).encode())


class _ApiHandler(tornado.web.RequestHandler):
    """``/bot<token>/<method>``."""

    def initialize(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.gone = False

    def on_connection_close(self) -> None:
        self.gone = True
        self.emulator._waiters.wake()

    async def get(self, token: str, method: str) -> None:
        await self._handle(token, method)

    async def post(self, token: str, method: str) -> None:
        await self._handle(token, method)

    def _read_params(self) -> tuple[JSONDict, dict[str, UploadedFile]]:
        request = self.request
        raw = {k: v[-1].decode() for k, v in request.query_arguments.items()}
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith("application/json") and request.body:
            body = json.loads(request.body)
            if not isinstance(body, dict):
                raise ValueError("the JSON body must be an object")
            params = decode_params(raw)
            params.update(body)
        else:
            raw.update({k: v[-1].decode() for k, v in request.body_arguments.items()})
            params = decode_params(raw)
        files = {
            part: UploadedFile(f.filename, f.body, f.content_type or "application/octet-stream")
            for part, uploads in request.files.items()
            for f in uploads[-1:]
        }
        return params, files

    async def _handle(self, token: str, method: str) -> None:
        emulator = self.emulator
        if not emulator.check_token(token):
            _json_response(
                self, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
            return
        try:
            params, files = self._read_params()
        except (ValueError, UnicodeDecodeError) as exc:
            _json_response(
                self,
                400,
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"},
            )
            return
        reply = emulator.call(method, params, files)
        if reply.status == 404:
            _LOGGER.warning("the emulator does not implement %s; answered 404", method)
        if reply.drop_connection:
            self.detach().close()
            return
        if reply.poll_timeout > 0:
            await emulator._hold_poll(reply, lambda: self.gone)
        if reply.delay > 0:
            await asyncio.sleep(reply.delay)
        if self.gone:
            return
        _json_response(self, reply.status, reply.payload)


class _FileHandler(tornado.web.RequestHandler):
    """``/file/bot<token>/<file_path>``: what ``File.download_*`` fetches."""

    def initialize(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    def get(self, token: str, file_path: str) -> None:
        stored = self.emulator.files_by_path.get(file_path)
        if not self.emulator.check_token(token) or stored is None:
            _json_response(self, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.set_header("Content-Type", stored.mime_type)
        self.finish(stored.content)


def _post_messages(emulator: BotApiEmulator, messages: list[JSONDict]) -> JSONDict:
    for message in messages:
        emulator.post_message(**_post_kwargs(message))
    return {"count": len(messages), "last_update_id": emulator.last_update_id}


def _post_kwargs(body: JSONDict) -> JSONDict:
    kwargs = dict(body)
    if isinstance(kwargs.get("location"), list):
        kwargs["location"] = tuple(kwargs["location"])
    if isinstance(kwargs.get("photo"), str):
        kwargs["photo"] = base64.b64decode(kwargs["photo"])
    document = kwargs.get("document")
    if isinstance(document, dict):
        kwargs["document"] = (document["name"], base64.b64decode(document.get("content", "")))
    kwargs["text_mentions"] = [tuple(pair) for pair in kwargs.get("text_mentions", [])]
    return kwargs


class _ControlHandler(tornado.web.RequestHandler):
    """``/control/<action>``: the world's methods as JSON for out-of-process use."""

    def initialize(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    async def get(self, action: str) -> None:
        await self._dispatch(
            action, {k: self.get_query_argument(k) for k in self.request.query_arguments}
        )

    async def post(self, action: str) -> None:
        try:
            body = json.loads(self.request.body) if self.request.body else {}
        except ValueError as exc:
            _json_response(self, 400, {"ok": False, "error": f"invalid JSON body: {exc}"})
            return
        if not isinstance(body, dict):
            _json_response(self, 400, {"ok": False, "error": "the JSON body must be an object"})
            return
        await self._dispatch(action, body)

    async def _dispatch(self, action: str, args: JSONDict) -> None:
        handler = CONTROL_ACTIONS.get(action)
        if handler is None:
            _json_response(
                self,
                404,
                {
                    "ok": False,
                    "error": f"unknown control action {action!r}",
                    "actions": sorted(CONTROL_ACTIONS),
                },
            )
            return
        try:
            result = handler(self.emulator, args)
            if asyncio.iscoroutine(result):
                result = await result
        except TimeoutError as exc:
            _json_response(self, 408, {"ok": False, "error": str(exc)})
            return
        except (KeyError, ValueError, TypeError) as exc:
            _json_response(self, 400, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
            return
        _json_response(self, 200, {"ok": True, "result": result})


def _int_arg(args: JSONDict, name: str, default: int | None = None) -> int:
    value = args.get(name, default)
    if value is None:
        raise KeyError(f"missing {name}")
    return int(value)


def _stats(emulator: BotApiEmulator) -> JSONDict:
    return {
        "base_url": emulator.base_url,
        "calls": len(emulator.calls),
        "pending_updates": emulator.pending_update_count,
        "last_update_id": emulator.last_update_id,
        "bot_messages": emulator.mark(),
        "rejected_429": emulator.rejected_429,
        "faults": len(emulator.faults),
    }


def _calls(emulator: BotApiEmulator, args: JSONDict) -> JSONDict:
    since = _int_arg(args, "since", 0)
    method = args.get("method")
    calls = [
        call.to_json()
        for call in emulator.calls[since:]
        if method is None or call.method.lower() == str(method).lower()
    ]
    return {"calls": calls, "next": len(emulator.calls)}


def _bot_messages(emulator: BotApiEmulator, args: JSONDict) -> JSONDict:
    mark = emulator.mark()
    return {"messages": emulator.bot_messages_since(_int_arg(args, "since", 0)), "mark": mark}


def _limits(emulator: BotApiEmulator, args: JSONDict) -> JSONDict:
    if args.get("enabled", True) in (False, "false", "0"):
        emulator.disable_limits()
    else:
        emulator.enforce_limits(
            args.get("overall_per_second", 30), args.get("per_group_per_minute", 20)
        )
    return _stats(emulator)


async def _wait_for_bot_message(emulator: BotApiEmulator, args: JSONDict) -> JSONDict:
    contains = str(args.get("text_contains") or "")
    since = args.get("since")
    return await emulator.wait_for_bot_message(
        _int_arg(args, "chat_id"),
        lambda m: contains in (m.get("text") or m.get("caption") or ""),
        float(args.get("timeout", 5.0)),
        since=int(since) if since is not None else None,
    )


async def _wait_until_delivered(emulator: BotApiEmulator, args: JSONDict) -> JSONDict:
    await emulator.wait_until_delivered(float(args.get("timeout", 5.0)))
    return _stats(emulator)


ControlAction = Callable[[BotApiEmulator, JSONDict], Any]

CONTROL_ACTIONS: Final[dict[str, ControlAction]] = {
    # each is documented in the bot.emulator package docstring (a test checks)
    # observe
    "state": lambda e, a: _stats(e),
    "calls": _calls,
    "messages": lambda e, a: e.messages_in(_int_arg(a, "chat_id")),
    "bot_messages": _bot_messages,
    "updates": lambda e, a: e.pending_updates(),
    "callback_answer": lambda e, a: e.callback_answer(str(a["query_id"])),
    "commands": lambda e, a: e.commands_for(
        json.loads(a["scope"]) if isinstance(a.get("scope"), str) else a.get("scope"),
        a.get("language_code", ""),
    ),
    # set up the world
    "reset": lambda e, a: e.reset(),
    "add_user": lambda e, a: e.add_user(**a),
    "create_group": lambda e, a: e.create_group(**a),
    "add_member": lambda e, a: e.add_member(**a),
    "add_bot_to_group": lambda e, a: e.add_bot_to_group(**a),
    "remove_bot_from_group": lambda e, a: e.remove_bot_from_group(**a),
    "private_chat_started": lambda e, a: e.private_chat_started(**a),
    "press_start": lambda e, a: e.press_start(**a),
    "block_bot": lambda e, a: e.block_bot(**a),
    "unblock_bot": lambda e, a: e.unblock_bot(**a),
    "migrate_to_supergroup": lambda e, a: {"new_chat_id": e.migrate_to_supergroup(**a)},
    # act
    "post_message": lambda e, a: e.post_message(**_post_kwargs(a)),
    "post_messages": lambda e, a: _post_messages(e, a["messages"]),
    "edit_message": lambda e, a: e.edit_message(**a),
    "press_button": lambda e, a: {"query_id": e.press_button(**a)},
    # faults and limits
    "fault": lambda e, a: e.inject_fault(**a),
    "clear_faults": lambda e, a: e.clear_faults(),
    "limits": _limits,
    # wait
    "wait_until_delivered": _wait_until_delivered,
    "wait_for_bot_message": _wait_for_bot_message,
}
