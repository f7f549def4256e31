"""Telegram's text rules: UTF-16 offsets, the entities clients attach, ``parse_mode`` HTML.

Standard library only. :func:`detect_entities` is what a client attaches to what people
type; :func:`parse_html` is what Telegram makes of the bot's ``parse_mode=HTML`` text, and
raises :class:`EntityParseError` in Telegram's words where Telegram would refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from bot.emulator.records import JSONDict


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _entity(kind: str, text: str, start: int, end: int, **extra: Any) -> JSONDict:
    return {
        "type": kind,
        "offset": utf16_length(text[:start]),
        "length": utf16_length(text[start:end]),
        **extra,
    }


_COMMAND_OR_MENTION: Final = re.compile(
    r"(?P<command>(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)(?![A-Za-z0-9_])"
    r"|(?P<mention>(?<![A-Za-z0-9_@])@[A-Za-z0-9_]{5,32})(?![A-Za-z0-9_])"
)


def detect_entities(
    text: str, text_mentions: Sequence[tuple[str, JSONDict]] = ()
) -> list[JSONDict]:
    """The entities a Telegram client would attach: bot commands, @mentions, text mentions.

    ``text_mentions`` pairs a piece of the text with the user it links to (a mention of
    someone without a username).
    """
    entities = [
        _entity("bot_command" if m.group("command") else "mention", text, m.start(), m.end())
        for m in _COMMAND_OR_MENTION.finditer(text)
    ]
    for needle, user in text_mentions:
        start = text.find(needle)
        if start < 0:
            raise ValueError(f"text mention {needle!r} is not in the text {text!r}")
        entities.append(_entity("text_mention", text, start, start + len(needle), user=user))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return entities


class EntityParseError(ValueError):
    """Malformed ``parse_mode`` text; the message is Telegram's wording."""


_HTML_ENTITY_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHARACTERS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_START_TAG: Final = re.compile(
    r"<([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9_-]*"
    r"(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTRIBUTE: Final = re.compile(
    r"([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_CHARACTER_REFERENCE: Final = re.compile(r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});")
_USER_LINK: Final = re.compile(r"tg://user\?id=(\d+)")


def _unescape(text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref.startswith("#x"):
            return chr(int(ref[2:], 16))
        if ref.startswith("#"):
            return chr(int(ref[1:]))
        return _NAMED_CHARACTERS.get(ref, m.group(0))

    return _CHARACTER_REFERENCE.sub(replace, text)


def parse_html(
    text: str, user_lookup: Callable[[int], JSONDict | None] = lambda _: None
) -> tuple[str, list[JSONDict]]:
    """Telegram's ``parse_mode=HTML``: the plain text and its entities.

    Raises :class:`EntityParseError` with Telegram's wording for unsupported or unbalanced
    tags and for a stray ``<``. ``tg://user?id=`` links become ``text_mention`` entities when
    ``user_lookup`` knows the user.
    """
    out: list[str] = []
    position = 0  # in UTF-16 code units of the output
    stack: list[tuple[str, int, JSONDict]] = []
    entities: list[JSONDict] = []
    i = 0
    while i < len(text):
        lt = text.find("<", i)
        chunk = _unescape(text[i:] if lt < 0 else text[i:lt])
        out.append(chunk)
        position += utf16_length(chunk)
        if lt < 0:
            break
        byte_offset = len(text[:lt].encode())
        if text.startswith("</", lt):
            gt = text.find(">", lt)
            if gt < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset}")
            name = text[lt + 2 : gt].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset}")
            tag, start, extra = stack.pop()
            if name != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            if position > start and extra.get("type"):
                entities.append({**extra, "offset": start, "length": position - start})
            i = gt + 1
            continue
        match = _START_TAG.match(text, lt)
        if match is None:
            if ">" not in text[lt:]:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset}")
            bad_tag = re.match(r"<([^\s>]*)", text[lt:])
            raise EntityParseError(
                f'Unsupported start tag "{bad_tag.group(1) if bad_tag else ""}" '
                f"at byte offset {byte_offset}"
            )
        tag = match.group(1).lower()
        if tag not in _HTML_ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset}')
        attributes = {
            a.group(1).lower(): _unescape(a.group(2) or a.group(3) or a.group(4) or "")
            for a in _ATTRIBUTE.finditer(match.group(2))
        }
        stack.append((tag, position, _html_entity(tag, attributes, stack, user_lookup)))
        i = match.end()
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_entity(
    tag: str,
    attributes: Mapping[str, str],
    stack: list[tuple[str, int, JSONDict]],
    user_lookup: Callable[[int], JSONDict | None],
) -> JSONDict:
    """The entity a start tag opens; ``{}`` for a tag that produces none."""
    kind = _HTML_ENTITY_TYPES[tag]
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError('Tag "span" must have class "tg-spoiler"')
    if tag == "tg-emoji":
        if "emoji-id" not in attributes:
            raise EntityParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        return {"type": kind, "custom_emoji_id": attributes["emoji-id"]}
    if tag == "a":
        href = attributes.get("href")
        if not href:
            return {}
        user_link = _USER_LINK.fullmatch(href)
        if user_link is not None:
            user = user_lookup(int(user_link.group(1)))
            return {"type": "text_mention", "user": user} if user else {}
        return {"type": kind, "url": href}
    if tag == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
        return {}
    if tag == "blockquote" and "expandable" in attributes:
        return {"type": "expandable_blockquote"}
    return {"type": kind}
