"""Bot API methods about the bot itself, the chats it is in, and its command menus."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.emulator.params import bool_param, json_param, required_int
from bot.emulator.records import JSONDict, MemberStatus, UploadedFile, bad_request
from bot.emulator.state import WorldState


class ChatsApi(WorldState):
    """getMe, logOut, close, webhooks, getChat and its kin, leaveChat, the command menus."""

    def reset(self) -> None:
        """Forget the command menus, then everything else."""
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        super().reset()

    # -- the bot ------------------------------------------------------------------------

    def _api_getMe(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        return True

    def _api_close(self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]) -> bool:
        return True

    def _api_setWebhook(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise bad_request("bad webhook: URL must be a string")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        return self._use_webhook(url, params)

    def _api_deleteWebhook(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        return self._use_webhook("", params)

    def _use_webhook(self, url: str, params: Mapping[str, Any]) -> bool:
        """Set (or with "" remove) the webhook, dropping pending updates if asked to."""
        self.webhook_url = url
        if bool_param(params, "drop_pending_updates"):
            self._pending.clear()
        return True

    def _api_getWebhookInfo(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = 40
        if self.allowed_updates is not None:
            info["allowed_updates"] = sorted(self.allowed_updates)
        return info

    # -- reading chats ------------------------------------------------------------------

    def _api_getChat(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params, write=False)
        info: JSONDict = {
            **chat.json,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.type != "private":
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        if chat.pinned and chat.pinned[-1] in chat.messages:
            info["pinned_message"] = chat.messages[chat.pinned[-1]]
        return info

    def _api_getChatMember(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> JSONDict:
        chat = self._target_chat(params, write=False)
        user_id = required_int(params, "user_id")
        if user_id == self.bot_id:
            status: MemberStatus = chat.bot_status if chat.type != "private" else "member"
        elif user_id not in self.users:
            raise bad_request("user not found")
        elif chat.type == "private":
            status = "member" if user_id == chat.id else "left"
        else:
            status = chat.members.get(user_id, "left")
        return self._member_json(self.user(user_id), status)

    def _api_getChatAdministrators(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        chat = self._target_chat(params, write=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        statuses: list[tuple[int, MemberStatus]] = list(chat.members.items())
        if chat.bot_status == "administrator":
            statuses.append((self.bot_id, "administrator"))
        statuses.sort(key=lambda item: item[1] != "creator")
        return [
            self._member_json(self.user(uid), status)
            for uid, status in statuses
            if status in ("creator", "administrator")
        ]

    def _api_getChatMemberCount(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> int:
        chat = self._target_chat(params, write=False)
        if chat.type == "private":
            return 2
        present = ("creator", "administrator", "member")
        return sum(1 for status in chat.members.values() if status in present) + (
            1 if chat.bot_status in present else 0
        )

    def _api_leaveChat(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        chat = self._target_chat(params, write=False)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        chat.bot_status = "left"
        return True

    # -- command menus ------------------------------------------------------------------

    def _command_key(self, params: Mapping[str, Any]) -> tuple[str, str]:
        scope = json_param(params, "scope")
        if scope is not None and not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        return scope_key(scope), str(params.get("language_code") or "")

    def _api_setMyCommands(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        commands = json_param(params, "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON array")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._command_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> list[JSONDict]:
        return self.commands.get(self._command_key(params), [])

    def _api_deleteMyCommands(  # noqa: N802
        self, params: Mapping[str, Any], files: Mapping[str, UploadedFile]
    ) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True


def scope_key(scope: JSONDict | None) -> str:
    """The key a command menu is stored under: its scope as canonical JSON."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True)
