-- The planner takes a ticket's community and status as independent, so for "a
-- community's open tickets" (the admins' /tickets, the duplicate check, digests) it ANDed
-- three bitmap indexes, reading tens of thousands of entries for a few hundred rows,
-- instead of tickets_by_community_status. Statistics on the pair let it see that a
-- community's open tickets are few (bench/BENCHMARKS.md § 3b: admin /tickets p50 40 →
-- 13 ms at district scale). ANALYZE makes them count from the start, not from the next
-- autovacuum.
CREATE STATISTICS tickets_community_status (dependencies, mcv) ON community_id, status
    FROM tickets;
ANALYZE tickets;
