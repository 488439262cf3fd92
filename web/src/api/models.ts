// The shapes the API answers with. The OpenAPI document types paths, parameters and request
// bodies (src/api/generated, from `caliper openapi`); it has no response schemas yet, so the
// responses are written here after the renderers in src/http/route.cpp (UserJson, TaskJson...).
// `ResponseOf` ties each to its path, and a path the server no longer has fails the type check.

import type { paths } from './generated/openapi';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  is_admin: boolean;
  disabled: boolean;
  must_change_password: boolean;
  locked_until: string | null;
  qualifications: string[];
  created_at: string;
}

export interface SessionInfo {
  user: User;
  idle_timeout_seconds: number;
  idle_warning_seconds: number;
  csrf_token?: string;
  expires_at?: string;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  created_at: string;
  created_by: string;
}

export type Role = 'manager' | 'annotator' | 'reviewer' | 'adjudicator' | 'auditor' | 'data_steward';
export const kRoles: Role[] = ['manager', 'annotator', 'reviewer', 'adjudicator', 'auditor', 'data_steward'];
export const kDataTypes = ['imaging', 'pathology', 'notes', 'labs', 'waveforms'] as const;
export const kQualifications = ['radiologist', 'pathologist', 'clinician', 'general_annotator'] as const;

export interface Membership {
  project_id: string;
  user_id: string;
  roles: Role[];
  scopes: string[];
  created_at: string;
}

export interface Item {
  id: string;
  project_id: string;
  data_type: string;
  modality: string;
  patient_key: string;
  cohort: Record<string, unknown>;
  content_type: string;
  content_bytes: number;
  created_at: string;
}

export type TaskState =
  | 'open' | 'claimed' | 'submitted' | 'in_review' | 'accepted' | 'rejected' | 'escalated' | 'adjudicated';
export const kTaskStates: TaskState[] =
  ['open', 'claimed', 'submitted', 'in_review', 'accepted', 'rejected', 'escalated', 'adjudicated'];

export interface Task {
  id: string;
  project_id: string;
  item_id: string;
  assignee: string;
  state: TaskState;
  lease_expires_at: string | null;
  revision: number;
  created_at: string;
  updated_at: string;
}

export type Assertion = 'present' | 'absent' | 'possible' | 'conditional' | 'hypothetical';
export const kAssertions: Assertion[] = ['present', 'absent', 'possible', 'conditional', 'hypothetical'];
// The context of a finding in a note (docs/spans.md).
export type Temporality = 'current' | 'historical' | 'future';
export const kTemporalities: Temporality[] = ['current', 'historical', 'future'];
export type Experiencer = 'patient' | 'family' | 'other';
export const kExperiencers: Experiencer[] = ['patient', 'family', 'other'];
export interface LabelContext { temporality: Temporality; experiencer: Experiencer }

// What a label is made of when it is sent (POST/PUT annotations, review corrections,
// adjudications). A type alias (not an interface), so it is a JSON object for the generated
// request types.
export type LabelBody = {
  evidence: { kind: string; data?: Record<string, unknown> };
  label: { class: string; code_system?: string; code?: string };
  uncertainty?: { confidence?: number | null; assertion?: Assertion };
  context?: Partial<LabelContext>;
  guideline_version_id?: string;
};

export interface Annotation {
  id: string;
  item_id: string;
  project_id: string;
  author: string;
  guideline_version_id: string;
  evidence: { kind: string; data: Record<string, unknown> };
  label: { class: string; code_system: string; code: string };
  uncertainty: { confidence: number | null; assertion: Assertion };
  context: LabelContext;
  status: string;
  origin: string;
  revision: number;
  created_at: string;
  updated_at: string;
  // Delayed ground truth (docs/workflow.md): null unless the class needs confirmation.
  truth?: { status: 'provisional' | 'confirmed' | 'refuted' | 'unconfirmed'; outcome_id: string | null } | null;
}

// PUT /items/{item_id}/mask (src/http/routes/imaging_routes.cpp): the stored version.
export interface MaskVersion {
  id: string;
  item_id: string;
  version: number;
  bytes: number;
  labels: number[];
  created_at: string;
}

export interface CodeBinding { system: string; code: string; display?: string }
export interface LabelClass {
  id: string;
  name: string;
  kind: string;
  codes?: CodeBinding[];
  data_types?: string[];
  modalities?: string[];
  definition?: string;
  inclusion_criteria?: string[];
  exclusion_criteria?: string[];
  examples?: { item_id: string; polarity: string; note?: string }[];
  edge_cases?: string[];
  confidence_scale?: { kind: 'probability' | 'likert'; levels?: string[] };
  evidence_sources?: string[];
  resolver_role?: string;
  required_qualification?: string;
  terms?: string[];
  // The context values the class allows (all when absent).
  context_attributes?: { assertion?: Assertion[]; temporality?: Temporality[]; experiencer?: Experiencer[] };
}

