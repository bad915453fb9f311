-- Recorded delivery scans: what was scanned, by which scanner, and how each
-- AI-flagged file stood against the production's approvals.

CREATE TABLE scans (
    id            TEXT PRIMARY KEY NOT NULL,
    production_id TEXT NOT NULL REFERENCES productions (id),
    body          TEXT NOT NULL
);
CREATE INDEX scans_by_production ON scans (production_id, id);
