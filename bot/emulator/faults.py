"""Injected faults and Telegram's flood control: how a call can fail before it takes effect."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from bot.emulator.params import loose_int
from bot.emulator.records import ApiError, chat_upgraded, forbidden, too_many_requests
from bot.emulator.state import WorldState

FaultKind = Literal["429", "403_kicked", "403_blocked", "migrated", "5xx", "slow", "network"]
FAULT_KINDS: Final = frozenset(get_args(FaultKind))


@dataclass(slots=True)
class Fault:
    """An injected failure for the next ``remaining`` matching calls."""

    kind: FaultKind
    method: str | None
    remaining: int
    retry_after: int = 1
    migrate_to_chat_id: int | None = None
    delay: float = 0.0
    chat_id: int | None = None

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether a call is hit; ``method=None`` hits any method except getUpdates."""
        if self.method is None:
            if method == "getUpdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or loose_int(params.get("chat_id")) == self.chat_id


class FaultsAndLimits(WorldState):
    """Failures a test asks for, and 429s when the bot sends faster than Telegram allows."""

    def reset(self) -> None:
        """Forget injected faults and flood limits, then everything else."""
        self.faults: list[Fault] = []
        self.rejected_429 = 0
        self._limits: tuple[float | None, int | None] | None = None
        self._overall_window: deque[float] = deque()
        self._group_windows: dict[int, deque[float]] = {}
        super().reset()

    def inject_fault(
        self,
        method: str | None = None,
        *,
        kind: FaultKind,
        count: int = 1,
        retry_after: int = 1,
        migrate_to_chat_id: int | None = None,
        delay: float = 0.0,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail (or answer slowly).

        Kinds: ``429`` (flood control, ``retry_after``), ``403_kicked``, ``403_blocked``,
        ``migrated`` (400 with ``migrate_to_chat_id``; defaults to the chat's real upgrade or
        ``-100<id>``), ``5xx`` (500), ``slow`` (the call takes effect, the answer comes after
        ``delay`` s), ``network`` (the connection is closed without an answer; the call takes
        no effect). ``method=None`` matches every method except getUpdates; ``chat_id``
        narrows to calls for one chat.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self.faults.append(
            Fault(kind, method, count, retry_after, migrate_to_chat_id, delay, chat_id)
        )

    def clear_faults(self) -> None:
        """Drop every injected fault not yet used up."""
        self.faults.clear()

    def enforce_limits(
        self, overall_per_second: float | None = 30, per_group_per_minute: int | None = 20
    ) -> None:
        """Answer 429 like Telegram's flood control when the bot sends faster than this.

        Counted are the message-sending methods (``send*`` except sendChatAction); the
        group limit applies per group chat (negative ids) over a sliding minute.
        """
        self._limits = (overall_per_second, per_group_per_minute)
        self._overall_window.clear()
        self._group_windows.clear()

    def disable_limits(self) -> None:
        """Stop enforcing flood limits."""
        self._limits = None

    def _take_fault(self, method: str, params: Mapping[str, Any]) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, params):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _fault_error(self, fault: Fault, params: Mapping[str, Any]) -> ApiError:
        if fault.kind == "429":
            return too_many_requests(fault.retry_after)
        if fault.kind == "403_kicked":
            chat_id = loose_int(params.get("chat_id"))
            chat = self.chats.get(chat_id) if chat_id is not None else None
            return forbidden(f"bot was kicked from the {chat.kind_name if chat else 'group chat'}")
        if fault.kind == "403_blocked":
            return forbidden("bot was blocked by the user")
        if fault.kind == "migrated":
            target = fault.migrate_to_chat_id
            if target is None:
                chat_id = loose_int(params.get("chat_id")) or 1_000_000_000
                chat = self.chats.get(chat_id)
                target = (
                    chat.migrated_to if chat and chat.migrated_to else int(f"-100{abs(chat_id)}")
                )
            return chat_upgraded(target)
        return ApiError(500, "Internal Server Error")

    def _check_limits(self, method: str, params: Mapping[str, Any]) -> None:
        if self._limits is None or not method.startswith("send") or method == "sendChatAction":
            return
        overall, per_group = self._limits
        now = self._clock()
        if overall is not None:
            window = self._overall_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= overall:
                self.rejected_429 += 1
                raise too_many_requests(math.ceil(window[0] + 1.0 - now))
        chat_id = loose_int(params.get("chat_id"))
        group_window = None
        if per_group is not None and chat_id is not None and chat_id < 0:
            group_window = self._group_windows.setdefault(chat_id, deque())
            while group_window and group_window[0] <= now - 60.0:
                group_window.popleft()
            if len(group_window) >= per_group:
                self.rejected_429 += 1
                raise too_many_requests(math.ceil(group_window[0] + 60.0 - now))
        if overall is not None:
            self._overall_window.append(now)
        if group_window is not None:
            group_window.append(now)
