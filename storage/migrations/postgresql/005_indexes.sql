-- Indexes the district-scale benchmark asked for (bench/BENCHMARKS.md, section 3).

-- The minute tick reads open tickets by deadline.
CREATE INDEX tickets_by_status_due ON tickets (status, due_at);
-- A resident's /my includes the tickets they follow.
CREATE INDEX ticket_supporters_by_person ON ticket_supporters (person_id);
-- Digests count the period's events and the tickets due in it.
CREATE INDEX ticket_events_by_at ON ticket_events (at);
CREATE INDEX tickets_by_community_due ON tickets (community_id, due_at);
