"""Chat housekeeping: people seen, the bot added/removed, groups migrated, errors logged."""

from __future__ import annotations

import html
import logging

from telegram import Chat, ChatMember, ChatMemberUpdated, Update
from telegram.error import NetworkError
from telegram.ext import (
    ApplicationHandlerStop,
    ChatMemberHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.services.grids import ChatRef
from handlers.context import GridApplication, GridContext
from handlers.registry import ANONYMOUS_ADMIN_ID, TELEGRAM_SERVICE_ID

log = logging.getLogger(__name__)

# Runs before every other handler group.
TRACKING_GROUP = -10


async def track_people(update: Update, context: GridContext) -> None:
    """Remember who wrote (id, username, name) so later commands can mention them."""
    user = update.effective_user
    if user is None or user.is_bot or user.id in (ANONYMOUS_ADMIN_ID, TELEGRAM_SERVICE_ID):
        return
    chat = update.effective_chat
    await context.services.people.seen(
        telegram_id=user.id,
        display_name=user.full_name,
        username=user.username,
        language_code=user.language_code,
        in_private_chat=chat is not None and chat.type == Chat.PRIVATE,
    )


def _is_member(member: ChatMemberUpdated) -> bool:
    status = member.new_chat_member.status
    if status == ChatMember.RESTRICTED:
        return bool(getattr(member.new_chat_member, "is_member", False))
    return status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def bot_membership(update: Update, context: GridContext) -> None:
    """Added: the grid (if any) is active again and the chat is greeted. Removed: inactive."""
    change = update.my_chat_member
    if change is None:
        return
    chat = change.chat
    if chat.type == Chat.PRIVATE:
        # A person blocked or unblocked the bot.
        await context.services.people.seen(
            telegram_id=chat.id,
            display_name=change.from_user.full_name,
            username=change.from_user.username,
            language_code=change.from_user.language_code,
            in_private_chat=_is_member(change),
        )
        if not _is_member(change):
            await context.services.people.unreachable_privately(chat.id)
        return
    was_member = change.old_chat_member.status in (
        ChatMember.MEMBER,
        ChatMember.ADMINISTRATOR,
        ChatMember.OWNER,
    )
    is_member = _is_member(change)
    grid = await context.services.grids.bot_membership_changed(
        ChatRef(chat_id=chat.id, title=chat.title, type=chat.type), is_member
    )
    log.info(
        "bot %s chat %s (%s)",
        "added to" if is_member else "removed from",
        chat.id,
        grid.code if grid else "no grid",
    )
    if is_member and not was_member:
        me = await context.bot.get_me()
        is_admin = change.new_chat_member.status == ChatMember.ADMINISTRATOR
        await context.messenger.send(
            chat.id,
            "bot_added",
            grid=grid,
            reads_everything=bool(me.can_read_all_group_messages) or is_admin,
        )


async def chat_migrated(update: Update, context: GridContext) -> None:
    """Group → supergroup: Telegram tells both chats; either one moves the grid (idempotent)."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    grid = await context.services.grids.chat_migrated(old, new)
    log.info("chat %s migrated to %s (%s)", old, new, grid.code if grid else "no grid")
    raise ApplicationHandlerStop


async def on_error(update: object, context: GridContext) -> None:
    """Errors we cause: logged with the update that caused them; the user gets an apology."""
    if update is None and isinstance(context.error, NetworkError):
        return  # polling lost Telegram: bot.outage logs the outage once, not every retry
    log.error("error while handling update %r", update, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        return  # the button's guard has already answered the presser with an apology
    try:
        await context.messenger.send(
            update.effective_chat.id,
            "errors/internal",
            reply_to=update.effective_message.message_id if update.effective_message else None,
            error=html.escape(type(context.error).__name__),
        )
    except Exception:  # noqa: BLE001 - the apology itself failing must not hide the first error
        log.exception("could not send the apology for the error above")


def register_chat_handlers(application: GridApplication) -> None:
    """Track people and chats on every update, follow the bot's membership and group migrations, log
    errors.
    """
    application.add_handler(TypeHandler(Update, track_people), group=TRACKING_GROUP)
    application.add_handler(ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, chat_migrated))
    application.add_error_handler(on_error)
