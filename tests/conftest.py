"""Test-wide settings."""

import os

# PTB 22 warns on every RetryAfter unless told to use timedelta durations (its future default).
os.environ.setdefault("PTB_TIMEDELTA", "1")
