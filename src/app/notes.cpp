// Clinical notes: project text settings, ingest (de-identified before storage) and reading a
// stored note with its replacement spans. docs/notes.md.

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/ingest_internal.h"
#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/rules.h"
#include "caliper/deid/text_deid.h"
#include "caliper/quality/spans.h"
#include "caliper/security/crypto.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

// The data key that serves as a project's de-identification secret is kept under this
// reserved patient key ('#' cannot start a patient key, see CreateItem).
constexpr char kTextSecretOwner[] = "#text-deid";
constexpr std::size_t kMaxMetadataBytes = 64 * 1024;
constexpr std::size_t kMaxClinicianNames = 10000;

std::string KeyedHex(const std::string& secret, std::string_view domain, std::string_view a,
                     std::string_view b = {}) {
  security::Key key{};
  std::copy_n(secret.begin(), std::min(secret.size(), key.size()), key.begin());
  security::KeyedHasher hasher(key);
  security::SecureZero(key.data(), key.size());
  hasher.Update(domain);
  hasher.Update(std::string_view("\0", 1));
  hasher.Update(a);
  hasher.Update(std::string_view("\0", 1));
  hasher.Update(b);
  return hasher.FinalHex();
}

json PhiJson(const std::vector<deid::PhiSpan>& spans) {
  json out = json::array();
  for (const auto& s : spans) {
    out.push_back({{"start", s.start}, {"end", s.end}, {"type", deid::PhiTypeName(s.type)}});
  }
  return out;
}

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

namespace internal {

Result<std::unique_ptr<deid::TextDeidentifier>> TextDeidentifierFor(const core::TextSettings& settings,
                                                                    const std::string& secret,
                                                                    std::size_t max_text_bytes) {
  deid::TextDeidOptions options;
  options.mode = *deid::ParseReplacementMode(settings.deid_mode);
  options.secret_key = secret;
  options.clinician_names = settings.clinician_names;
  options.max_text_bytes = max_text_bytes;
  return deid::TextDeidentifier::Create(options);
}

Status DeidentifyMetadata(deid::TextDeidentifier& deid, const std::string& patient_key, json& value) {
  if (value.is_object() || value.is_array()) {
    for (auto& v : value) CALIPER_RETURN_IF_ERROR(DeidentifyMetadata(deid, patient_key, v));
    return Status::Ok();
  }
  if (!value.is_string() && !value.is_number()) return Status::Ok();
  const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  CALIPER_ASSIGN_OR_RETURN(auto out, deid.Deidentify(text, patient_key));
  if (value.is_string() || !out.phi.empty()) value = std::move(out.text);
  return Status::Ok();
}

}  // namespace internal

std::string NoteIngestReportJson(const std::vector<NoteIngestResult>& results) {
  json records = json::array();
  std::map<std::string, int> counts = {{"stored", 0}, {"duplicate", 0}, {"error", 0}};
  for (const auto& r : results) {
    json row = {{"record", r.number}, {"line", r.line}, {"id", r.source_id}, {"outcome", r.outcome}};
    if (!r.item_id.empty()) row["item_id"] = r.item_id;
    if (r.outcome == "stored") {
      row["chars"] = r.chars;
      row["phi"] = r.phi;
    }
    if (!r.error.ok()) row["error"] = {{"code", r.error.code_name()}, {"message", r.error.message()}};
    ++counts[r.outcome];
    records.push_back(std::move(row));
  }
  return json{{"records", records}, {"stored", counts["stored"]}, {"duplicates", counts["duplicate"]},
              {"errors", counts["error"]}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string App::PatientKeyFor(const std::string& secret, const std::string& patient) {
  return "pt_" + KeyedHex(secret, "patient", patient).substr(0, 32);
}

Result<std::string> App::TextSecret(storage::Transaction& txn, const std::string& project_id) {
  CALIPER_ASSIGN_OR_RETURN(auto key, key_manager_.DataKeyFor(txn, project_id, kTextSecretOwner));
  std::string secret(key.key.begin(), key.key.end());
  security::SecureZero(key.key.data(), key.key.size());
  return secret;
}

Result<std::string> App::BeginIngest(const RequestContext& ctx, const std::string& project_id, std::string action,
                                     std::string details_json) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  CALIPER_ASSIGN_OR_RETURN(std::string secret, TextSecret(*txn, project_id));
  CALIPER_RETURN_IF_ERROR(
      CommitWithAudit(*txn, Record(ctx, std::move(action), "project", project_id, std::move(details_json))));
  return secret;
}

Result<core::TextSettings> App::GetTextSettings(const RequestContext& ctx, const std::string& project_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  auto stored = txn->GetTextSettings(project_id);
  if (stored.ok() || stored.status().code() != ErrorCode::kNotFound) return stored;
  core::TextSettings defaults;
  defaults.project_id = project_id;
  return defaults;
}

Status internal::ValidateTextSettings(const core::TextSettings& settings) {
  if (!deid::ParseReplacementMode(settings.deid_mode)) {
    return Error(ErrorCode::kInvalidArgument, "deid_mode must be 'surrogate' or 'tag'");
  }
  if (settings.clinician_names.size() > kMaxClinicianNames) {
    return Error(ErrorCode::kInvalidArgument, "at most 10000 clinician names");
  }
  for (const auto& name : settings.clinician_names) {
    if (name.empty() || name.size() > 200 || !deid::CheckUtf8(name).ok()) {
      return Error(ErrorCode::kInvalidArgument, "clinician names must be 1 to 200 bytes of UTF-8");
    }
  }
  return Status::Ok();
}

security::AuditRecord App::TextSettingsRecord(const RequestContext& ctx, const core::TextSettings& settings) const {
  // The names themselves are identifiers: the audit records only how many there are.
  return Record(ctx, "project.text_settings", "project", settings.project_id,
                json{{"deid_mode", settings.deid_mode}, {"clinician_names", settings.clinician_names.size()}}.dump());
}

Result<core::TextSettings> App::PutTextSettings(const RequestContext& ctx, core::TextSettings settings) {
  CALIPER_RETURN_IF_ERROR(internal::ValidateTextSettings(settings));
  settings.updated_at = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(settings.project_id).status());
  CALIPER_RETURN_IF_ERROR(txn->PutTextSettings(settings));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, TextSettingsRecord(ctx, settings)));
  return settings;
}

