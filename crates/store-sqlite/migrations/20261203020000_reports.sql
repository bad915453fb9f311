-- Reports handed over: one record per report, keyed by the sha256 of its bytes, with the
-- production, the report's own id, its format, when it was made and by whom, and the audit
-- log's head at that time in the body, audited like every record.

CREATE TABLE reports (
    id            TEXT PRIMARY KEY NOT NULL,
    production_id TEXT NOT NULL REFERENCES productions (id),
    body          TEXT NOT NULL
);
CREATE INDEX reports_by_production ON reports (production_id, id);
