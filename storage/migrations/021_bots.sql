-- Several bots over one database: a city runs one bot per sub-district (Telegram's
-- sending limits are per bot). Each community is bound to one bot (NULL: not yet bound;
-- the first bot to start adopts it), and what belongs to a bot's conversation with
-- Telegram carries its id: update ids, chats and the outbox are per bot. 0 is the bot of
-- a database written before this migration, adopted the same way.
ALTER TABLE communities ADD COLUMN bot_id INTEGER;
CREATE INDEX communities_by_bot ON communities (bot_id);

ALTER TABLE outbox ADD COLUMN bot_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_bot ON outbox (bot_id, status, not_before);

-- Update ids are counted per bot: the same number from two bots is two updates.
-- (bot_id comes last in each rebuilt table, where PostgreSQL's ADD COLUMN puts it.)
CREATE TABLE processed_updates_by_bot (
    update_id    INTEGER NOT NULL,
    processed_at TEXT NOT NULL,
    bot_id       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot_id, update_id)
);
INSERT INTO processed_updates_by_bot (bot_id, update_id, processed_at)
    SELECT 0, update_id, processed_at FROM processed_updates;
DROP TABLE processed_updates;
ALTER TABLE processed_updates_by_bot RENAME TO processed_updates;

CREATE TABLE inbox_by_bot (
    id          INTEGER PRIMARY KEY,
    -- NULL only for a body without an integer update_id, kept as set aside.
    update_id   INTEGER,
    -- The chat id as text, 'u:<user id>' for updates without a chat, or 'none'.
    chat_key    TEXT NOT NULL,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    -- waiting → working → done; or set_aside (cannot be parsed, or kept failing).
    state       TEXT NOT NULL DEFAULT 'waiting',
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    worker      TEXT,
    error       TEXT,
    done_at     TEXT,
    bot_id      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bot_id, update_id)
);
INSERT INTO inbox_by_bot (id, bot_id, update_id, chat_key, payload, received_at, state,
                          attempts, lease_until, worker, error, done_at)
    SELECT id, 0, update_id, chat_key, payload, received_at, state, attempts, lease_until,
           worker, error, done_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_by_bot RENAME TO inbox;
CREATE INDEX inbox_claim ON inbox (bot_id, state, chat_key, id);
CREATE INDEX inbox_done ON inbox (state, done_at);

-- A group may hold two of a city's bots, each bound to a community of its own.
CREATE TABLE group_chats_by_bot (
    chat_id      INTEGER NOT NULL,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    bound_by     INTEGER NOT NULL,
    bound_at     TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    bot_id       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bot_id, chat_id)
);
INSERT INTO group_chats_by_bot (bot_id, chat_id, community_id, title, bound_by, bound_at, active)
    SELECT 0, chat_id, community_id, title, bound_by, bound_at, active FROM group_chats;
DROP TABLE group_chats;
ALTER TABLE group_chats_by_bot RENAME TO group_chats;
CREATE INDEX group_chats_by_community ON group_chats (community_id);