Result<std::vector<NoteIngestResult>> App::IngestNotes(const RequestContext& ctx, const std::string& project_id,
                                                       ingest::NoteReader& reader) {
  CALIPER_ASSIGN_OR_RETURN(core::TextSettings settings, GetTextSettings(ctx, project_id));
  CALIPER_ASSIGN_OR_RETURN(std::string secret, BeginIngest(ctx, project_id, "notes.ingest",
                                                           json{{"deid_mode", settings.deid_mode}}.dump()));
  CALIPER_ASSIGN_OR_RETURN(auto max_note, config_.GetInt("ingest.max_note_bytes"));
  CALIPER_ASSIGN_OR_RETURN(auto deid,
                           internal::TextDeidentifierFor(settings, secret, static_cast<std::size_t>(max_note)));
  const std::string edition = security::Sha256Hex(deid->LexiconEdition()).substr(0, 16);

  std::vector<NoteIngestResult> results;
  ingest::NoteRecord record;
  while (reader.Next(record)) {
    NoteIngestResult r;
    r.number = record.number;
    r.line = record.line;
    r.source_id = record.id;
    // Everything up to the commit is one attempt; any failure skips the record whole.
    auto attempt = [&]() -> Status {
      CALIPER_RETURN_IF_ERROR(record.status);
      if (record.patient.empty()) return Error(ErrorCode::kInvalidArgument, "the note has no patient");
      if (record.metadata_json.size() > kMaxMetadataBytes) {
        return Error(ErrorCode::kInvalidArgument, "the note's metadata is over 64 KiB");
      }
      CALIPER_RETURN_IF_ERROR(ingest::CheckNoteText(record.text));
      core::Note note;
      note.project_id = project_id;
      note.source_hash = record.id.empty() ? KeyedHex(secret, "note-text", record.patient, record.text)
                                           : KeyedHex(secret, "note-id", record.id);
      const std::string patient_key = PatientKeyFor(secret, record.patient);
      {
        CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
        auto existing = txn->FindNoteBySource(project_id, note.source_hash);
        if (existing.ok()) {
          r.outcome = "duplicate";
          r.item_id = existing->item_id;
          return Status::Ok();
        }
        if (existing.status().code() != ErrorCode::kNotFound) return existing.status();
      }
      CALIPER_ASSIGN_OR_RETURN(auto clean, deid->Deidentify(record.text, patient_key));
      json metadata = json::parse(record.metadata_json, nullptr, false);
      if (!metadata.is_object()) return Error(ErrorCode::kInvalidArgument, "the note's metadata is not an object");
      CALIPER_RETURN_IF_ERROR(internal::DeidentifyMetadata(*deid, patient_key, metadata));

      core::Item item;
      item.id = ids_.NewId("itm");
      item.project_id = project_id;
      item.data_type = core::DataType::kNotes;
      item.modality = "NOTE";
      item.patient_key = patient_key;
      item.cohort_json = metadata.dump();
      item.content_type = "text/plain; charset=utf-8";
      item.created_at = clock_.Now();
      item.created_by = ctx.actor();
      note.item_id = item.id;
      note.deid_mode = settings.deid_mode;
      note.deid_edition = edition;
      note.chars = static_cast<std::int64_t>(CodePoints(clean.text));
      note.phi_json = PhiJson(clean.replaced).dump();
      note.created_at = item.created_at;
      std::istringstream content(std::move(clean.text));
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
      CALIPER_RETURN_IF_ERROR(InsertItemWithContent(*txn, item, content));
      if (Status s = txn->InsertNote(note); !s.ok()) {
        if (s.code() != ErrorCode::kAlreadyExists) return s;
        // Stored by a concurrent ingest since the check above.
        r.outcome = "duplicate";
        return Status::Ok();
      }
      CALIPER_RETURN_IF_ERROR(CommitWithAudit(
          *txn, Record(ctx, "note.create", "item", item.id,
                       json{{"project_id", project_id}, {"bytes", item.content_bytes}, {"chars", note.chars},
                            {"phi", clean.replaced.size()}, {"deid_mode", note.deid_mode}}
                           .dump())));
      r.outcome = "stored";
      r.item_id = item.id;
      r.chars = note.chars;
      r.phi = clean.replaced.size();
      return Status::Ok();
    };
    Status s = attempt();
    if (!s.ok()) {
      // A failing store is not a bad record: stop and report it.
      if (s.code() == ErrorCode::kStorage || s.code() == ErrorCode::kIo || s.code() == ErrorCode::kUnavailable) {
        return s;
      }
      r = NoteIngestResult{r.number, r.line, r.source_id, "error", "", 0, 0, s};
    }
    results.push_back(std::move(r));
    record = ingest::NoteRecord{};  // frees the text before the next read
  }
  return results;
}

