-- Leader digests at district scale (bench/bench_database.py): a community's period must be
-- an index range, not the whole district's events joined to their tickets.

-- A copy of tickets.community_id, which never changes; no REFERENCES: the ticket's own
-- foreign key already ties the event to its community and cascades its deletion.
ALTER TABLE ticket_events ADD COLUMN community_id BIGINT;
UPDATE ticket_events SET community_id =
    (SELECT t.community_id FROM tickets t WHERE t.id = ticket_events.ticket_id);
CREATE INDEX ticket_events_by_community_at ON ticket_events (community_id, at);
-- Its only reader was the digest's district-wide count, replaced by the index above.
DROP INDEX ticket_events_by_at;

-- The weekly per-zone trend: tickets created, and tickets closed, in the period.
CREATE INDEX tickets_by_community_created ON tickets (community_id, created_at);
CREATE INDEX tickets_by_community_closed ON tickets (community_id, closed_at);
