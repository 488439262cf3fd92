-- Whole-slide images (docs/pathology.md): a slide is stored as its own Deep Zoom pyramid, one
-- encrypted JPEG blob per tile (the original file is never kept); and the viewer sessions a
-- reader opens to fetch tiles (a tile is served only inside a live session of its user on its
-- item).

CREATE TABLE slide_tiles (
  item_id  TEXT    NOT NULL REFERENCES items (id),
  level    INTEGER NOT NULL CHECK (level >= 0),  -- Deep Zoom level
  col      INTEGER NOT NULL CHECK (col >= 0),
  row      INTEGER NOT NULL CHECK (row >= 0),
  blob     TEXT    NOT NULL,  -- the JPEG tile, encrypted under the item's data key
  bytes    INTEGER NOT NULL CHECK (bytes >= 0),
  PRIMARY KEY (item_id, level, col, row)
) STRICT, WITHOUT ROWID;

CREATE TABLE slide_views (
  id          TEXT    PRIMARY KEY,
  item_id     TEXT    NOT NULL REFERENCES items (id),
  user_id     TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) STRICT;