export interface Guideline {
  id: string;
  project_id: string;
  version: number | null;
  status: 'draft' | 'published';
  schema: { classes: LabelClass[] };
  based_on: string | null;
  revision: number;
  created_at: string;
  created_by: string;
  published_at: string | null;
}

// The reason codes of a rejection, as the server's OpenAPI document lists them (an enum).
type ReviewBody = paths['/api/v1/projects/{project_id}/tasks/{task_id}/reviews']['post']['requestBody'];
export type RejectReasonCode = NonNullable<NonNullable<ReviewBody>['content']['application/json']['reason_code']>;

// What each reason code means to a reader and a reviewer (docs/workflow.md, "Reason codes"), in
// the order offered. A Record: a code the server adds or drops fails the type check here.
export const kRejectReasonText: Record<RejectReasonCode, string> = {
  wrong_class: 'Wrong class',
  boundary_inaccurate: 'Boundary or span inaccurate',
  missed_finding: 'A finding was missed',
  insufficient_evidence: 'The evidence does not support the label',
  guideline_not_followed: 'The guideline was not followed',
  data_quality: 'The item cannot be read this way (data quality)',
  other: 'Other (say what in the note)',
};

export interface Review {
  id: string;
  task_id: string;
  annotation_id: string | null;
  reviewer: string;
  decision: 'accept' | 'correct' | 'reject' | 'escalate';
  reason_code: RejectReasonCode | null;  // set exactly for a rejection
  reason: string;  // the reviewer's note
  corrected_annotation_id: string | null;
  created_at: string;
}

export interface Reading {
  task: Task;
  reader: string;
  annotations: Annotation[];
  reviews: Review[];
}

// GET /items/{item_id}/readings: per class the disagreement of the submitted readings and the
// fused suggestion (Dawid–Skene posterior that the class is present), and the triggers that fired.
export interface ClassDisagreement {
  label_class: string;
  readings: number;
  naming: number;
  posterior: number | null;
  grade_distance: number | null;
  min_dice: number | null;
  min_span_f1: number | null;
  min_confidence: number | null;
}
export interface AdjudicationTrigger { label_class: string; reason: string; detail: string; created_at: string }
export interface ItemReadings { data: Reading[]; classes: ClassDisagreement[]; triggers: AdjudicationTrigger[] }

// The X-Caliper-Fusion header of GET /items/{item_id}/fused-mask: the STAPLE fit.
export interface MaskFusion {
  method: string;
  labels: number[];
  priors: number[];
  iterations: number;
  converged: boolean;
  readers: { task_id: string; reader: string; version: number; agreement: Record<string, number> }[];
}

export interface Adjudication {
  id: string;
  item_id: string;
  adjudicator: string;
  source_annotation_id: string | null;
  final_annotation_id: string;
  rationale: string;
  created_at: string;
}

export interface AuditEvent {
  seq: number;
  time: string;
  actor: string;
  session_id: string;
  source_address: string;
  action: string;
  object_type: string;
  object_id: string;
  outcome: string;
  details: unknown;
  prev_hash: string;
  hash: string;
}

export interface AuditVerification {
  ok: boolean;
  events: number;
  checkpoints_checked: number;
  first_bad_seq: number;
  problem: string;
}

