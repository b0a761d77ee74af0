-- Communities, their structure and their people. Timestamps are UTC ISO-8601 text.

CREATE TABLE communities (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    timezone    TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    created_at  TEXT NOT NULL
);

CREATE TABLE community_settings (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (community_id, key)
);

CREATE TABLE people (
    id           INTEGER PRIMARY KEY,
    telegram_id  INTEGER UNIQUE,
    name         TEXT NOT NULL,
    phone        TEXT,
    language     TEXT,
    community_id INTEGER REFERENCES communities(id),
    building_id  INTEGER REFERENCES buildings(id),
    zone_id      INTEGER REFERENCES zones(id),
    reachable    INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL
);

CREATE TABLE zones (
    id                    INTEGER PRIMARY KEY,
    community_id          INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    code                  TEXT NOT NULL,
    name                  TEXT NOT NULL,
    responsible_person_id INTEGER REFERENCES people(id),
    active                INTEGER NOT NULL DEFAULT 1,
    UNIQUE (community_id, code)
);

CREATE TABLE buildings (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    zone_id      INTEGER NOT NULL REFERENCES zones(id),
    name         TEXT NOT NULL,
    lat          REAL,
    lon          REAL,
    UNIQUE (community_id, name)
);

CREATE TABLE sites (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    zone_id      INTEGER NOT NULL REFERENCES zones(id),
    name         TEXT NOT NULL,
    category     TEXT NOT NULL,
    contact      TEXT,
    phone        TEXT,
    address      TEXT,
    lat          REAL,
    lon          REAL,
    UNIQUE (community_id, name)
);
CREATE INDEX sites_by_zone ON sites (zone_id);

CREATE TABLE role_grants (
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    zone_id      INTEGER REFERENCES zones(id),
    granted_by   INTEGER,
    granted_at   TEXT NOT NULL
);
-- A NULL zone would escape a plain UNIQUE, so the key folds it to 0.
CREATE UNIQUE INDEX role_grants_key ON role_grants (person_id, community_id, role, IFNULL(zone_id, 0));
CREATE INDEX role_grants_by_community ON role_grants (community_id, role);

CREATE TABLE invites (
    code         TEXT PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    zone_id      INTEGER REFERENCES zones(id),
    person_id    INTEGER REFERENCES people(id),
    max_uses     INTEGER NOT NULL,
    uses         INTEGER NOT NULL DEFAULT 0,
    expires_at   TEXT NOT NULL,
    created_by   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL
);

CREATE TABLE group_chats (
    chat_id      INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    bound_by     INTEGER NOT NULL,
    bound_at     TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX group_chats_by_community ON group_chats (community_id);

-- Updates whose work is committed; a re-delivered one is skipped.
CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL
);

-- Messages caused by a state change, written in the same transaction and sent after it.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'text',
    payload      TEXT NOT NULL,
    dedupe_key   TEXT UNIQUE,
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT NOT NULL,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    sent_at      TEXT
);
CREATE INDEX outbox_pending ON outbox (status, not_before);

-- Scheduled occurrences already handled: (kind, community, target, date) fires once.
CREATE TABLE occurrences (
    key          TEXT PRIMARY KEY,
    fired_at     TEXT NOT NULL
);
