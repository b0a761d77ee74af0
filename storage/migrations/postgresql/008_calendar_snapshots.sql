-- The package calendar data (official arrangement + statutory estimate) each community's
-- open deadlines were last counted with. When a new package version brings other data,
-- the tick compares fingerprints and re-dates the open tickets from the old data to the
-- new (bot/services/calendar_changes.py). No row: counted before the statutory layer.
CREATE TABLE calendar_snapshots (
    community_id BIGINT PRIMARY KEY REFERENCES communities(id) ON DELETE CASCADE,
    fingerprint  TEXT COLLATE "C" NOT NULL,
    data         TEXT COLLATE "C" NOT NULL,
    updated_at   TEXT COLLATE "C" NOT NULL
);