Result<NoteView> App::ReadNote(const RequestContext& ctx, const std::string& item_id) {
  NoteView view;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(view.item, txn->GetItem(item_id));
    CALIPER_ASSIGN_OR_RETURN(view.note, txn->GetNote(item_id));
  }
  CALIPER_ASSIGN_OR_RETURN(view.text, ReadItemContent(ctx, item_id));
  return view;
}

// ---- span labels ----------------------------------------------------------------------------

namespace {

template <typename E>
Status CheckAllowed(const std::vector<E>& allowed, E value, const std::string& cls, const char* axis) {
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return Status::Ok();
  std::string names;
  for (E v : allowed) names += (names.empty() ? "" : ", ") + std::string(core::ToString(v));
  return Error(ErrorCode::kInvalidArgument, "label class '" + cls + "' allows " + axis + " " + names + ", not " +
                                                std::string(core::ToString(value)));
}

// One span {"start", "end"} of evidence data: integers with 0 <= start < end.
Result<std::pair<std::int64_t, std::int64_t>> SpanOf(const json& span, const std::string& field) {
  if (!span.is_object() || !span.contains("start") || !span.contains("end") ||
      !span["start"].is_number_integer() || !span["end"].is_number_integer()) {
    return Error(ErrorCode::kInvalidArgument, field + " must be {\"start\": integer, \"end\": integer}");
  }
  const auto start = span["start"].get<std::int64_t>(), end = span["end"].get<std::int64_t>();
  if (start < 0 || end <= start) {
    return Error(ErrorCode::kInvalidArgument, field + " must have 0 <= start < end (code points)");
  }
  return std::make_pair(start, end);
}

}  // namespace

