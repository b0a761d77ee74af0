-- The minute tick reads only the tickets that have something due (bench/bench_database.py:
-- reading every open ticket each minute took seconds at district scale). Each active ticket
-- carries the next instant it needs looking at; NULL means "not known yet: look now", which
-- every transition sets and the tick replaces.
ALTER TABLE tickets ADD COLUMN next_check_at TEXT COLLATE "C";
CREATE INDEX tickets_next_check ON tickets (next_check_at)
    WHERE status IN ('queued', 'assigned', 'accepted', 'rectified');
