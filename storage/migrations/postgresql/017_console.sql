-- The office console: one-time login links sent in Telegram, and the browser sessions
-- they open. Only SHA-256 hashes of the secrets are stored.
CREATE TABLE console_logins (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    used_at     TEXT COLLATE "C"
);

CREATE TABLE console_sessions (
    id_hash     TEXT COLLATE "C" PRIMARY KEY,
    person_id   BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at  TEXT COLLATE "C" NOT NULL,
    expires_at  TEXT COLLATE "C" NOT NULL,
    revoked_at  TEXT COLLATE "C"
);
CREATE INDEX console_sessions_by_person ON console_sessions (person_id);
