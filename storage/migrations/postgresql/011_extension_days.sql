-- The working days a cadre asked for with an extension (延期), shown to the leader and used
-- when it is granted; NULL when nothing is pending (or for requests made before it existed:
-- those are granted the community's rectify period, as before).
ALTER TABLE tickets ADD COLUMN extension_days BIGINT;
