-- PostgreSQL gets statistics on tickets (community_id, status) under this number (see
-- postgresql/023_ticket_statistics.sql). SQLite's planner already reads a community's
-- open tickets through tickets_by_community_status: nothing to change here.
SELECT 1;
