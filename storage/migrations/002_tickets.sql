-- Reports and tickets: the closed loop from a resident's photo to 销号.

CREATE TABLE ticket_counters (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    year         INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    PRIMARY KEY (community_id, year)
);

CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    number             TEXT NOT NULL,
    source             TEXT NOT NULL,
    reporter_person_id INTEGER NOT NULL REFERENCES people(id),
    category           TEXT NOT NULL,
    zone_id            INTEGER REFERENCES zones(id),
    building_id        INTEGER REFERENCES buildings(id),
    site_id            INTEGER REFERENCES sites(id),
    lat                REAL,
    lon                REAL,
    description        TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,
    assignee_person_id INTEGER REFERENCES people(id),
    created_at         TEXT NOT NULL,
    dispatched_at      TEXT,
    due_at             TEXT,
    accepted_at        TEXT,
    rectified_at       TEXT,
    closed_at          TEXT,
    reopen_count       INTEGER NOT NULL DEFAULT 0,
    transfer_count     INTEGER NOT NULL DEFAULT 0,
    supporters         INTEGER NOT NULL DEFAULT 0,
    anonymous          INTEGER NOT NULL DEFAULT 1,
    share_phone        INTEGER NOT NULL DEFAULT 0,
    rating             TEXT,
    extension_reason   TEXT,
    version            INTEGER NOT NULL DEFAULT 1,
    -- The message that filed it: a re-delivered update finds the ticket instead of filing twice.
    origin_key         TEXT UNIQUE,
    UNIQUE (community_id, number)
);
CREATE INDEX tickets_by_assignee ON tickets (assignee_person_id, status, due_at);
CREATE INDEX tickets_by_reporter ON tickets (reporter_person_id, created_at);
CREATE INDEX tickets_by_community_status ON tickets (community_id, status, due_at);
CREATE INDEX tickets_by_zone ON tickets (zone_id, status);

CREATE TABLE ticket_events (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    actor_person_id INTEGER REFERENCES people(id),
    at              TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id, id);

CREATE TABLE ticket_photos (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,          -- before | after | recheck
    sha256     TEXT NOT NULL,
    path       TEXT NOT NULL,          -- relative to the data dir
    file_id    TEXT,                   -- Telegram's, for cheap re-sending
    added_at   TEXT NOT NULL,
    UNIQUE (ticket_id, kind, sha256)
);

CREATE TABLE ticket_supporters (
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    added_at   TEXT NOT NULL,
    PRIMARY KEY (ticket_id, person_id)
);

-- A report being put together in private chat; committed step by step so nothing is lost.
CREATE TABLE report_drafts (
    person_id    INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    data         TEXT NOT NULL,        -- JSON: photos, category, place, description, step
    updated_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX report_drafts_expiry ON report_drafts (expires_at);

-- Holidays and make-up workdays an admin adds on top of the official calendar.
CREATE TABLE calendar_overrides (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    workday      INTEGER NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (community_id, day)
);

CREATE TABLE reporting_blocks (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    blocked_by   INTEGER NOT NULL,
    blocked_at   TEXT NOT NULL,
    PRIMARY KEY (community_id, person_id)
);

-- A question the bot asked and waits for (a reason, an after-photo), kept across restarts.
CREATE TABLE pending_inputs (
    person_id  INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    ticket_id  INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    payload    TEXT NOT NULL DEFAULT '',
    expires_at TEXT NOT NULL
);
