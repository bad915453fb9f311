-- The ledger: one table per kind of record, each (id, parent id, body),
-- the audit log and its signed checkpoints. Never edit an applied migration:
-- add a new one, with the same name in every backend.

CREATE TABLE productions (
    id   TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE tools (
    id   TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE performers (
    id   TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE consents (
    id           TEXT PRIMARY KEY NOT NULL,
    performer_id TEXT NOT NULL REFERENCES performers (id),
    body         TEXT NOT NULL
);
CREATE INDEX consents_by_performer ON consents (performer_id, id);

CREATE TABLE declarations (
    id            TEXT PRIMARY KEY NOT NULL,
    production_id TEXT NOT NULL REFERENCES productions (id),
    body          TEXT NOT NULL
);
CREATE INDEX declarations_by_production ON declarations (production_id, id);

CREATE TABLE declaration_versions (
    id             TEXT PRIMARY KEY NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    body           TEXT NOT NULL
);
CREATE INDEX declaration_versions_by_declaration ON declaration_versions (declaration_id, id);

CREATE TABLE decisions (
    id             TEXT PRIMARY KEY NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    body           TEXT NOT NULL
);
CREATE INDEX decisions_by_declaration ON decisions (declaration_id, id);

CREATE TABLE approvals (
    id             TEXT PRIMARY KEY NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    body           TEXT NOT NULL
);
CREATE INDEX approvals_by_declaration ON approvals (declaration_id, id);

CREATE TABLE notifications (
    id             TEXT PRIMARY KEY NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    body           TEXT NOT NULL
);
CREATE INDEX notifications_by_declaration ON notifications (declaration_id, id);

-- Which registered performers a declaration names: an index rebuilt from the
-- declaration's decision, used to find the decisions a revoked consent affects.
CREATE TABLE declaration_performers (
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    performer_id   TEXT NOT NULL REFERENCES performers (id),
    PRIMARY KEY (declaration_id, performer_id)
);
CREATE INDEX declaration_performers_by_performer ON declaration_performers (performer_id);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    before_body TEXT,
    after_body  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE TABLE audit_checkpoints (
    seq       INTEGER PRIMARY KEY NOT NULL,
    hash      TEXT NOT NULL,
    at        TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
