"""Notice texts are jinja2 templates written by staff: compiled and rendered in a sandbox.

The environment is jinja2's `ImmutableSandboxedEnvironment` with autoescape on (the
output is Telegram HTML) and `StrictUndefined` (an unknown name is an error, not an empty
string). A template sees only the plain data of `bot.domain.notices.template_context`;
it has no globals, cannot call anything (functions, methods, macros), and has only the
filters listed in `ALLOWED_FILTERS` (none that pads, formats, replaces or marks text
safe). Repetition with `*` and powers with `**` are capped. Staff are trusted people
listed in the config: the sandbox keeps them from reaching Python objects and from
typos that would go out to every grid; it does not try to make a deliberately slow
template impossible (chained `~` concatenation can still build long strings).

The text arrives as Telegram HTML (PTB's `text_html`: the staff member's bold, links and
escaped `<`, `&`), so its literal parts are already valid HTML; only inside `{{ }}`,
`{% %}` and `{# #}` do we undo the escaping, so `{% if open_tickets > 0 %}` works.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.compiler import find_undeclared
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from bot.domain.errors import UserError

# The emulator's text module is Telegram's text rules (standard library only); checking
# with the same rules means what passes here is what Telegram accepts.
from bot.emulator.text import EntityParseError, parse_html

MAX_NOTICE_CHARS = 4096  # Telegram's limit for one text message
MAX_REPEAT = 1000  # longest string or list `*` may build
MAX_EXPONENT = 64
MAX_JOINED = 100_000  # longest string `join` may build
MAX_OUTPUT = 64 * 1024  # characters of HTML one rendering may produce (tags included)

ALLOWED_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int",
    "join", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
    "reverse", "round", "select", "selectattr", "sort", "string", "striptags",
    "sum", "title", "trim", "truncate", "unique", "upper", "wordcount",
})  # fmt: skip
# Jinja tests (`is defined`, `is even` …) are all harmless and stay.

# UndefinedError and SecurityError (the sandbox) are TemplateErrors; the rest come from
# the data: 1/0, 'a' + 1, int('x'), a loop over itself.
RENDER_ERRORS = (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, RecursionError)

_BLOCK_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


class _NoticeSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            # '%900000000s' % 'x' builds 900 MB in one C call; a notice needs no formatting.
            raise SecurityError("string formatting with % is not available")
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                repeated = isinstance(sequence, str | list | tuple) and isinstance(times, int)
                if repeated and len(sequence) * times > MAX_REPEAT:
                    raise SecurityError(f"repetition longer than {MAX_REPEAT}")
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent larger than {MAX_EXPONENT}")
        return super().call_binop(context, operator, left, right)

    # Reading a method without calling it would print "<built-in method … at 0x…>", and
    # an unsafe attribute would come back as an Undefined that prints inside a list:
    # both are refused outright.
    def getattr(self, obj: Any, attribute: str) -> Any:
        return _plain(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return _plain(super().getitem(obj, argument))

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe."
        )

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        # Methods of the data, str.format, loop.cycle, macros (recursion fans out): a
        # notice needs none of them.
        raise SecurityError("notices cannot call functions, methods or macros")


def _plain(value: Any) -> Any:
    if callable(value) and not isinstance(value, jinja2.Undefined):
        raise SecurityError("notices cannot call functions, methods or macros")
    return value


def _capped_join(join: Any) -> Any:
    @jinja2.pass_eval_context
    def capped(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        if isinstance(value, list | tuple):
            length = sum(len(v) if isinstance(v, str) else 20 for v in value)
            length += len(d) * max(len(value) - 1, 0)
            if length > MAX_JOINED:
                raise SecurityError(f"join would build more than {MAX_JOINED} characters")
        return join(eval_ctx, value, d, attribute)

    return capped


def _environment() -> jinja2.Environment:
    env = _NoticeSandbox(autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals.clear()
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.filters["join"] = _capped_join(env.filters["join"])
    return env


def template_source(text_html: str) -> str:
    """Undo Telegram's HTML escaping inside jinja2 blocks; literal text stays HTML."""
    return _BLOCK_RE.sub(lambda block: html.unescape(block[0]), text_html)


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]


class NoticeTemplate:
    """One notice text, compiled once; `render` for each grid.

    Raises `UserError("notice_template_syntax")` when it does not compile and
    `UserError("notice_template_error")` / `UserError("notice_too_long")` when rendering
    for a grid fails, each naming the line or the grid.
    """

    def __init__(self, text_html: str) -> None:
        self._env = _environment()
        try:
            tree = self._env.parse(template_source(text_html))
            if find_undeclared(tree.body, ("self",)):  # jinja2's reference to the template
                raise jinja2.TemplateSyntaxError("'self' is undefined", 1)
            self._template = self._env.from_string(tree)
        except jinja2.TemplateSyntaxError as error:
            raise UserError(
                "notice_template_syntax", line=error.lineno, detail=_first_line(error)
            ) from None

    def render(self, context: Mapping[str, Any], *, grid: str = "") -> str:
        """The text for one grid, exactly as Telegram will accept it, or a UserError."""
        try:
            text = self._generate(context).strip()
        except RENDER_ERRORS as error:
            raise UserError("notice_template_error", grid=grid, detail=_first_line(error)) from None
        try:
            words, _entities = parse_html(text)
        except EntityParseError as error:
            raise UserError("notice_template_html", grid=grid, detail=str(error)) from None
        if not words.strip():
            raise UserError("notice_template_error", grid=grid, detail="empty text")
        if len(words) > MAX_NOTICE_CHARS:
            raise UserError("notice_too_long", grid=grid, length=len(words), limit=MAX_NOTICE_CHARS)
        return text

    def _generate(self, context: Mapping[str, Any]) -> str:
        """Render piece by piece, stopping as soon as the output is longer than any notice."""
        parts: list[str] = []
        size = 0
        for part in self._template.generate(context):
            size += len(part)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the text grows past {MAX_OUTPUT} characters")
            parts.append(part)
        return "".join(parts)
