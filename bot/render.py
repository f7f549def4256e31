"""Every message the bot sends is a jinja2 template: templates/<locale>/<name>.html.

Write control lines as `%% for …` / `%% endif` (jinja line statements) so they leave no
blank line behind; inline `{% if %}…{% endif %}` works as usual within a line.

HTML parse mode, autoescaped, undefined variables are errors. An operator may point
`[bot] templates_dir` at a folder of their own; its templates win over the shipped ones.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from bot.domain.models import Person
from bot.domain.privacy import Audience, mask_personal, redact_context

log = logging.getLogger(__name__)

TEMPLATE_SUFFIX = ".html"


def shipped_templates_dir() -> Path:
    """templates/ in a source checkout or editable install; bot/templates in a wheel."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def template_environment(override_dir: str | Path | None) -> jinja2.Environment:
    """The one jinja2 set-up for the bot's messages and the console's pages: the operator's
    folder first, then the shipped templates; autoescaped, strict about undefined names.
    """
    search = [Path(override_dir)] if override_dir else []
    search.append(shipped_templates_dir())
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in search]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        # Templates do not change under a running bot; don't stat the file per message.
        auto_reload=False,
        # Block-only lines are written as `%% if …` line statements, which vanish whole;
        # inline `{% if %}` then keeps the line's own newline (trim_blocks would eat it).
        line_statement_prefix="%%",
        line_comment_prefix="%#",
        trim_blocks=False,
        lstrip_blocks=True,
    )


def mention(person: Person | None, fallback: str = "?") -> Markup:
    """A clickable mention that works without a username (tg://user links)."""
    if person is None:
        return Markup(escape(fallback))
    return Markup('<a href="tg://user?id={}">{}</a>').format(
        person.telegram_id, person.display_name
    )


def percent(value: float | None) -> str:
    """A ratio as a whole percentage; — when there is none."""
    return "—" if value is None else f"{100 * value:.0f}%"


def readable_seconds(seconds: float | None, locale: str) -> str:
    """Seconds as the locale's duration words; — when unknown, at least a minute."""
    if seconds is None:
        return "—"
    from bot.domain.schedule import format_duration

    # Below a minute format_duration has nothing to say; a claim that fast reads as "<1".
    return format_duration(timedelta(seconds=max(60.0, seconds)), locale)


_TAG = re.compile(r"<[^>]+>")
# Private-ticket placeholder, in each locale: what a public chat sees instead of the words.
PRIVATE_DETAILS = "private_details"
SMALL_TEXTS_KEPT = 4096


def mask_outside_tags(html_text: str) -> str:
    """Mask personal numbers in a rendered message's text, leaving tags (links) alone."""
    out, last = [], 0
    for tag in _TAG.finditer(html_text):
        out.append(mask_personal(html_text[last : tag.start()]))
        out.append(tag.group(0))
        last = tag.end()
    out.append(mask_personal(html_text[last:]))
    return "".join(out)


def plain(html_text: str) -> str:
    """A rendered message as plain text (for the command line and the demo transcript)."""
    return html.unescape(_TAG.sub("", html_text))


def shorten(text: str, limit: int = 200) -> str:
    """Trim quoted user text for replies; the full text stays in the database."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Renderer:
    """Renders the bot's messages from templates/<locale>/, with
    the filters and helpers they use.
    """

    def __init__(
        self,
        default_locale: str,
        override_dir: str | Path | None = None,
        locales: Sequence[str] = ("zh-CN", "en"),
        tz: ZoneInfo | None = None,
    ) -> None:
        self.default_locale = default_locale
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        self.locales = tuple(locales)
        self._env = template_environment(override_dir)
        self._env.filters["mention"] = mention
        self._env.filters["shorten"] = shorten
        # Kept for templates that mask explicitly; public audiences are masked whole anyway.
        self._env.filters["maskphones"] = mask_personal
        self._env.filters["pct"] = percent
        self._env.filters["duration"] = readable_seconds
        self._env.filters["localtime"] = self._localtime
        self._env.filters["epoch_localtime"] = lambda seconds, fmt="%m-%d %H:%M": self._localtime(
            datetime.fromtimestamp(seconds, ZoneInfo("UTC")), fmt
        )
        self._small: dict[tuple[str, str | None, tuple[tuple[str, Hashable], ...]], str] = {}

    def _localtime(self, moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
        """Stored UTC shown in the configured time zone."""
        return "" if moment is None else moment.astimezone(self.tz).strftime(fmt)

    def add_global(self, name: str, value: Callable[..., Any] | Any) -> None:
        """Helpers templates call, e.g. category_label(code, locale); wired in bot.app."""
        self._env.globals[name] = value

    def global_helper(self, name: str) -> Any:
        """A helper added with add_global (the staff console's pages use them too)."""
        return self._env.globals[name]

    def pick_locale(self, *preferences: str | None) -> str:
        """The first preference we have templates for; a Telegram language_code works too."""
        for preference in preferences:
            if not preference:
                continue
            for locale in self.locales:
                if preference == locale or preference.split("-")[0] == locale.split("-")[0]:
                    return locale
        return self.default_locale

    def render(self, name: str, locale: str | None = None, /, **context: Any) -> str:
        """The template `name` in `locale` (the default when None) rendered with `context`."""
        template = self._env.get_template(
            f"{locale or self.default_locale}/{name}{TEMPLATE_SUFFIX}"
        )
        # Longer than one message is the messenger's to split (bot.messenger.split_message).
        return template.render(**context).strip()

    def render_small(self, name: str, locale: str | None = None, /, **context: Hashable) -> str:
        """`render` for the small texts said again and again with the same few values (button
        labels, the placeholder for private details): rendered once per template, locale
        and values. Every acknowledgement carries five labels.
        """
        key = (name, locale, tuple(sorted(context.items())))
        text = self._small.get(key)
        if text is None:
            if len(self._small) >= SMALL_TEXTS_KEPT:
                self._small.clear()  # a bound, never reached by labels and a few counts
            text = self._small[key] = self.render(name, locale, **context)
        return text

    def render_for(
        self, audience: Audience, name: str, locale: str | None = None, /, **context: Any
    ) -> str:
        """Render for whoever will read it. Public chats (a grid group, a duty chat) never
        see a private ticket's words or flat, nor a whole phone, ID or bank-card number, in
        whatever template: this is the one place those rules are applied.
        """
        if not audience.is_public:
            return self.render(name, locale, **context)
        placeholder = self.render_small(PRIVATE_DETAILS, locale)
        context = {k: redact_context(v, placeholder) for k, v in context.items()}
        text = mask_outside_tags(self.render(name, locale, **context))
        log.debug("rendered %s for %s", name, audience.value)
        return text

    def exists(self, name: str, locale: str) -> bool:
        """Whether the template `name` exists in `locale` (the operator's folder included)."""
        try:
            self._env.get_template(f"{locale}/{name}{TEMPLATE_SUFFIX}")
        except jinja2.TemplateNotFound:
            return False
        return True


def template_names(locale: str, root: Path | None = None) -> set[str]:
    """Every template name shipped in `locale` (under `root`, the shipped templates by default)."""
    base = (root or shipped_templates_dir()) / locale
    return {
        str(p.relative_to(base))[: -len(TEMPLATE_SUFFIX)] for p in base.rglob(f"*{TEMPLATE_SUFFIX}")
    }
