-- Protected reference images for the near-copy check: one record per image and label, its
-- perceptual hashes (label, source path, file sha256, and per variant the hash and quality)
-- in the body, audited like every record.

CREATE TABLE image_references (
    id    TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    body  TEXT NOT NULL
);
CREATE INDEX image_references_by_label ON image_references (label, id);
