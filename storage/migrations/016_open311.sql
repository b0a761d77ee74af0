-- Open311 GeoReport v2: the keys a community's admins issue to city systems, and what a
-- request posted with one adds to its ticket.
CREATE TABLE open311_keys (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    -- The reporter of record for requests posted with this key: a person without a
    -- Telegram account, so nothing is ever sent to it.
    person_id    INTEGER NOT NULL REFERENCES people(id),
    key_hash     TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL,
    created_by   INTEGER REFERENCES people(id),
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX open311_keys_by_community ON open311_keys (community_id);

CREATE TABLE open311_requests (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    key_id    INTEGER NOT NULL REFERENCES open311_keys(id),
    address   TEXT,
    media_url TEXT
);
