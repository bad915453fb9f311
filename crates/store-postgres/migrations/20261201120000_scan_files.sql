-- A recorded scan's files as child rows, written in audited batches: the scan (`scans`) is
-- a header; each batch of its files is one `scan_batches` record, audited, holding the
-- digest of its rows, and the rows are in `scan_files`, keyed for paging (scan, seq).
-- Scans recorded before this keep their files in their own body and are read as they are.

CREATE TABLE scan_batches (
    id      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    scan_id TEXT COLLATE "C" NOT NULL REFERENCES scans (id),
    body    TEXT NOT NULL
);
CREATE INDEX scan_batches_by_scan ON scan_batches (scan_id, id);

CREATE TABLE scan_files (
    scan_id TEXT COLLATE "C" NOT NULL REFERENCES scans (id),
    seq     BIGINT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (scan_id, seq)
);
