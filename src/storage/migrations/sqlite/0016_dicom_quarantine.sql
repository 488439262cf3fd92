-- Quarantine for pixel review (docs/deid-dicom.md): DICOM instances whose pixels may carry
-- burned-in identifiers (Burned In Annotation = YES, ultrasound, secondary capture, ...) and that
-- no blanking rule cleaned. Each is de-identified in its headers and kept encrypted (with its
-- series' re-identification link) apart from every item, until a data steward releases it into
-- its series, blanks rectangles and releases it, or discards it. A decided row keeps who, when,
-- why and the rectangles; its blobs are gone ('').

CREATE TABLE dicom_quarantine (
  id               TEXT    PRIMARY KEY,
  project_id       TEXT    NOT NULL REFERENCES projects (id),
  sop_instance_uid TEXT    NOT NULL,  -- pseudonymous, as de-identification made it
  series_uid       TEXT    NOT NULL,
  study_uid        TEXT    NOT NULL,
  modality         TEXT    NOT NULL,
  patient_key      TEXT    NOT NULL,  -- pseudonymous
  cohort_json      TEXT    NOT NULL CHECK (json_valid(cohort_json)),
  reasons          TEXT    NOT NULL CHECK (json_valid(reasons) AND json_type(reasons) = 'array'),
  blob             TEXT    NOT NULL,  -- the de-identified Part 10 file, encrypted; '' once decided
  link_blob        TEXT    NOT NULL,  -- the re-identification link, encrypted; '' once decided
  bytes            INTEGER NOT NULL CHECK (bytes >= 0),
  status           TEXT    NOT NULL CHECK (status IN ('pending', 'released', 'blanked', 'discarded')),
  created_at       INTEGER NOT NULL,
  created_by       TEXT    NOT NULL,
  decided_at       INTEGER,
  decided_by       TEXT    NOT NULL,
  reason           TEXT    NOT NULL,
  rects            TEXT    NOT NULL CHECK (json_valid(rects) AND json_type(rects) = 'array'),
  item_id          TEXT    NOT NULL,  -- released, blanked: the series item; else ''
  CHECK ((status = 'pending') = (decided_at IS NULL)),
  CHECK (status = 'pending' OR (blob = '' AND link_blob = ''))
) STRICT;
CREATE INDEX dicom_quarantine_by_project ON dicom_quarantine (project_id, status, id);
CREATE UNIQUE INDEX dicom_quarantine_one_pending ON dicom_quarantine (project_id, sop_instance_uid)
  WHERE status = 'pending';
