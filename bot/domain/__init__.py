"""The pure domain: models, tickets, the intake recogniser, schedules, permissions, privacy. Imports
only the standard library (and cronsim, numpy); never telegram or storage.
"""
