"""Numbered schema migrations, applied in order at start; PRAGMA user_version records the last.

Never edit a migration that has shipped: add a new one. Times are INTEGER unix
seconds (UTC) so that ranges, sorting and durations are cheap in SQL.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: grids, people, roles, the chats the bot is in, pending confirmations, audit trail.
    """
    CREATE TABLE grids (
        id          INTEGER PRIMARY KEY,
        code        TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name        TEXT NOT NULL,
        chat_id     INTEGER UNIQUE,
        chat_title  TEXT,
        active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        locale      TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE grid_tags (
        grid_id INTEGER NOT NULL REFERENCES grids(id) ON DELETE CASCADE,
        tag     TEXT NOT NULL COLLATE NOCASE,
        PRIMARY KEY (grid_id, tag)
    );
    CREATE INDEX grid_tags_by_tag ON grid_tags(tag);
    CREATE TABLE people (
        telegram_id      INTEGER PRIMARY KEY,
        username         TEXT COLLATE NOCASE,
        display_name     TEXT NOT NULL,
        language_code    TEXT,
        has_private_chat INTEGER NOT NULL DEFAULT 0,
        first_seen       INTEGER NOT NULL,
        last_seen        INTEGER NOT NULL
    );
    CREATE INDEX people_by_username ON people(username);
    CREATE TABLE memberships (
        grid_id     INTEGER NOT NULL REFERENCES grids(id) ON DELETE CASCADE,
        telegram_id INTEGER NOT NULL REFERENCES people(telegram_id),
        role        TEXT NOT NULL CHECK (role IN ('head', 'worker')),
        assigned_by INTEGER,
        assigned_at INTEGER NOT NULL,
        PRIMARY KEY (grid_id, telegram_id)
    );
    CREATE INDEX memberships_by_person ON memberships(telegram_id);
    CREATE TABLE chats (
        chat_id    INTEGER PRIMARY KEY,
        type       TEXT NOT NULL,
        title      TEXT,
        bot_member INTEGER NOT NULL DEFAULT 1 CHECK (bot_member IN (0, 1)),
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE pending_actions (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL,
        chat_id    INTEGER NOT NULL,
        actor_id   INTEGER NOT NULL,
        payload    TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        done_at    INTEGER
    );
    CREATE TABLE audit_log (
        id       INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        actor_id INTEGER,
        action   TEXT NOT NULL,
        grid_id  INTEGER,
        detail   TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_by_grid ON audit_log(grid_id, at);
    """,
)
