-- The sending budget shared by every process of a bot (bot/notify/budget.py): per key (the
-- whole bot, one chat) the earliest instant, in seconds of the database's clock, at which
-- the next message may go. Every process reads one clock: the server's.
CREATE TABLE send_slots (
    key      TEXT COLLATE "C" PRIMARY KEY,
    next_at  DOUBLE PRECISION NOT NULL
);
