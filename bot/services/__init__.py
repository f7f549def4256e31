"""Use cases: what residents, grid heads and staff can do, over the storage ports."""
