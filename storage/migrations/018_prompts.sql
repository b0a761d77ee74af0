-- Questions the bot asked, with a typed payload as JSON (bot/domain/prompts.py) instead
-- of the "a:b:c" strings pending_inputs held. Questions asked before the upgrade are
-- carried over, so an answer given after it is still understood.
CREATE TABLE prompts (
    person_id  INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    expires_at TEXT NOT NULL
);

INSERT INTO prompts (person_id, kind, payload, expires_at)
SELECT person_id, kind,
    CASE kind
        WHEN 'transfer' THEN json_object(
            'ticket_id', ticket_id,
            'zone_id', CASE WHEN payload GLOB '[1-9]*' AND payload NOT GLOB '*[^0-9]*'
                            THEN CAST(payload AS INTEGER) END)
        WHEN 'reject' THEN json_object('ticket_id', ticket_id, 'reason', payload)
        WHEN 'rectify' THEN json_object('ticket_id', ticket_id)
        WHEN 'reopen' THEN json_object('ticket_id', ticket_id)
        WHEN 'extension_days' THEN json_object('ticket_id', ticket_id)
        WHEN 'extension' THEN json_object(
            'ticket_id', ticket_id, 'days', CAST(payload AS INTEGER))
        WHEN 'checkin' THEN json_object('activity_id', CAST(payload AS INTEGER))
        WHEN 'objection' THEN json_object('rating_id', CAST(payload AS INTEGER))
        WHEN 'inspect_photo' THEN json_object(
            'inspection_id', CAST(substr(payload, 1, instr(payload, ':') - 1) AS INTEGER),
            'site_id', CAST(substr(
                substr(payload, instr(payload, ':') + 1), 1,
                instr(substr(payload, instr(payload, ':') + 1), ':') - 1) AS INTEGER),
            'item_code', substr(
                substr(payload, instr(payload, ':') + 1),
                instr(substr(payload, instr(payload, ':') + 1), ':') + 1))
        ELSE '{}'
    END,
    expires_at
FROM pending_inputs
-- A ticket question without its ticket could never be answered; leave it behind.
WHERE NOT (kind IN ('transfer', 'reject', 'rectify', 'reopen', 'extension_days', 'extension')
           AND ticket_id IS NULL);

DROP TABLE pending_inputs;
