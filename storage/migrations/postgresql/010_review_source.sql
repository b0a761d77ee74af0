-- The monthly review's zone tickets were filed as 'inspection'; digests count tickets by
-- source, so they get their own. They are the tickets the review keyed by 'talk:'.
UPDATE tickets SET source = 'review' WHERE origin_key LIKE 'talk:%' AND source = 'inspection';
