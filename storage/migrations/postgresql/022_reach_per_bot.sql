-- Whether a message reaches a person is a fact about one bot: a resident who blocks one
-- bot of a city can still be reached by the others. A row: this bot's message to this
-- person was refused (they blocked it, or never started it), until they write to it again.
CREATE TABLE unreachable_people (
    bot_id    BIGINT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    PRIMARY KEY (bot_id, person_id)
);
-- Until now one refusal counted for every bot: it still does, for each bot bound so far,
-- and for bot 0, which the next bot to start adopts (storage/bots.py).
INSERT INTO unreachable_people (bot_id, person_id)
    SELECT b.bot_id, p.id FROM people p
    CROSS JOIN (SELECT DISTINCT bot_id FROM communities WHERE bot_id IS NOT NULL
                UNION SELECT 0) b
    WHERE p.reachable = 0;
ALTER TABLE people DROP COLUMN reachable;
