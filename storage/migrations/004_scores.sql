-- Monthly scores and consequences, household and shop ratings.

CREATE TABLE monthly_scores (
    community_id  INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    zone_id       INTEGER NOT NULL REFERENCES zones(id),
    month         TEXT NOT NULL,          -- 2026-11
    zone_name     TEXT NOT NULL,          -- as it was that month: zones may be renamed later
    score         REAL,                   -- NULL: not rated (no inspection that month)
    rank          INTEGER,
    inspections   INTEGER NOT NULL,
    inspection_mean REAL,
    overdue       INTEGER NOT NULL,
    penalty       REAL NOT NULL,
    indicators    TEXT NOT NULL,          -- JSON: on-time acceptance, rectification, …
    computed_at   TEXT NOT NULL,
    PRIMARY KEY (community_id, zone_id, month)
);
CREATE INDEX monthly_scores_by_month ON monthly_scores (community_id, month);

-- Talks (约谈), penalties, awards and criticism: what the rules decided, when.
CREATE TABLE consequences (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    zone_id      INTEGER NOT NULL REFERENCES zones(id),
    kind         TEXT NOT NULL,           -- talk | penalty | quarterly_penalty | award | criticism
    period       TEXT NOT NULL,           -- 2026-11 | 2026-Q4 | 2026
    level        INTEGER,                 -- award level 1/2/3
    value        REAL,                    -- the score or average that decided it
    ticket_id    INTEGER REFERENCES tickets(id),
    decided_at   TEXT NOT NULL,
    UNIQUE (community_id, zone_id, kind, period)
);

CREATE TABLE ratings (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,         -- household | shop
    name           TEXT NOT NULL,         -- e.g. 3号楼2单元501 王家 / 李记早餐店
    zone_id        INTEGER REFERENCES zones(id),
    month          TEXT NOT NULL,
    status         TEXT NOT NULL,         -- nominated | verified | notice | published | withdrawn
    nominated_by   INTEGER NOT NULL REFERENCES people(id),
    self_applied   INTEGER NOT NULL DEFAULT 0,
    verified_by    INTEGER REFERENCES people(id),
    notice_until   TEXT,
    published_at   TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (community_id, kind, name, month)
);
CREATE INDEX ratings_by_status ON ratings (status, notice_until);

CREATE TABLE rating_objections (
    id          INTEGER PRIMARY KEY,
    rating_id   INTEGER NOT NULL REFERENCES ratings(id) ON DELETE CASCADE,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (rating_id, person_id)
);

-- 门前三包: a shop's pledge for cleanliness, order and greenery in front of its door.
CREATE TABLE shop_pledges (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    site_id      INTEGER NOT NULL REFERENCES sites(id),
    signed_by    TEXT NOT NULL,
    signed_at    TEXT NOT NULL,
    recorded_by  INTEGER NOT NULL REFERENCES people(id),
    PRIMARY KEY (community_id, site_id)
);
