-- How each project de-identifies DICOM before it is stored (docs/deid-dicom.md): the PS3.15
-- options, safe private elements and pixel blanking rules, in the words of `caliper deid
-- dicom` (JSON arrays of strings). A project without a row uses the Basic Profile alone. A
-- change applies to uploads from then on; stored instances keep their form.

CREATE TABLE dicom_settings (
  project_id   TEXT    PRIMARY KEY REFERENCES projects (id),
  options      TEXT    NOT NULL CHECK (json_valid(options) AND json_type(options) = 'array'),
  safe_private TEXT    NOT NULL CHECK (json_valid(safe_private) AND json_type(safe_private) = 'array'),
  blanking     TEXT    NOT NULL CHECK (json_valid(blanking) AND json_type(blanking) = 'array'),
  updated_at   INTEGER NOT NULL
) STRICT;
