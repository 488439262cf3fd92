-- Imaging in (docs/imaging.md): DICOM instances stored de-identified, one imaging item per
-- series (the item's content is the series' volume as NIfTI once it builds); the link from a
-- series back to its original patient and study, encrypted, for data stewards only; and the
-- masks readers draw on an item's volume (one row per version, each reader's kept apart; a
-- label with evidence kind "mask" names the version it rests on).
-- (Numbered 0007: 0006 is taken by the pre-labels branch.)

CREATE TABLE dicom_instances (
  project_id        TEXT    NOT NULL REFERENCES projects (id),
  sop_instance_uid  TEXT    NOT NULL,  -- pseudonymous, as de-identification made it
  item_id           TEXT    NOT NULL REFERENCES items (id),
  series_uid        TEXT    NOT NULL,
  study_uid         TEXT    NOT NULL,
  blob              TEXT    NOT NULL,  -- the de-identified Part 10 file, encrypted
  bytes             INTEGER NOT NULL CHECK (bytes >= 0),
  created_at        INTEGER NOT NULL,
  PRIMARY KEY (project_id, sop_instance_uid)
) STRICT;
CREATE INDEX dicom_instances_by_series ON dicom_instances (project_id, series_uid, item_id);
CREATE INDEX dicom_instances_by_item ON dicom_instances (item_id, sop_instance_uid);

-- Original Patient ID (with issuer) and Study Instance UID of a series item, as an encrypted
-- JSON blob under a key of the project (never in clear in the database).
CREATE TABLE reidentification_links (
  item_id    TEXT    PRIMARY KEY REFERENCES items (id),
  project_id TEXT    NOT NULL REFERENCES projects (id),
  blob       TEXT    NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE item_masks (
  id            TEXT    PRIMARY KEY,
  item_id       TEXT    NOT NULL REFERENCES items (id),
  project_id    TEXT    NOT NULL REFERENCES projects (id),
  author        TEXT    NOT NULL,  -- user id, as annotations.author
  version       INTEGER NOT NULL CHECK (version >= 1),
  blob          TEXT    NOT NULL,  -- CompressLabelMap output, encrypted
  bytes         INTEGER NOT NULL CHECK (bytes >= 0),
  created_at    INTEGER NOT NULL,
  UNIQUE (item_id, author, version)
) STRICT;
