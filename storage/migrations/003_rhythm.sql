-- The monthly rhythm: volunteer activities, inspections, digests and announcements.

CREATE TABLE volunteer_activities (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,            -- clean_day | custom
    title        TEXT NOT NULL,
    place        TEXT NOT NULL,
    lat          REAL,
    lon          REAL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    headcount    INTEGER NOT NULL,
    zone_id      INTEGER REFERENCES zones(id),
    created_by   INTEGER REFERENCES people(id),
    created_at   TEXT NOT NULL,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    -- Clean Day is created once a month: (community, clean_day, 2026-12) is unique.
    series_key   TEXT UNIQUE
);
CREATE INDEX activities_by_community ON volunteer_activities (community_id, starts_at);

CREATE TABLE volunteer_signups (
    activity_id    INTEGER NOT NULL REFERENCES volunteer_activities(id) ON DELETE CASCADE,
    person_id      INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    status         TEXT NOT NULL,
    signed_up_at   TEXT NOT NULL,
    checked_in_at  TEXT,
    checked_out_at TEXT,
    hours          REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (activity_id, person_id)
);
CREATE INDEX signups_by_person ON volunteer_signups (person_id);

CREATE TABLE volunteer_prefs (
    person_id  INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    named      INTEGER NOT NULL DEFAULT 0   -- may be thanked by name in the group
);

CREATE TABLE inspections (
    id                   INTEGER PRIMARY KEY,
    community_id         INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    zone_id              INTEGER NOT NULL REFERENCES zones(id),
    inspector_person_id  INTEGER NOT NULL REFERENCES people(id),
    day                  TEXT NOT NULL,     -- local date
    kind                 TEXT NOT NULL,     -- scheduled | unannounced
    status               TEXT NOT NULL,     -- open | done
    started_at           TEXT NOT NULL,
    finished_at          TEXT,
    score                REAL
);
CREATE INDEX inspections_by_zone ON inspections (zone_id, day);
CREATE INDEX inspections_by_community_day ON inspections (community_id, day);

CREATE TABLE inspection_items (
    inspection_id INTEGER NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    site_id       INTEGER NOT NULL REFERENCES sites(id),
    item_code     TEXT NOT NULL,
    passed        INTEGER NOT NULL,
    deduction     REAL NOT NULL DEFAULT 0,
    photo_path    TEXT,
    ticket_id     INTEGER REFERENCES tickets(id),
    PRIMARY KEY (inspection_id, site_id, item_code)
);

CREATE TABLE digest_prefs (
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    mode         TEXT NOT NULL,     -- daily | weekly | off
    PRIMARY KEY (person_id, community_id)
);

CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    audience      TEXT NOT NULL,     -- groups | a role
    text          TEXT NOT NULL,
    created_by    INTEGER NOT NULL REFERENCES people(id),
    created_at    TEXT NOT NULL,
    queued        INTEGER NOT NULL,
    reported_at   TEXT
);

-- Which outbox rows belong to an announcement, for delivery counts.
ALTER TABLE outbox ADD COLUMN batch TEXT;
CREATE INDEX outbox_by_batch ON outbox (batch);
