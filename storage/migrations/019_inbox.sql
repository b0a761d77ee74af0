-- The durable inbox: every update is stored on receipt (before Telegram is told it
-- arrived) and handled later by whichever worker claims it. A chat's updates are
-- claimed one at a time in arrival order; different chats run side by side.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    -- NULL only for a body without an integer update_id, kept as set aside.
    update_id   INTEGER UNIQUE,
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
    done_at     TEXT
);
CREATE INDEX inbox_claim ON inbox (state, chat_key, id);
CREATE INDEX inbox_done ON inbox (state, done_at);

-- Named leases (the leader's, say): one holder until a time, taken over once it passed.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
);

-- Outbox claims: a sender marks the rows it is sending ('sending') with its name and a
-- lease, so two senders never send one message; a lapsed lease makes the row due again.
ALTER TABLE outbox ADD COLUMN sender TEXT;
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
