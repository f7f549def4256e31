"""Errors that users cause. Each carries a code that names the template explaining it."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the user can fix; rendered as the template `errors/<code>` and changes nothing."""

    def __init__(self, code: str, /, **context: Any) -> None:
        super().__init__(code)
        self.code = code
        self.context = context

    def __repr__(self) -> str:
        return f"UserError({self.code!r}, {self.context!r})"
