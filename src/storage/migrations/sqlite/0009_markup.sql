-- Per-reader, versioned markup drawn on an item as JSON (docs/pathology.md): a slide's regions
-- (W3C Web Annotations, kind "regions") and a waveform's interval and beat labels (kind
-- "intervals"). Like item_masks: one row per version, each reader's kept apart, the JSON
-- document encrypted under the item's data key.

CREATE TABLE item_markup (
  id          TEXT    PRIMARY KEY,
  item_id     TEXT    NOT NULL REFERENCES items (id),
  project_id  TEXT    NOT NULL REFERENCES projects (id),
  author      TEXT    NOT NULL,  -- user id, as annotations.author
  kind        TEXT    NOT NULL CHECK (kind IN ('regions', 'intervals')),
  version     INTEGER NOT NULL CHECK (version >= 1),
  blob        TEXT    NOT NULL,  -- the JSON document, encrypted
  bytes       INTEGER NOT NULL CHECK (bytes >= 0),
  created_at  INTEGER NOT NULL,
  UNIQUE (item_id, author, kind, version)
) STRICT;
