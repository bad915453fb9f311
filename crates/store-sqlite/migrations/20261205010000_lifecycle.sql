-- A reviewer's request for changes to a declaration's version (an audited record, keyed under
-- the declaration), and drafts of the declare form: each person's own, kept as typed. Drafts
-- are not records of decisions: not audited, deleted when submitted or discarded.

CREATE TABLE change_requests (
    id             TEXT PRIMARY KEY NOT NULL,
    declaration_id TEXT NOT NULL REFERENCES declarations (id),
    body           TEXT NOT NULL
);
CREATE INDEX change_requests_by_declaration ON change_requests (declaration_id, id);

CREATE TABLE drafts (
    id             TEXT PRIMARY KEY NOT NULL,
    author         TEXT NOT NULL,
    declaration_id TEXT,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX drafts_by_author ON drafts (author, id);
