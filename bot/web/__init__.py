"""The staff console: a Telegram Mini App and a web page served by the bot process (tornado)."""