export interface ApiToken {
  id: string;
  name: string;
  user_id: string;
  project_id: string;
  permissions: string[];
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

// GET /items/{item_id}/note (src/http/routes/note_routes.cpp): a note stored by notes ingest, with
// every tag or surrogate the de-identification put in it (code points).
export interface NoteText {
  item: Item;
  text: string;
  chars: number;
  offsets: 'unicode_code_points';
  phi: { start: number; end: number; type: string }[];
  deid: { mode: string; edition: string };
}

// One lab result (src/app/labs.cpp; docs/labs.md): a labs item made by labs ingest holds
// {"results": LabResult[]} as its content; GET /items/{item_id}/labs answers every result of the
// item's patient (each with the labs item it is in), by time. Times are shifted like the
// patient's note dates; `flag` is against the reference range, `normalised` the value in its
// analyte's unit (null when no conversion is known).
export interface LabResult {
  time: string;
  loinc: string;
  name: string;
  value: number | null;
  value_text: string;
  unit: string;
  ref_low: number | null;
  ref_high: number | null;
  flag: 'low' | 'high' | null;
  normalised: { value: number; unit: string; analyte: string } | null;
  item_id?: string;
}
export interface PatientLabs {
  patient_key: string;
  results: LabResult[];
}

// AI pre-labels (src/http/route.cpp PrelabelJson; docs/workflow.md "AI pre-labels"). `status`
// is the caller's own decision (readers see only theirs) or "pending".
export type PrelabelStatus = 'pending' | 'accepted' | 'corrected' | 'rejected';
export interface PrelabelDecision {
  id: string;
  prelabel_id: string;
  item_id: string;
  reader: string;
  task_id: string;
  status: PrelabelStatus;
  annotation_id: string | null;
  correction_size: number | null;
  reason: string;
  decided_at: string;
}
export interface Prelabel {
  id: string;
  project_id: string;
  item_id: string;
  model: { name: string; version: string };
  guideline_version_id: string;
  evidence: { kind: string; data: Record<string, unknown> };
  label: { class: string; code_system: string; code: string };
  assertion: Assertion;
  attributes: Record<string, unknown>;
  score: number | null;
  scores: Record<string, number>;
  created_at: string;
  created_by: string;
  status: PrelabelStatus;
  decisions: PrelabelDecision[];
}

// A dataset export (src/http/routes/export_routes.cpp ExportJson; docs/export.md).
export type ExportStatus = 'requested' | 'approved' | 'denied' | 'built' | 'failed';
export interface DatasetExport {
  id: string;
  project_id: string;
  version: number;
  reason: string;
  spec: Record<string, unknown>;
  status: ExportStatus;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string;
  build_started_at: string | null;  // when the current (or last) build began
  build_renewed_at: string | null;  // when that build last renewed its lease (it does while it runs)
  snapshot_bytes: number;
  manifest_sha256: string | null;
  error: string | null;
}

// ---- DICOM: de-identification settings, quarantine (src/http/routes/imaging_routes.cpp; docs/deid-dicom.md)

export interface DicomSettings {
  project_id: string;
  options: string[];       // canonical names: retain-dates, clean-descriptors, ...
  safe_private: string[];  // CREATOR:GGGG:EE
  blanking: string[];      // MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H
  updated_at: string | null;
}

// A calling AE title the C-STORE receiver takes instances from for a project. A type alias, so
// it is a JSON object for the generated request types.
export type DicomSource = { ae_title: string; description: string };
// GET/PUT /projects/{id}/dicom-sources; `receiver` is this server's C-STORE receiver as
// configured (dicom_scp.listen, "" when it is off; dicom_scp.ae_title).
export interface DicomSources { sources: DicomSource[]; receiver: { listen: string; ae_title: string } }

export type QuarantineStatus = 'pending' | 'released' | 'blanked' | 'discarded';
// A rectangle in a frame's pixels (columns, rows from the top left). A type alias, so it is a
// JSON object for the generated request types.
export type PixelRect = { x: number; y: number; width: number; height: number };
// A DICOM instance held for pixel review (QuarantinedJson); decided ones keep who, when, why,
// the rectangles and the item it went to.
export interface QuarantinedInstance {
  id: string;
  project_id: string;
  status: QuarantineStatus;
  sop_instance_uid: string;
  series_uid: string;
  study_uid: string;
  modality: string;
  reasons: string[];
  bytes: number;
  created_at: string;
  created_by: string;
  decided_at: string | null;
  decided_by: string | null;
  reason: string;
  rects: PixelRect[];
  item_id: string | null;
}

// ---- responses by method and path --------------------------------------------------------------

interface GetResponses {
  '/api/v1/auth/session': SessionInfo;
  '/api/v1/projects': Page<Project>;
  '/api/v1/projects/{project_id}': Project;
  '/api/v1/projects/{project_id}/members': Page<Membership>;
  '/api/v1/projects/{project_id}/items': Page<Item>;
  '/api/v1/projects/{project_id}/guidelines': Page<Guideline>;
  '/api/v1/projects/{project_id}/tasks': Page<Task>;
  '/api/v1/projects/{project_id}/tasks/{task_id}': Task;
  '/api/v1/projects/{project_id}/tasks/{task_id}/reviews': { data: Review[] };
  '/api/v1/items/{item_id}': Item;
  '/api/v1/items/{item_id}/annotations': Page<Annotation>;
  '/api/v1/items/{item_id}/readings': ItemReadings;
  '/api/v1/users': Page<User>;
  '/api/v1/audit/verify': AuditVerification;
  '/api/v1/audit/events': { data: AuditEvent[] };
  '/api/v1/me/tokens': Page<ApiToken>;
  '/api/v1/projects/{project_id}/quality': ProjectQuality;
  '/api/v1/items/{item_id}/qa': { data: QaFinding[] };
  '/api/v1/items/{item_id}/slide': SlideInfo;
  '/api/v1/items/{item_id}/regions': Regions;
  '/api/v1/items/{item_id}/waveform': WaveformInfo;
  '/api/v1/items/{item_id}/waveform/samples': WaveformSamples;
  '/api/v1/items/{item_id}/waveform/annotations': ReferenceBeat[];
  '/api/v1/items/{item_id}/intervals': Intervals;
  '/api/v1/items/{item_id}/note': NoteText;
  '/api/v1/items/{item_id}/labs': PatientLabs;
  '/api/v1/items/{item_id}/prelabels': { data: Prelabel[] };
  '/api/v1/projects/{project_id}/exports': Page<DatasetExport>;
  '/api/v1/projects/{project_id}/exports/{export_id}': DatasetExport;
  '/api/v1/projects/{project_id}/dicom-settings': DicomSettings;
  '/api/v1/projects/{project_id}/dicom-sources': DicomSources;
  '/api/v1/projects/{project_id}/quarantine': Page<QuarantinedInstance> & { pending: number };
  '/api/v1/projects/{project_id}/quarantine/{quarantine_id}': QuarantinedInstance;
}

interface PostResponses {
  '/api/v1/auth/login': SessionInfo;
  '/api/v1/auth/logout': void;
  '/api/v1/me/password': void;
  '/api/v1/projects/{project_id}/tasks/next': Task | null;
  '/api/v1/projects/{project_id}/tasks/{task_id}/release': Task;
  '/api/v1/projects/{project_id}/tasks/{task_id}/submit': Task;
  '/api/v1/projects/{project_id}/tasks/{task_id}/reviews': { task: Task; review: Review; correction: Annotation | null };
  '/api/v1/items/{item_id}/annotations': Annotation;
  '/api/v1/items/{item_id}/adjudications': { adjudication: Adjudication; final_label: Annotation; tasks: Task[] };
  '/api/v1/users': User & { one_time_password?: string };
  '/api/v1/users/{user_id}/disable': void;
  '/api/v1/users/{user_id}/enable': void;
  '/api/v1/users/{user_id}/reset-password': { one_time_password: string };
  '/api/v1/users/{user_id}/revoke-sessions': { revoked: number };
  '/api/v1/items/{item_id}/dz/sessions': SlideSession;
  '/api/v1/items/{item_id}/prelabels/{prelabel_id}/decision': { decision: PrelabelDecision; annotation: Annotation | null };
  '/api/v1/projects/{project_id}/exports': DatasetExport;
  '/api/v1/projects/{project_id}/exports/{export_id}/approve': DatasetExport;
  '/api/v1/projects/{project_id}/exports/{export_id}/deny': DatasetExport;
  '/api/v1/projects/{project_id}/exports/{export_id}/rebuild': DatasetExport;
  '/api/v1/projects/{project_id}/exports/{export_id}/tokens': { token: string; expires_at: string; download_path: string };
  '/api/v1/projects/{project_id}/quarantine/{quarantine_id}/release': QuarantinedInstance;
  '/api/v1/projects/{project_id}/quarantine/{quarantine_id}/blank': QuarantinedInstance;
  '/api/v1/projects/{project_id}/quarantine/{quarantine_id}/discard': QuarantinedInstance;
}

interface PutResponses {
  '/api/v1/items/{item_id}/mask': MaskVersion;
  '/api/v1/items/{item_id}/annotations/{annotation_id}': Annotation;
  '/api/v1/projects/{project_id}/members/{user_id}': Membership;
  '/api/v1/items/{item_id}/regions': { version: number };
  '/api/v1/items/{item_id}/intervals': { version: number };
  '/api/v1/projects/{project_id}/dicom-settings': DicomSettings;
  '/api/v1/projects/{project_id}/dicom-sources': DicomSources;
}

interface DeleteResponses {
  '/api/v1/me/tokens/{token_id}': void;
}

export interface Responses {
  get: GetResponses;
  post: PostResponses;
  put: PutResponses;
  delete: DeleteResponses;
}

// Every path above must be one the server declares for that method (else this fails to compile).
type Declared<M extends string> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];
type Undeclared = {
  [M in keyof Responses]: Exclude<keyof Responses[M], Declared<M>>;
}[keyof Responses];
export const kResponsesMatchTheServer: [Undeclared] extends [never] ? true : never = true;

