-- The sending budget shared by every process of a bot (bot/notify/budget.py): per key (the
-- whole bot, one chat) the earliest instant, in seconds of the database's clock, at which
-- the next message may go. One process on SQLite paces in memory; the table is here so
-- both backends keep one schema.
CREATE TABLE send_slots (
    key      TEXT PRIMARY KEY,
    next_at  REAL NOT NULL
);