Status App::CheckTextLabel(storage::Transaction& txn, const core::Annotation& a, const core::Item& item,
                           const core::LabelSchema& schema, const core::LabelClass& cls) {
  CALIPER_RETURN_IF_ERROR(CheckAllowed(cls.assertions, a.assertion, cls.id, "assertion"));
  CALIPER_RETURN_IF_ERROR(CheckAllowed(cls.temporalities, a.temporality, cls.id, "temporality"));
  CALIPER_RETURN_IF_ERROR(CheckAllowed(cls.experiencers, a.experiencer, cls.id, "experiencer"));
  // (A label without evidence, as the pre-label upload pins, has nothing to check here.)
  if (cls.kind == "span" && !a.evidence_kind.empty() && a.evidence_kind != "span") {
    return Error(ErrorCode::kInvalidArgument, "label class '" + cls.id + "' is a span class: evidence.kind must be span");
  }
  // Offsets: span evidence, and the evidence spans of a document-level label.
  std::vector<std::pair<std::string, json>> spans;
  const json data = json::parse(a.evidence_json.empty() ? "{}" : a.evidence_json, nullptr, false);
  if (a.evidence_kind == "span") {
    spans.emplace_back("evidence.data", data);
  } else if (a.evidence_kind == "document" && data.is_object() && data.contains("spans")) {
    if (!data["spans"].is_array() || data["spans"].size() > 1000) {
      return Error(ErrorCode::kInvalidArgument, "evidence.data.spans must be an array of at most 1000 spans");
    }
    for (std::size_t i = 0; i < data["spans"].size(); ++i) {
      spans.emplace_back("evidence.data.spans[" + std::to_string(i) + "]", data["spans"][i]);
    }
  }
  if (!spans.empty()) {
    std::optional<std::int64_t> chars;
    auto note = txn.GetNote(item.id);
    if (note.ok()) {
      chars = note->chars;
    } else if (note.status().code() != ErrorCode::kNotFound) {
      return note.status();
    }
    for (const auto& [field, span] : spans) {
      // Items that are not stored notes (content uploaded as it is) may carry span evidence
      // without offsets; stored notes always need them.
      if (!chars && span.is_object() && !span.contains("start") && !span.contains("end")) continue;
      CALIPER_ASSIGN_OR_RETURN(auto bounds, SpanOf(span, field));
      if (chars && bounds.second > *chars) {
        return Error(ErrorCode::kInvalidArgument, field + ".end " + std::to_string(bounds.second) +
                                                      " is past the end of the note (" + std::to_string(*chars) +
                                                      " code points)");
      }
    }
  }
  // Time points and windows (labels on lab results, e.g. "AKI onset"): {"at"} or {"from", "to"}.
  if (a.evidence_kind == "time") {
    auto time_of = [&](const char* field) -> Result<TimeMicros> {
      if (!data.is_object() || !data.contains(field) || !data[field].is_string()) {
        return Error(ErrorCode::kInvalidArgument, std::string("evidence.data.") + field + " must be an RFC 3339 time");
      }
      auto t = ParseRfc3339(data[field].get<std::string>());
      if (!t.ok()) return t.status().WithContext(std::string("evidence.data.") + field);
      return t;
    };
    if (data.is_object() && data.contains("at")) {
      CALIPER_RETURN_IF_ERROR(time_of("at").status());
    } else {
      CALIPER_ASSIGN_OR_RETURN(TimeMicros from, time_of("from"));
      CALIPER_ASSIGN_OR_RETURN(TimeMicros to, time_of("to"));
      if (to < from) return Error(ErrorCode::kInvalidArgument, "evidence.data: the window ends before it starts");
    }
  }
  // Relations.
  const json relations = json::parse(a.relations_json.empty() ? "[]" : a.relations_json, nullptr, false);
  if (!relations.is_array() || relations.size() > 100) {
    return Error(ErrorCode::kInvalidArgument, "relations must be an array of at most 100 relations");
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < relations.size(); ++i) {
    const std::string where = "relations[" + std::to_string(i) + "]";
    const std::string type = relations[i].value("type", ""), target = relations[i].value("target", "");
    const core::RelationType* rt = schema.FindRelation(type);
    if (rt == nullptr) {
      std::string known;
      for (const auto& r : schema.relations) known += (known.empty() ? "" : ", ") + r.id;
      return Error(ErrorCode::kInvalidArgument, where + ".type '" + type + "' is not a relation of the guideline" +
                                                    (known.empty() ? " (it defines none)" : " (relations: " + known + ")"));
    }
    if (std::find(rt->from.begin(), rt->from.end(), cls.id) == rt->from.end()) {
      return Error(ErrorCode::kInvalidArgument, where + ": relation '" + type + "' does not start at class '" + cls.id + "'");
    }
    if (!seen.insert({type, target}).second) {
      return Error(ErrorCode::kInvalidArgument, where + " repeats an earlier relation");
    }
    auto other = txn.GetAnnotation(target);
    // Another reader's label is reported as missing (blinding).
    if (!other.ok() || other->item_id != a.item_id || other->author != a.author || other->id == a.id) {
      if (other.ok() || other.status().code() == ErrorCode::kNotFound) {
        return Error(ErrorCode::kInvalidArgument, where + ".target: no label of yours on this item with that id");
      }
      return other.status();
    }
    if (std::find(rt->to.begin(), rt->to.end(), other->label_class) == rt->to.end()) {
      return Error(ErrorCode::kInvalidArgument, where + ": relation '" + type + "' cannot point to class '" +
                                                    other->label_class + "'");
    }
  }
  return Status::Ok();
}