// ---- quality (GET /projects/{id}/quality; src/http/routes/quality_routes.cpp) -------------------

export interface Proportion { n: number; hits: number; rate: number | null; ci: [number | null, number | null] }
export interface RateReport {
  overall: Proportion;
  by_group: (Proportion & { group: string })[];
  over_time: (Proportion & { bucket_start: string })[];
}
export interface QaFinding {
  rule: string;
  severity: string;
  item_id: string | null;
  label_class: string | null;
  annotation_id: string | null;
  message: string;
  fix: string;
}
// Readers scored against one reference label per item, with the deviation test (docs/quality.md).
export interface ReaderAnalytics {
  reference: string; test: string; alpha: number; categories: string[]; unreferenced: number;
  readers: { reader: string; n: number; agree: number; accuracy: number | null; peers_accuracy: number | null;
             p_value: number; p_adjusted: number; flagged: boolean; confusion: number[][] }[];
}

export interface ProjectQuality {
  items: number;
  readings: number;
  adjudicated_items: number;
  agreement: { label_class: string; items: number; readings: number; metric: string; alpha: number | null;
               ci: [number, number] | null; note: string }[];
  rejection_rate: RateReport;
  rejections_by_reason: { reason_code: RejectReasonCode; rejections: number }[];
  adjudication_rate: RateReport;
  error_rate_by_class: RateReport;
  error_rate_by_modality: RateReport;
  // Each reader against the adjudicated labels (top level), the fused labels and the gold answers.
  reviewers: ReaderAnalytics & {
    fused: ReaderAnalytics;
    gold: ReaderAnalytics;
    intra_reader: { reader: string; pairs: number; agreement: number | null; kappa: number | null; note: string }[];
  };
  findings: QaFinding[];
}

