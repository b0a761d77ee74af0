-- Questions the bot asked, with a typed payload as JSON (bot/domain/prompts.py) instead
-- of the "a:b:c" strings pending_inputs held. A PostgreSQL database starts at this version
-- (an SQLite deployment moves over with `jiayuan migrate --to`, which copies prompts), so
-- pending_inputs never held anything here to carry over.
CREATE TABLE prompts (
    person_id  BIGINT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    kind       TEXT COLLATE "C" NOT NULL,
    payload    TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    expires_at TEXT COLLATE "C" NOT NULL
);

DROP TABLE pending_inputs;
