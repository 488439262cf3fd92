-- The calling AE titles that may send instances to the C-STORE receiver, per project
-- (docs/imaging.md, "C-STORE receiver"). A title (trimmed, as compared) belongs to one project
-- only, so the receiver knows where an instance goes.

CREATE TABLE dicom_sources (
  ae_title    TEXT    PRIMARY KEY CHECK (length(ae_title) BETWEEN 1 AND 16),
  project_id  TEXT    NOT NULL REFERENCES projects (id),
  description TEXT    NOT NULL,  -- e.g. "CT scanner, room 3"; may be empty
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX dicom_sources_by_project ON dicom_sources (project_id, ae_title);
