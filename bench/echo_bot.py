"""Baseline for bench/throughput.py: the barest python-telegram-bot bot.

    GRIDBOT_TOKEN=... python bench/echo_bot.py BASE_URL

Long-polls like `gridbot run` (same PTB, same defaults: one update at a time), answers every
text message by quoting it back and every button press with answerCallbackQuery. No
database, no rate limiter: what PTB alone costs per update.
"""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text, do_quote=True)


async def pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()


def main() -> None:
    base_url = sys.argv[1]
    application = (
        Application.builder().token(os.environ["GRIDBOT_TOKEN"]).base_url(base_url).build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
