-- Several bots over one database: a city runs one bot per sub-district (Telegram's
-- sending limits are per bot). Each community is bound to one bot (NULL: not yet bound;
-- the first bot to start adopts it), and what belongs to a bot's conversation with
-- Telegram carries its id: update ids, chats and the outbox are per bot. 0 is the bot of
-- a database written before this migration, adopted the same way.
ALTER TABLE communities ADD COLUMN bot_id BIGINT;
CREATE INDEX communities_by_bot ON communities (bot_id);

ALTER TABLE outbox ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_bot ON outbox (bot_id, status, not_before);

-- Update ids are counted per bot: the same number from two bots is two updates.
ALTER TABLE processed_updates ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE processed_updates DROP CONSTRAINT processed_updates_pkey;
ALTER TABLE processed_updates ADD PRIMARY KEY (bot_id, update_id);

ALTER TABLE inbox ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inbox DROP CONSTRAINT inbox_update_id_key;
ALTER TABLE inbox ADD UNIQUE (bot_id, update_id);
DROP INDEX inbox_claim;
CREATE INDEX inbox_claim ON inbox (bot_id, state, chat_key, id);

-- A group may hold two of a city's bots, each bound to a community of its own.
ALTER TABLE group_chats ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE group_chats DROP CONSTRAINT group_chats_pkey;
ALTER TABLE group_chats ADD PRIMARY KEY (bot_id, chat_id);
