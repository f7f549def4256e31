"""python -m bot — the same as the `gridbot` console script."""

from bot.cli import main

raise SystemExit(main())
