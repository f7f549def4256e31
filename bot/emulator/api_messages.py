"""Bot API methods for the bot's messages: send, edit, delete, react, pin, answer buttons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bot.emulator.files import FileStore
from bot.emulator.params import bool_param, int_param, json_param, loose_int
from bot.emulator.records import (
    ApiError,
    ChatState,
    JSONDict,
    UploadedFile,
    bad_request,
    without_reply,
)
from bot.emulator.text import EntityParseError, parse_html

MAX_MESSAGE_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

# The emoji a bot may react with (Bot API, ReactionTypeEmoji). Note that ✅ is not one.
_REACTION_EMOJI: Final = frozenset(
    "\U0001f44d \U0001f44e \u2764 \U0001f525 \U0001f970 \U0001f44f \U0001f601 \U0001f914 "  # noqa: SIM905
    "\U0001f92f \U0001f631 \U0001f92c \U0001f622 \U0001f389 \U0001f929 \U0001f92e \U0001f4a9 "
    "\U0001f64f \U0001f44c \U0001f54a \U0001f921 \U0001f971 \U0001f974 \U0001f60d \U0001f433 "
    "\u2764\ufe0f\u200d\U0001f525 \U0001f31a \U0001f32d \U0001f4af \U0001f923 \u26a1 "
    "\U0001f34c \U0001f3c6 \U0001f494 \U0001f928 \U0001f610 \U0001f353 \U0001f37e \U0001f48b "
    "\U0001f595 \U0001f608 \U0001f634 \U0001f62d \U0001f913 \U0001f47b "
    "\U0001f468\u200d\U0001f4bb \U0001f440 \U0001f383 \U0001f648 \U0001f607 \U0001f628 "
    "\U0001f91d \u270d \U0001f917 \U0001fae1 \U0001f385 \U0001f384 \u2603 \U0001f485 "
    "\U0001f92a \U0001f5ff \U0001f192 \U0001f498 \U0001f649 \U0001f984 \U0001f618 \U0001f48a "
    "\U0001f64a \U0001f60e \U0001f47e \U0001f937\u200d\u2642\ufe0f \U0001f937 "
    "\U0001f937\u200d\u2640\ufe0f \U0001f621".split()
)

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def _not_modified() -> ApiError:
    """Telegram's answer to an edit that would leave the message as it is."""
    return bad_request(
        "message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message"
    )


