-- A rejection names its reason as a code (docs/workflow.md, "Reason codes"); `reason` keeps the
-- reviewer's free-text note. Every rejection has a code and nothing else has one: triggers
-- hold that (a CHECK added by ALTER TABLE would be tested against the rows before they are
-- mapped below).
--
-- Rejections stored before this migration held the code in `reason`, as the web app wrote it
-- ("code" or "code: note", with the app's earlier codes), or free text from other clients. The
-- earlier codes map to the new ones and leave the note; free text becomes `other` with the text
-- as its note.

ALTER TABLE reviews ADD COLUMN reject_reason TEXT NOT NULL DEFAULT '';

UPDATE reviews SET reject_reason =
    CASE (CASE WHEN instr(reason, ': ') > 0 THEN substr(reason, 1, instr(reason, ': ') - 1) ELSE reason END)
      WHEN 'wrong_class' THEN 'wrong_class'
      WHEN 'wrong_evidence' THEN 'insufficient_evidence'
      WHEN 'incomplete' THEN 'missed_finding'
      WHEN 'guideline_violation' THEN 'guideline_not_followed'
      WHEN 'low_quality' THEN 'boundary_inaccurate'
      ELSE 'other'
    END
  WHERE decision = 'reject';

UPDATE reviews SET reason = CASE WHEN instr(reason, ': ') > 0 THEN substr(reason, instr(reason, ': ') + 2) ELSE '' END
  WHERE decision = 'reject' AND reject_reason != 'other';

CREATE TRIGGER reviews_reject_reason_insert BEFORE INSERT ON reviews
  WHEN (NEW.decision = 'reject') != (NEW.reject_reason != '')
BEGIN
  SELECT RAISE(ABORT, 'reviews.reject_reason: a rejection, and only a rejection, has a reason code');
END;

CREATE TRIGGER reviews_reject_reason_update BEFORE UPDATE OF decision, reject_reason ON reviews
  WHEN (NEW.decision = 'reject') != (NEW.reject_reason != '')
BEGIN
  SELECT RAISE(ABORT, 'reviews.reject_reason: a rejection, and only a rejection, has a reason code');
END;