// ---- whole-slide images (pathology items; docs/web.md "The slide reading room") -----------------

export interface SlideInfo {
  width: number;
  height: number;
  mpp_x: number | null;
  mpp_y: number | null;
  objective_power: number | null;
  vendor: string;
  levels: number;
  tile_size: number;
  overlap: number;
  format: string;
}

// A Deep Zoom viewer session: tiles are served under /items/{id}/dz/{view}/ while it lives.
export interface SlideSession {
  view: string;
  expires_at: string;
  width: number;
  height: number;
  tile_size: number;
  overlap: number;
  format: string;
  max_level: number;
  mpp_x: number | null;
  mpp_y: number | null;
}

// A region as stored: a W3C Web Annotation in level-0 pixels. Bodies: the class
// (purpose "classifying"), "caliper:confidence" (0..1 as text) and "caliper:borderline" ("true").
// A type alias (not an interface), so it is a JSON object for the generated request types.
export type RegionBody = { type: 'TextualBody'; purpose: string; value: string };
export type RegionSelector =
  | { type: 'SvgSelector'; value: string }
  | { type: 'FragmentSelector'; conformsTo: string; value: string };
export type RegionAnnotation = {
  '@context': string;
  type: 'Annotation';
  id: string;
  body: RegionBody[];
  target: { source: string; selector: RegionSelector };
};
export interface Regions { version: number; annotations: RegionAnnotation[] }

// ---- waveforms (ECG items; docs/web.md "The ECG reading room") ------------------------------------

export interface WaveformGroup {
  sampling_rate_hz: number;
  samples: number;
  duration_s: number;
  leads: { name: string; units: string }[];
}
// The record's main group (e.g. the ECG's RHYTHM); `groups` are further ones (MEDIAN BEAT).
export interface WaveformInfo extends WaveformGroup {
  start_offset_s: number;
  source_format: string;
  group_label: string;
  groups: (WaveformGroup & { label: string })[];
  annotations: number;
  warnings: string[];
}
export interface WaveformSamples {
  sampling_rate_hz: number;
  start_sample: number;
  leads: { name: string; values: number[] }[];
}
// A reference annotation imported with the record (e.g. a WFDB .atr beat label).
export interface ReferenceBeat { sample: number; time_s: number; symbol: string; label: string; aux: string }
// Times in seconds from the record's first sample; confidence null when the reader gave none.
export type IntervalLabel = { onset_s: number; offset_s: number; class: string; confidence: number | null };
export type BeatLabel = { time_s: number; class: string; confidence: number | null };
export interface Intervals { version: number; intervals: IntervalLabel[]; beats: BeatLabel[] }
