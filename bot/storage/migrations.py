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
    # 2: tickets, the messages that made or joined them, followers (+1), attachments, events.
    """
    CREATE TABLE tickets (
        id             INTEGER PRIMARY KEY,
        grid_id        INTEGER NOT NULL REFERENCES grids(id),
        reporter_id    INTEGER NOT NULL,
        chat_id        INTEGER NOT NULL,
        message_id     INTEGER,
        text           TEXT NOT NULL,
        category       TEXT NOT NULL,
        urgency        TEXT NOT NULL CHECK (urgency IN ('emergency', 'high', 'normal')),
        building       TEXT,
        unit           TEXT,
        floor          TEXT,
        room           TEXT,
        status         TEXT NOT NULL DEFAULT 'open',
        source         TEXT NOT NULL,
        private        INTEGER NOT NULL DEFAULT 0,
        level          TEXT NOT NULL DEFAULT 'grid',
        handler_id     INTEGER,
        closure        TEXT,
        closure_note   TEXT,
        reasons        TEXT NOT NULL DEFAULT '',
        confidence     REAL,
        ack_message_id INTEGER,
        followers      INTEGER NOT NULL DEFAULT 0,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        claim_due_at   INTEGER,
        resolve_due_at INTEGER,
        claimed_at     INTEGER,
        resolved_at    INTEGER,
        closed_at      INTEGER
    );
    CREATE INDEX tickets_by_grid_status ON tickets(grid_id, status, created_at);
    CREATE INDEX tickets_by_reporter ON tickets(reporter_id, created_at);
    CREATE INDEX tickets_by_created ON tickets(created_at);
    -- Every Telegram message tied to a ticket: the report, +1 posts, the bot's acknowledgement.
    -- The primary key is what makes re-delivered updates harmless.
    CREATE TABLE ticket_messages (
        chat_id    INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
        role       TEXT NOT NULL CHECK (role IN ('report', 'follow', 'ack', 'alert', 'card')),
        PRIMARY KEY (chat_id, message_id)
    );
    CREATE INDEX ticket_messages_by_ticket ON ticket_messages(ticket_id);
    CREATE TABLE ticket_followers (
        ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
        telegram_id INTEGER NOT NULL,
        at          INTEGER NOT NULL,
        PRIMARY KEY (ticket_id, telegram_id)
    );
    CREATE INDEX ticket_followers_by_person ON ticket_followers(telegram_id);
    CREATE TABLE ticket_attachments (
        id         INTEGER PRIMARY KEY,
        ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
        kind       TEXT NOT NULL CHECK (kind IN ('photo', 'location', 'document')),
        file_id    TEXT,
        latitude   REAL,
        longitude  REAL,
        added_by   INTEGER NOT NULL,
        at         INTEGER NOT NULL
    );
    CREATE INDEX ticket_attachments_by_ticket ON ticket_attachments(ticket_id);
    CREATE TABLE ticket_events (
        id          INTEGER PRIMARY KEY,
        ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
        at          INTEGER NOT NULL,
        actor_id    INTEGER,
        kind        TEXT NOT NULL,
        from_status TEXT,
        to_status   TEXT,
        note        TEXT
    );
    CREATE INDEX ticket_events_by_ticket ON ticket_events(ticket_id, at);
    -- Who writes in which grid chat: a private report from someone in one grid needs no question.
    CREATE TABLE grid_residents (
        grid_id     INTEGER NOT NULL REFERENCES grids(id) ON DELETE CASCADE,
        telegram_id INTEGER NOT NULL,
        last_seen   INTEGER NOT NULL,
        PRIMARY KEY (grid_id, telegram_id)
    );
    CREATE INDEX grid_residents_by_person ON grid_residents(telegram_id);
    -- The grid a person chose for private reports (deep link or question).
    CREATE TABLE private_reporting (
        telegram_id INTEGER PRIMARY KEY,
        grid_id     INTEGER NOT NULL REFERENCES grids(id) ON DELETE CASCADE,
        at          INTEGER NOT NULL
    );
    """,
    # 3: durable timers (reminders, escalations, verification, notices, digests), the loop's
    # verification answers, duty staff per escalation level, patrol logs.
    """
    CREATE TABLE timers (
        id      INTEGER PRIMARY KEY,
        kind    TEXT NOT NULL,
        ref_id  INTEGER NOT NULL,
        due_at  INTEGER NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        done_at INTEGER,
        outcome TEXT,
        UNIQUE (kind, ref_id, due_at)
    );
    CREATE INDEX timers_pending ON timers(due_at) WHERE done_at IS NULL;
    CREATE INDEX timers_by_ref ON timers(kind, ref_id);
    ALTER TABLE tickets ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tickets ADD COLUMN escalated_at INTEGER;
    -- When a time limit first passed; escalation gives fresh limits, the breach stays on record.
    ALTER TABLE tickets ADD COLUMN overdue_at INTEGER;
    ALTER TABLE tickets ADD COLUMN verification_due_at INTEGER;
    ALTER TABLE tickets ADD COLUMN satisfaction REAL;
    ALTER TABLE tickets ADD COLUMN card_chat_id INTEGER;
    ALTER TABLE tickets ADD COLUMN card_message_id INTEGER;
    CREATE INDEX tickets_by_handler ON tickets(handler_id, status);
    CREATE TABLE ticket_verifications (
        ticket_id   INTEGER NOT NULL REFERENCES tickets(id),
        round       INTEGER NOT NULL,
        telegram_id INTEGER NOT NULL,
        solved      INTEGER CHECK (solved IN (0, 1)),
        score       INTEGER CHECK (score BETWEEN 1 AND 5),
        asked_at    INTEGER NOT NULL,
        answered_at INTEGER,
        PRIMARY KEY (ticket_id, round, telegram_id)
    );
    CREATE TABLE duty_staff (
        level       TEXT NOT NULL CHECK (level IN ('community', 'street', 'district')),
        telegram_id INTEGER NOT NULL,
        assigned_by INTEGER,
        assigned_at INTEGER NOT NULL,
        PRIMARY KEY (level, telegram_id)
    );
    CREATE TABLE patrol_logs (
        id        INTEGER PRIMARY KEY,
        grid_id   INTEGER NOT NULL REFERENCES grids(id),
        author_id INTEGER NOT NULL,
        text      TEXT NOT NULL,
        at        INTEGER NOT NULL
    );
    CREATE INDEX patrol_logs_by_grid ON patrol_logs(grid_id, at);
    -- Looked up on every group message (is this the note a head was asked for?).
    CREATE INDEX pending_actions_open ON pending_actions(kind, chat_id, actor_id)
        WHERE done_at IS NULL;
    """,
    # 4: notices staff broadcast to grids: the notice, each run, one delivery per grid.
    """
    CREATE TABLE notices (
        id          INTEGER PRIMARY KEY,
        author_id   INTEGER NOT NULL,
        text        TEXT NOT NULL,        -- Telegram HTML with jinja2 placeholders
        schedule    TEXT NOT NULL,        -- JSON, Schedule.to_storage()
        targets     TEXT NOT NULL,        -- JSON, Targets.to_storage()
        pin         INTEGER NOT NULL DEFAULT 0 CHECK (pin IN (0, 1)),
        status      TEXT NOT NULL CHECK (status IN
                        ('draft', 'active', 'paused', 'finished', 'cancelled', 'discarded')),
        locale      TEXT NOT NULL,        -- the author's, for previews and reports
        next_run_at INTEGER,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX notices_by_status ON notices(status, id);
    CREATE TABLE notice_runs (
        id                  INTEGER PRIMARY KEY,
        notice_id           INTEGER NOT NULL REFERENCES notices(id),
        due_at              INTEGER NOT NULL,
        status              TEXT NOT NULL CHECK (status IN ('sending', 'done', 'missed')),
        started_at          INTEGER,
        finished_at         INTEGER,
        progress_message_id INTEGER,     -- the author's "发送中 120/186" message, edited
        UNIQUE (notice_id, due_at)
    );
    CREATE INDEX notice_runs_unfinished ON notice_runs(id) WHERE status = 'sending';
    -- One row per target grid per run; `chat_id` is where it actually went (after a
    -- migration, the supergroup). Marked sent right after each send, so a resumed run
    -- sends only what is still pending.
    CREATE TABLE notice_deliveries (
        run_id     INTEGER NOT NULL REFERENCES notice_runs(id),
        grid_id    INTEGER NOT NULL REFERENCES grids(id),
        status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        chat_id    INTEGER,
        message_id INTEGER,
        reason     TEXT,                 -- why it failed; for a sent one, why pinning failed
        pinned     INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
        updated_at INTEGER,
        PRIMARY KEY (run_id, grid_id)
    );
    CREATE INDEX notice_deliveries_pending ON notice_deliveries(run_id) WHERE status = 'pending';
    """,
    # 5: statistics. Whether each time limit was missed is recorded when it happens (an
    # escalation gives fresh limits, so it cannot be recomputed later), plus the indexes the
    # monthly figures and exports read by.
    """
    ALTER TABLE tickets ADD COLUMN claim_late INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE tickets ADD COLUMN resolve_late INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX tickets_by_grid_created ON tickets(grid_id, created_at);
    CREATE INDEX tickets_by_closed ON tickets(closed_at) WHERE closed_at IS NOT NULL;
    CREATE INDEX tickets_open_by_grid ON tickets(grid_id, urgency, created_at)
        WHERE status IN ('open', 'claimed', 'reopened');
    CREATE INDEX ticket_verifications_by_asked ON ticket_verifications(asked_at);
    """,
    # Updates as fetched from Telegram, stored before their offset is confirmed: a busy
    # chat's backlog is handled from here while fetching carries on, and a restart picks
    # up what was stored but not yet handled (bot.inbox).
    """
    CREATE TABLE inbox (
        update_id   INTEGER PRIMARY KEY,
        payload     TEXT NOT NULL,       -- the update's JSON as Telegram sent it
        received_at INTEGER NOT NULL,
        handled     INTEGER NOT NULL DEFAULT 0 CHECK (handled IN (0, 1))
    );
    CREATE INDEX inbox_unhandled ON inbox(update_id) WHERE handled = 0;
    """,
    # The staff console's one-time login links: only a hash of the link's secret is kept,
    # so a copy of the database cannot log anyone in; used_at makes a second use fail.
    """
    CREATE TABLE console_logins (
        secret_hash TEXT PRIMARY KEY,
        telegram_id INTEGER NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        used_at     INTEGER
    );
    """,
    # Each escalation level's duty chat as staff set it in that chat with /setduty; the
    # [escalation] keys of the config, when set, override it.
    """
    CREATE TABLE duty_chats (
        level   TEXT PRIMARY KEY CHECK (level IN ('community', 'street', 'district')),
        chat_id INTEGER NOT NULL,
        set_by  INTEGER,
        set_at  INTEGER NOT NULL
    );
    """,
    # Intake learns from use: every /category correction and every [不是报事] withdrawal
    # is a labelled example (the latest human word per ticket wins). `gridbot eval-intake
    # --from-db` measures on them, `gridbot train-intake --from-db` adapts the model.
    """
    CREATE TABLE intake_examples (
        ticket_id  INTEGER PRIMARY KEY REFERENCES tickets(id),
        text       TEXT NOT NULL,
        is_request INTEGER NOT NULL CHECK (is_request IN (0, 1)),
        category   TEXT,                 -- null for a withdrawal
        kind       TEXT NOT NULL CHECK (kind IN ('category', 'withdrawn')),
        actor_id   INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    """,
    # Each resident message's own answer (issue #14), written in the transaction that acts on
    # the message: a re-delivered update whose answer was never sent (the bot was killed
    # while a 429 held it back) gets it, one whose answer went out gets nothing more.
    # Backfilled from what was known: a report is answered once its ticket has an
    # acknowledgement; a "+1" is taken as answered.
    """
    CREATE TABLE message_answers (
        chat_id           INTEGER NOT NULL,
        message_id        INTEGER NOT NULL,
        kind              TEXT NOT NULL
                          CHECK (kind IN ('ack', 'followed', 'rate_limited', 'silent')),
        ticket_id         INTEGER REFERENCES tickets(id),
        created_at        INTEGER NOT NULL,
        answered_at       INTEGER,
        answer_message_id INTEGER,
        PRIMARY KEY (chat_id, message_id)
    );
    INSERT INTO message_answers (chat_id, message_id, kind, ticket_id, created_at, answered_at)
        SELECT m.chat_id, m.message_id, 'ack', t.id, t.created_at,
               CASE WHEN t.ack_message_id IS NULL THEN NULL ELSE t.created_at END
        FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.role = 'report';
    INSERT INTO message_answers (chat_id, message_id, kind, ticket_id, created_at, answered_at)
        SELECT m.chat_id, m.message_id, 'followed', t.id, t.updated_at, t.updated_at
        FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.role = 'follow';
    -- The duplicate search reads open public tickets of one grid and category, newest first.
    CREATE INDEX tickets_open_by_grid_category ON tickets(grid_id, category, created_at)
        WHERE status IN ('open', 'claimed', 'reopened') AND private = 0;
    """,
)
