"""Use cases for grids: bind a chat, move or rename a grid, assign heads and workers."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain.clock import Clock
from bot.domain.errors import UserError
from bot.domain.models import Grid, GridOverview, Person, PersonRoles, Role
from bot.services.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

GRID_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
MAX_GRID_NAME = 64
MAX_TAGS = 20
MOVE_CONFIRMATION_TTL = timedelta(minutes=30)


class BindResult(StrEnum):
    """What /bind did to a chat's grid."""

    CREATED = "created"
    RENAMED = "renamed"  # same chat, new code and/or name
    REATTACHED = "reattached"  # an unbound grid bound again
    MOVED = "moved"  # a grid moved here from another chat (after confirmation)
    UNCHANGED = "unchanged"
    NEEDS_CONFIRMATION = "needs_confirmation"


@dataclass(frozen=True, slots=True)
class BindOutcome:
    """The result of /bind, with the grid before and after and, when a move needs confirming, the
    pending question.
    """

    result: BindResult
    grid: Grid
    previous: Grid | None = None  # the grid as it was before (renames, moves)
    pending_id: int | None = None  # for NEEDS_CONFIRMATION


@dataclass(frozen=True, slots=True)
class RoleOutcome:
    """A role given or taken away in a grid, and the role the person had before."""

    grid: Grid
    person: Person
    role: Role | None  # the role now (None: removed)
    previous: Role | None


@dataclass(frozen=True, slots=True)
class ChatRef:
    """The chat a command came from, as /bind needs it."""

    chat_id: int
    title: str | None
    type: str


def validate_code(code: str) -> str:
    """The grid code if it is well formed; a polite UserError otherwise."""
    if not GRID_CODE.match(code):
        raise UserError("bad_grid_code", code=code[:40])
    return code


def validate_name(name: str) -> str:
    """The grid name with its whitespace folded, if not empty nor too long; a polite UserError
    otherwise.
    """
    name = " ".join(name.split())
    if not name or len(name) > MAX_GRID_NAME:
        raise UserError("bad_grid_name", max=MAX_GRID_NAME)
    return name


DUTY_LEVELS = ("community", "street", "district")


@dataclass(frozen=True, slots=True)
class DutyChat:
    """A level's duty chat and where it comes from: `config` ([escalation]) or `set` (/setduty)."""

    level: str
    chat_id: int
    source: str


@dataclass(frozen=True, slots=True)
class DutyChatOutcome:
    """A level's duty chat after /setduty, the chat it replaced and whether the config still
    overrides it.
    """

    duty: DutyChat
    previous_chat_id: int | None  # the chat that was this level's duty chat before, if another
    overridden_by: int | None  # the config's chat id, which still wins over this one


