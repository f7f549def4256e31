"""Who may run what. One rule per audience, used by commands, buttons, help and menus."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.models import PersonRoles, Role


class Audience(StrEnum):
    """Who may use a command or button, from everyone down to staff only."""

    EVERYONE = "everyone"
    GRID_STAFF = "grid_staff"  # heads and workers of the grid in question, and staff
    HEADS = "heads"  # heads of the grid in question, and staff
    # Anyone who handles tickets somewhere: heads/workers of any grid, duty staff, staff.
    # The ticket's own grid and level are checked by the loop rules, per ticket.
    HANDLERS = "handlers"
    STAFF = "staff"


def allowed(audience: Audience, roles: PersonRoles, grid_id: int | None) -> bool:
    """Whether a person with `roles` may act for `grid_id` (None: no grid, e.g. in private).

    In a private chat there is no grid, so grid-bound audiences accept anyone who serves
    at least one grid; the service then narrows to the grids they serve.
    """
    if audience is Audience.EVERYONE or roles.is_staff:
        return True
    if audience is Audience.STAFF:
        return False
    if audience is Audience.HANDLERS:
        return bool(roles.grid_roles) or bool(roles.duty_levels)
    wanted = {Role.HEAD} if audience is Audience.HEADS else {Role.HEAD, Role.WORKER}
    if grid_id is None:
        return any(role in wanted for _grid, role in roles.grid_roles)
    return bool(roles.roles_in(grid_id) & wanted)


def visible_audiences(roles: PersonRoles, grid_id: int | None) -> set[Audience]:
    """Every audience a person with `roles` belongs to here (for /help and the command menus)."""
    return {a for a in Audience if allowed(a, roles, grid_id)}