Result<SpanAgreementReport> App::SpanAgreement(const RequestContext& ctx, const std::string& project_id) {
  // reader -> item -> spans (by class, and with the context values)
  struct ReaderSpans {
    std::map<std::string, std::vector<quality::TextSpan>> by_class, full;
  };
  std::map<std::string, ReaderSpans> readers;
  std::set<std::string> items_read;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  storage::PageRequest page{"", 500};
  while (true) {
    CALIPER_ASSIGN_OR_RETURN(auto items, txn->ListItems(project_id, page));
    for (const core::Item& item : items.rows) {
      if (item.data_type != core::DataType::kNotes) continue;
      CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item.id));
      std::map<std::string, std::string> submitted;  // task id -> reader
      for (const core::Task& t : tasks) {
        if (t.state != core::TaskState::kOpen && t.state != core::TaskState::kClaimed && !t.assignee.empty()) {
          submitted[t.id] = t.assignee;
        }
      }
      if (submitted.size() < 2) continue;
      items_read.insert(item.id);
      for (const auto& [task_id, reader] : submitted) {
        readers[reader].by_class[item.id];  // read, even with no span
        readers[reader].full[item.id];
      }
      storage::PageRequest labels{"", 500};
      while (true) {
        CALIPER_ASSIGN_OR_RETURN(auto rows, txn->ListAnnotations(item.id, labels));
        for (const core::Annotation& a : rows.rows) {
          auto reader = submitted.find(a.task_id);
          if (reader == submitted.end() || a.evidence_kind != "span") continue;
          auto bounds = SpanOf(json::parse(a.evidence_json, nullptr, false), "evidence.data");
          if (!bounds.ok()) continue;
          quality::TextSpan span{item.id, bounds->first, bounds->second, a.label_class};
          readers[reader->second].by_class[item.id].push_back(span);
          span.label += "|" + std::string(core::ToString(a.assertion)) + "|" +
                        std::string(core::ToString(a.temporality)) + "|" + std::string(core::ToString(a.experiencer));
          readers[reader->second].full[item.id].push_back(std::move(span));
        }
        if (rows.next.empty()) break;
        labels.after = rows.next;
      }
    }
    if (items.next.empty()) break;
    page.after = items.next;
  }
  SpanAgreementReport report;
  report.items = items_read.size();
  report.readers = readers.size();
  // The spans of `r` on the items both readers read.
  auto common = [](const std::map<std::string, std::vector<quality::TextSpan>>& r,
                   const std::map<std::string, std::vector<quality::TextSpan>>& other) {
    std::vector<quality::TextSpan> out;
    for (const auto& [item, spans] : r) {
      if (other.count(item)) out.insert(out.end(), spans.begin(), spans.end());
    }
    return out;
  };
  for (auto a = readers.begin(); a != readers.end(); ++a) {
    for (auto b = std::next(a); b != readers.end(); ++b) {
      bool shared = false;
      for (const auto& [item, spans] : a->second.by_class) shared = shared || b->second.by_class.count(item);
      if (!shared) continue;
      CALIPER_ASSIGN_OR_RETURN(auto by_class, quality::SpanF1(common(a->second.by_class, b->second.by_class),
                                                              common(b->second.by_class, a->second.by_class)));
      CALIPER_ASSIGN_OR_RETURN(auto full, quality::SpanF1(common(a->second.full, b->second.full),
                                                          common(b->second.full, a->second.full)));
      ++report.pairs;
      report.class_exact_f1 += by_class.exact_f1;
      report.class_overlap_f1 += by_class.overlap_f1;
      report.full_exact_f1 += full.exact_f1;
      report.full_overlap_f1 += full.overlap_f1;
    }
  }
  if (report.pairs > 0) {
    const double n = static_cast<double>(report.pairs);
    report.class_exact_f1 /= n;
    report.class_overlap_f1 /= n;
    report.full_exact_f1 /= n;
    report.full_overlap_f1 /= n;
  }
  txn.reset();  // the audit event is a write of its own
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "quality.span_agreement", "project", project_id,
                                       json{{"items", report.items}, {"pairs", report.pairs}}.dump())));
  return report;
}

}  // namespace caliper::app
