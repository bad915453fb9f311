-- Files stamped with an approval in their Content Credentials: one record per stamped file
-- (the file, its sha256 before and after, the sidecar, the signer), keyed under the approval,
-- audited like every record.

CREATE TABLE stamps (
    id          TEXT PRIMARY KEY NOT NULL,
    approval_id TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX stamps_by_approval ON stamps (approval_id, id);
