-- Notifications enqueued at most once per key: the expiry sweep writes one key per record and
-- expiry date (`expiring:approval:<id>:<expires_at>`), in the transaction that enqueues its
-- rows, so a second sweep (after a restart, or by another server on the same database)
-- finds the key taken and enqueues nothing. Delivery state, like the outbox: not audited.

CREATE TABLE outbox_once (
    key        TEXT PRIMARY KEY NOT NULL,
    event_id   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