class GridService:
    """Grids, their chats, members and roles, duty chats and who is staff; every change is
    audited.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        staff_ids: frozenset[int],
        configured_duty_chats: Mapping[str, int] | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._staff_ids = staff_ids
        self._configured_duty_chats = {
            level: chat for level, chat in (configured_duty_chats or {}).items() if chat
        }

    # --- duty chats ---

    async def duty_chats(self) -> dict[str, DutyChat]:
        """Each level's duty chat: the config's [escalation] key when set, else /setduty's."""
        async with self._uow() as uow:
            chats = {
                level: DutyChat(level, chat, "set")
                for level, chat in (await uow.duty_chats.all()).items()
            }
        chats.update(
            {
                level: DutyChat(level, chat, "config")
                for level, chat in self._configured_duty_chats.items()
            }
        )
        return chats

    async def duty_chat(self, level: str) -> int | None:
        """The chat that gets a level's escalations (config first, then /setduty), or None."""
        duty = (await self.duty_chats()).get(level)
        return duty.chat_id if duty else None

    async def duty_level_of(self, chat_id: int) -> str | None:
        """Which level's duty chat this chat is, if any (the lowest level when several)."""
        chats = await self.duty_chats()
        return next(
            (level for level in DUTY_LEVELS if level in chats and chats[level].chat_id == chat_id),
            None,
        )

    async def set_duty_chat(self, actor_id: int, level: str, chat: ChatRef) -> DutyChatOutcome:
        """/setduty LEVEL in a group: it becomes that level's duty chat (staff only)."""
        async with self._uow() as uow:
            if level not in DUTY_LEVELS:
                raise UserError("setduty_usage")
            if await uow.grids.by_chat(chat.chat_id) is not None:
                raise UserError("setduty_grid_chat")
            before = (await self.duty_chats()).get(level)
            now = self._clock.now()
            await uow.chats.upsert(
                chat_id=chat.chat_id, type_=chat.type, title=chat.title, bot_member=True, now=now
            )
            await uow.duty_chats.set(level, chat.chat_id, actor_id, now)
            await uow.audit.record(
                at=now,
                actor_id=actor_id,
                action="duty_chat.set",
                grid_id=None,
                chat_id=chat.chat_id,
                level=level,
            )
            previous = before.chat_id if before and before.chat_id != chat.chat_id else None
            return DutyChatOutcome(
                DutyChat(level, chat.chat_id, "set"),
                previous,
                self._configured_duty_chats.get(level),
            )

    def is_staff(self, telegram_id: int) -> bool:
        """Whether the person is staff (listed in the config's staff ids)."""
        return telegram_id in self._staff_ids

    async def roles_of(self, telegram_id: int) -> PersonRoles:
        """Everything that decides what a person may do: staff or not, grid roles, duty levels."""
        async with self._uow() as uow:
            return PersonRoles(
                person=await uow.people.get(telegram_id),
                is_staff=self.is_staff(telegram_id),
                grid_roles=tuple(await uow.grids.roles_of(telegram_id)),
                duty_levels=tuple(await uow.grids.duty_levels_of(telegram_id)),
            )

    async def grid_for_chat(self, chat_id: int) -> Grid | None:
        """The grid bound to a chat, or None (a chat that is not a grid's)."""
        async with self._uow() as uow:
            return await uow.grids.by_chat(chat_id)

    async def overview(self) -> list[GridOverview]:
        """Every grid with its heads and workers (/grids)."""
        async with self._uow() as uow:
            return await uow.grids.overview()

    async def bind(self, actor_id: int, chat: ChatRef, code: str, name: str | None) -> BindOutcome:
        """Make this chat grid `code`; see BindResult for what can happen."""
        async with self._uow() as uow:
            code = validate_code(code)
            now = self._clock.now()
            here = await uow.grids.by_chat(chat.chat_id)
            existing = await uow.grids.by_code(code)
            if name is not None:
                name = validate_name(name)

            if here is not None and (existing is None or existing.id == here.id):
                new_name = name or here.name
                if here.code == code and here.name == new_name and here.chat_title == chat.title:
                    return BindOutcome(BindResult.UNCHANGED, here)
                await uow.grids.update_binding(
                    here.id,
                    code=code,
                    name=new_name,
                    chat_id=chat.chat_id,
                    chat_title=chat.title,
                    active=True,
                    now=now,
                )
                await uow.audit.record(
                    at=now,
                    actor_id=actor_id,
                    action="grid.renamed",
                    grid_id=here.id,
                    old_code=here.code,
                    code=code,
                    old_name=here.name,
                    name=new_name,
                )
                return BindOutcome(BindResult.RENAMED, await _must_get(uow, here.id), previous=here)

            if here is not None and existing is not None:
                # This chat is already another grid; taking over `code` would orphan one of them.
                raise UserError("chat_already_other_grid", here=here.code, code=existing.code)

            if existing is None:
                if name is None:
                    raise UserError("bind_needs_name", code=code)
                grid_id = await uow.grids.create(
                    code=code,
                    name=name,
                    chat_id=chat.chat_id,
                    chat_title=chat.title,
                    now=now,
                )
                await uow.audit.record(
                    at=now,
                    actor_id=actor_id,
                    action="grid.bound",
                    grid_id=grid_id,
                    chat_id=chat.chat_id,
                    code=code,
                    name=name,
                )
                return BindOutcome(BindResult.CREATED, await _must_get(uow, grid_id))

            if existing.chat_id is None:
                await uow.grids.update_binding(
                    existing.id,
                    code=existing.code,
                    name=name or existing.name,
                    chat_id=chat.chat_id,
                    chat_title=chat.title,
                    active=True,
                    now=now,
                )
                await uow.audit.record(
                    at=now,
                    actor_id=actor_id,
                    action="grid.reattached",
                    grid_id=existing.id,
                    chat_id=chat.chat_id,
                )
                return BindOutcome(
                    BindResult.REATTACHED, await _must_get(uow, existing.id), previous=existing
                )

            pending_id = await uow.pending.create(
                kind="grid.move",
                chat_id=chat.chat_id,
                actor_id=actor_id,
                payload={"grid_id": existing.id, "name": name, "from_chat_id": existing.chat_id},
                now=now,
                expires_at=now + MOVE_CONFIRMATION_TTL,
            )
            return BindOutcome(BindResult.NEEDS_CONFIRMATION, existing, pending_id=pending_id)

    async def confirm_move(self, actor_id: int, pending_id: int, chat: ChatRef) -> BindOutcome:
        """Carry out a confirmed move of a grid to this chat (once, by staff, before expiry)."""
        async with self._uow() as uow:
            now = self._clock.now()
            action = await uow.pending.take(pending_id, now)
            if action is None or action.kind != "grid.move" or action.chat_id != chat.chat_id:
                raise UserError("confirmation_gone")
            if action.expires_at < now:
                raise UserError("confirmation_expired")
            grid_id = int(action.payload["grid_id"])
            before = await uow.grids.by_id(grid_id)
            if before is None or before.chat_id != action.payload["from_chat_id"]:
                raise UserError("confirmation_gone")
            if await uow.grids.by_chat(chat.chat_id) is not None:
                raise UserError("chat_already_other_grid", here="?", code=before.code)
            await uow.grids.update_binding(
                grid_id,
                code=before.code,
                name=action.payload.get("name") or before.name,
                chat_id=chat.chat_id,
                chat_title=chat.title,
                active=True,
                now=now,
            )
            await uow.audit.record(
                at=now,
                actor_id=actor_id,
                action="grid.moved",
                grid_id=grid_id,
                from_chat_id=before.chat_id,
                chat_id=chat.chat_id,
            )
            return BindOutcome(BindResult.MOVED, await _must_get(uow, grid_id), previous=before)

    async def cancel_move(self, pending_id: int, chat_id: int) -> None:
        """Drop a pending move asked in this chat (a second press, or another chat's, finds
        nothing and changes nothing).
        """
        async with self._uow() as uow:
            action = await uow.pending.take(pending_id, self._clock.now())
            if action is None or action.kind != "grid.move" or action.chat_id != chat_id:
                raise UserError("confirmation_gone")  # rolls the take back

    async def unbind(self, actor_id: int, chat_id: int) -> Grid:
        """Unbind and deactivate the grid of a chat (/unbind), audited; its tickets and members
        stay.
        """
        async with self._uow() as uow:
            grid = await uow.grids.by_chat(chat_id)
            if grid is None:
                raise UserError("not_a_grid_chat")
            now = self._clock.now()
            await uow.grids.update_binding(
                grid.id,
                code=grid.code,
                name=grid.name,
                chat_id=None,
                chat_title=grid.chat_title,
                active=False,
                now=now,
            )
            await uow.audit.record(
                at=now,
                actor_id=actor_id,
                action="grid.unbound",
                grid_id=grid.id,
                chat_id=chat_id,
            )
            return grid

    async def set_tags(self, actor_id: int, code: str, tags: list[str]) -> Grid:
        """Replace a grid's tags (cleaned, at most MAX_TAGS, each short) that notices target it by,
        audited.
        """
        async with self._uow() as uow:
            grid = await uow.grids.by_code(validate_code(code))
            if grid is None:
                raise UserError("unknown_grid", code=code)
            cleaned = sorted({t.strip().lstrip("#") for t in tags if t.strip().lstrip("#")})
            if len(cleaned) > MAX_TAGS or any(len(t) > 32 for t in cleaned):
                raise UserError("bad_tags", max=MAX_TAGS)
            now = self._clock.now()
            await uow.grids.set_tags(grid.id, cleaned)
            await uow.audit.record(
                at=now, actor_id=actor_id, action="grid.tagged", grid_id=grid.id, tags=cleaned
            )
            return await _must_get(uow, grid.id)

    async def assign_role(
        self, actor_id: int, chat_id: int, person: Person, role: Role
    ) -> RoleOutcome:
        """Make the person a head or worker of the chat's grid, in one audited unit of work."""
        async with self._uow() as uow:
            grid = await _grid_of_chat(uow, chat_id)
            now = self._clock.now()
            previous = await uow.grids.set_role(
                grid.id, person.telegram_id, role, by=actor_id, now=now
            )
            await uow.audit.record(
                at=now,
                actor_id=actor_id,
                action=f"role.{role.value}",
                grid_id=grid.id,
                person=person.telegram_id,
                previous=previous.value if previous else None,
            )
            return RoleOutcome(grid, person, role, previous)

    async def remove_role(self, actor_id: int, chat_id: int, person: Person) -> RoleOutcome:
        """Take the person's role in the chat's grid away; a polite refusal when they had none."""
        async with self._uow() as uow:
            grid = await _grid_of_chat(uow, chat_id)
            now = self._clock.now()
            previous = await uow.grids.remove_role(grid.id, person.telegram_id)
            if previous is None:
                raise UserError("has_no_role", name=person.display_name, grid=grid.code)
            await uow.audit.record(
                at=now,
                actor_id=actor_id,
                action="role.removed",
                grid_id=grid.id,
                person=person.telegram_id,
                previous=previous.value,
            )
            return RoleOutcome(grid, person, None, previous)

    async def bot_membership_changed(self, chat: ChatRef, is_member: bool) -> Grid | None:
        """The bot was added to or removed from a chat: the grid follows (inactive/active)."""
        async with self._uow() as uow:
            now = self._clock.now()
            await uow.chats.upsert(
                chat_id=chat.chat_id,
                type_=chat.type,
                title=chat.title,
                bot_member=is_member,
                now=now,
            )
            changed = await uow.grids.set_active_by_chat(chat.chat_id, is_member, now)
            if changed:
                grid = await uow.grids.by_chat(chat.chat_id)
                await uow.audit.record(
                    at=now,
                    actor_id=None,
                    action="grid.activated" if is_member else "grid.deactivated",
                    grid_id=grid.id if grid else None,
                    chat_id=chat.chat_id,
                )
            return await uow.grids.by_chat(chat.chat_id)

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> Grid | None:
        """A group became a supergroup: everything keyed by the old id moves, atomically.

        Idempotent: Telegram announces it in both chats and a send can also report it.
        """
        async with self._uow() as uow:
            now = self._clock.now()
            grid = await uow.grids.by_chat(old_chat_id)
            await uow.chats.move_chat_id(old_chat_id, new_chat_id)
            if grid is not None:
                await uow.audit.record(
                    at=now,
                    actor_id=None,
                    action="grid.migrated",
                    grid_id=grid.id,
                    from_chat_id=old_chat_id,
                    chat_id=new_chat_id,
                )
            return await uow.grids.by_chat(new_chat_id)

    async def grid(self, grid_id: int) -> Grid | None:
        """The grid with this id, or None."""
        async with self._uow() as uow:
            return await uow.grids.by_id(grid_id)

    async def grid_by_code(self, code: str) -> Grid | None:
        """The grid with this code, or None."""
        async with self._uow() as uow:
            return await uow.grids.by_code(code)

    async def all_grids(self) -> list[Grid]:
        """Every grid, by code."""
        async with self._uow() as uow:
            return await uow.grids.all()


async def _grid_of_chat(uow: UnitOfWork, chat_id: int) -> Grid:
    grid = await uow.grids.by_chat(chat_id)
    if grid is None:
        raise UserError("not_a_grid_chat")
    return grid


async def _must_get(uow: UnitOfWork, grid_id: int) -> Grid:
    grid = await uow.grids.by_id(grid_id)
    assert grid is not None, f"grid {grid_id} vanished inside its own use case"
    return grid
