"""SQLite storage: the database, its migrations and the repositories behind bot.services.ports."""
