-- The outbox: notifications (e-mail, webhooks) waiting to be delivered, written in the same
-- transaction as the change that caused them. Delivery state, not records: not audited, never
-- deleted. `next_at` and `leased_until` are milliseconds since 1970 (UTC); a worker claims a
-- due row by setting its lease, and only the lease's holder settles it.

CREATE TABLE outbox (
    id            TEXT PRIMARY KEY NOT NULL,
    event_id      TEXT NOT NULL,
    event         TEXT NOT NULL,
    channel       TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    production_id TEXT NOT NULL REFERENCES productions (id),
    body          TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    next_at       BIGINT NOT NULL,
    created_at    TEXT NOT NULL,
    lease         TEXT,
    leased_until  BIGINT,
    last_error    TEXT,
    sent_at       TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_at);
CREATE INDEX outbox_by_status ON outbox (status, id);
