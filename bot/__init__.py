"""gridbot: a Telegram bot for neighbourhood grid (网格) group chats. Entry points: `python -m bot`
and the `gridbot` console script (bot.cli).
"""