class MessagesApi(FileStore):
    """``send*``, ``edit*``, deleteMessage, setMessageReaction, pins, answerCallbackQuery."""

    # -- what the bot may send ----------------------------------------------------------

    def _formatted(
        self,
        params: Mapping[str, Any],
        text_key: str,
        entities_key: str,
    ) -> tuple[str, list[JSONDict]]:
        text = params.get(text_key)
        if text is None:
            return "", []
        text = str(text)
        mode = params.get("parse_mode")
        if mode and str(mode).lower() == "html":
            try:
                return parse_html(text, self.users.get)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if mode and str(mode).lower() not in ("markdown", "markdownv2"):
            raise bad_request(f"unsupported parse_mode {mode}")
        entities = json_param(params, entities_key) or []
        if not isinstance(entities, list):
            raise bad_request(f"can't parse {entities_key} JSON array")
        return text, entities

    def _inline_markup(self, params: Mapping[str, Any]) -> tuple[JSONDict | None, JSONDict | None]:
        """(markup echoed in the Message, markup as sent); only inline keyboards are echoed."""
        markup = json_param(params, "reply_markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None, markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup, markup

    def _reply_target(self, chat: ChatState, params: Mapping[str, Any]) -> JSONDict | None:
        reply = json_param(params, "reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = chat
        if reply.get("chat_id") is not None:
            target_chat = self._target_chat({"chat_id": reply["chat_id"]}, write=False)
        target = target_chat.messages.get(loose_int(reply.get("message_id")) or 0)
        if target is None:
            if bool_param(reply, "allow_sending_without_reply") or bool_param(
                params, "allow_sending_without_reply"
            ):
                return None
            raise bad_request("message to be replied not found")
        return without_reply(target)

    def _send(self, chat: ChatState, params: Mapping[str, Any], content: JSONDict) -> JSONDict:
        """Store a message from the bot and return it."""
        reply_to = self._reply_target(chat, params)
        echoed, sent = self._inline_markup(params)
        message: JSONDict = {
            "message_id": chat.next_message_id(),
            "from": self.bot_user,
            "chat": chat.json,
            "date": self._now(),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if echoed is not None:
            message["reply_markup"] = echoed
        if sent is not None:
            chat.sent_markup[message["message_id"]] = sent
        chat.messages[message["message_id"]] = message
        chat.bot_message_ids.append(message["message_id"])
        self._bot_log.append((chat.id, message["message_id"]))
        return message

    def _caption(self, params: Mapping[str, Any]) -> JSONDict:
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        content: JSONDict = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return content

    def _message_text(self, params: Mapping[str, Any]) -> tuple[str, list[JSONDict]]:
        """The text and entities of a sendMessage or editMessageText, within Telegram's limits."""
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        return text, entities

    # -- sending ------------------------------------------------------------------------

    def _api_sendMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        text, entities = self._message_text(params)
        content: JSONDict = {"text": text}
        if entities:
            content["entities"] = entities
        if (preview := json_param(params, "link_preview_options")) is not None:
            content["link_preview_options"] = preview
        return self._send(chat, params, content)

    def _api_sendPhoto(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        upload, reference = self._file_input(params, files, "photo")
        if upload is not None:
            sizes = self._store_photo(upload.content)
        elif reference in self._photo_sets:
            sizes = self._photo_sets[reference]
        elif reference.startswith(("http://", "https://")):
            sizes = self._store_photo(b"")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._send(chat, params, {"photo": sizes, **self._caption(params)})

    def _api_sendDocument(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        upload, reference = self._file_input(params, files, "document")
        if upload is not None:
            document = self._store_document(upload)
        elif reference in self.files:
            stored = self.files[reference]
            document = self._document_json(stored)
        elif reference.startswith(("http://", "https://")):
            document = self._store_document(UploadedFile(reference.rsplit("/", 1)[-1], b""))
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._send(chat, params, {"document": document, **self._caption(params)})

    def _api_sendChatAction(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # -- editing, deleting, reacting, pinning -------------------------------------------

    def _own_message(self, chat: ChatState, params: Mapping[str, Any], verb: str) -> JSONDict:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        message_id = int_param(params, "message_id")
        message = chat.messages.get(message_id or 0)
        if message is None:
            raise bad_request(f"message to {verb} not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request(f"message can't be {verb}ed")
        return message

    def _replace(self, chat: ChatState, message: JSONDict, changes: JSONDict) -> JSONDict:
        edited = {k: v for k, v in message.items() if k not in changes}
        edited.update({k: v for k, v in changes.items() if v is not None})
        edited["edit_date"] = self._now()
        chat.messages[edited["message_id"]] = edited
        return edited

    def _api_editMessageText(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        message = self._own_message(chat, params, "edit")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._message_text(params)
        echoed, sent = self._inline_markup(params)
        if (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == echoed
        ):
            raise _not_modified()
        # Telegram drops the keyboard when an edit doesn't repeat it
        changes = {"text": text, "entities": entities or None, "reply_markup": echoed}
        self._remember_markup(chat, message["message_id"], sent)
        return self._replace(chat, message, changes)

    def _api_editMessageCaption(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        message = self._own_message(chat, params, "edit")
        content = self._caption(params)
        echoed, sent = self._inline_markup(params)
        if (
            message.get("caption") == content.get("caption")
            and message.get("caption_entities") == content.get("caption_entities")
            and message.get("reply_markup") == echoed
        ):
            raise _not_modified()
        self._remember_markup(chat, message["message_id"], sent)
        return self._replace(
            chat,
            message,
            {
                "caption": content.get("caption"),
                "caption_entities": content.get("caption_entities"),
                "reply_markup": echoed,
            },
        )

    def _api_editMessageReplyMarkup(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params)
        message = self._own_message(chat, params, "edit")
        echoed, sent = self._inline_markup(params)
        if message.get("reply_markup") == echoed:
            raise _not_modified()
        self._remember_markup(chat, message["message_id"], sent)
        return self._replace(chat, message, {"reply_markup": echoed})

    def _remember_markup(self, chat: ChatState, message_id: int, sent: JSONDict | None) -> None:
        if sent is None:
            chat.sent_markup.pop(message_id, None)
        else:
            chat.sent_markup[message_id] = sent

    def _api_deleteMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        message_id = int_param(params, "message_id")
        message = chat.messages.get(message_id or 0)
        if message is None:
            raise bad_request("message to delete not found")
        own = message.get("from", {}).get("id") == self.bot_id
        if not own and chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        del chat.messages[message["message_id"]]
        return True

    def _api_setMessageReaction(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        message_id = int_param(params, "message_id")
        if (message_id or 0) not in chat.messages:
            raise bad_request("message to react not found")
        reaction = json_param(params, "reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("can't parse reaction JSON array")
        for item in reaction:
            if not isinstance(item, dict):
                raise bad_request("REACTION_INVALID")
            if item.get("type") == "emoji" and item.get("emoji") not in _REACTION_EMOJI:
                raise bad_request("REACTION_INVALID")
            # PTB turns an emoji string it doesn't know into a custom emoji "id"
            if (
                item.get("type") == "custom_emoji"
                and not str(item.get("custom_emoji_id", "")).isdigit()
            ):
                raise bad_request("REACTION_INVALID")
        chat.reactions[message_id or 0] = reaction
        return True

    def _api_pinChatMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        self._require_pin_rights(chat)
        message_id = int_param(params, "message_id") or 0
        if message_id not in chat.messages:
            raise bad_request("message to pin not found")
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        return True

    def _api_unpinChatMessage(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        self._require_pin_rights(chat)
        message_id = int_param(params, "message_id", required=False)
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        else:
            raise bad_request("message to unpin not found")
        return True

    def _api_unpinAllChatMessages(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params)
        self._require_pin_rights(chat)
        chat.pinned.clear()
        return True

    def _require_pin_rights(self, chat: ChatState) -> None:
        if chat.type != "private" and chat.bot_status != "administrator":
            raise bad_request("not enough rights to manage pinned messages in the chat")

    # -- callback queries ---------------------------------------------------------------

    def _api_answerCallbackQuery(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self.callback_answers.get(query_id, False) is not None:
            # unknown, or answered already
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        answer = {
            key: params[key] for key in ("text", "show_alert", "url", "cache_time") if key in params
        }
        if "show_alert" in answer:
            answer["show_alert"] = bool_param(params, "show_alert")
        self.callback_answers[query_id] = answer
        return True
