// The ConText pre-labeller run over a project's notes: its mentions are stored as pre-labels
// (through AddPrelabels) for readers to accept, correct or reject — never as labels.
// docs/context.md describes the algorithm and its figures; docs/notes.md the run.

#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "app/workflow_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/label_schema.h"
#include "caliper/prelabel/context.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

// "context@1" -> ("context", "1").
std::pair<std::string, std::string> ContextModel() {
  const std::string_view source = prelabel::kContextSource;
  const std::size_t at = source.find('@');
  return {std::string(source.substr(0, at)), std::string(source.substr(at + 1))};
}

// What makes a mention the same as one stored before: class, span and context.
using MentionKey = std::tuple<std::string, std::int64_t, std::int64_t, std::string, std::string>;

MentionKey KeyOf(const core::Prelabel& p) {
  const json span = json::parse(p.evidence_json, nullptr, false);
  auto at = [&](const char* k) {
    return span.is_object() && span.contains(k) && span[k].is_number_integer() ? span[k].get<std::int64_t>() : -1;
  };
  return {p.label_class, at("start"), at("end"), std::string(core::ToString(p.assertion)), p.attributes_json};
}

}  // namespace

Result<ContextRunReport> App::RunContextPrelabels(const RequestContext& ctx, const std::string& project_id,
                                                  const std::vector<std::string>& item_ids) {
  std::vector<core::Item> notes;
  std::vector<prelabel::ConceptTerms> concepts;
  std::map<std::string, core::ClassCode> codes;  // a mention carries its class's first binding
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
    CALIPER_ASSIGN_OR_RETURN(auto current, internal::PublishedGuideline(*txn, project_id, "pre-labels need one"));
    CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current.schema_json));
    for (const auto& cls : schema.classes) {
      const bool for_notes = cls.data_types.empty() || internal::Contains(cls.data_types, core::DataType::kNotes);
      if (!cls.terms.empty() && for_notes) {
        concepts.push_back({cls.id, cls.terms});
        if (auto code = core::PrimaryCode(cls)) codes.emplace(cls.id, *code);
      }
    }
    if (concepts.empty()) {
      return Error(ErrorCode::kInvalidArgument, "no class of guideline version " + std::to_string(current.version) +
                                                    " that applies to notes has terms for the pre-labeller");
    }
    if (item_ids.empty()) {
      CALIPER_ASSIGN_OR_RETURN(auto items, internal::AllPages<core::Item>([&](const storage::PageRequest& page) {
                                 return txn->ListItems(project_id, page);
                               }));
      for (auto& item : items) {
        if (item.data_type == core::DataType::kNotes) notes.push_back(std::move(item));
      }
    } else {
      for (const auto& id : item_ids) {
        auto item = txn->GetItem(id);
        if (!item.ok() && item.status().code() != ErrorCode::kNotFound) return item.status();
        if (!item.ok() || item->project_id != project_id) return Error(ErrorCode::kNotFound, "no item " + id + " here");
        if (item->data_type != core::DataType::kNotes) {
          return Error(ErrorCode::kInvalidArgument, "item " + id + " is not a note");
        }
        notes.push_back(*item);
      }
    }
  }
  CALIPER_ASSIGN_OR_RETURN(auto labeller, prelabel::ContextLabeller::Create(std::move(concepts)));
  const auto [model_name, model_version] = ContextModel();

  ContextRunReport report;
  report.notes = static_cast<int>(notes.size());
  for (std::size_t i = 0; i < notes.size(); ++i) {
    const core::Item& item = notes[i];
    auto fail = [&](const Status& s) { report.errors.push_back({i, "item " + item.id + ": " + s.message()}); };
    auto text = ReadItemContent(ctx, item.id);  // audited like every read
    if (!text.ok()) {
      fail(text.status());
      continue;
    }
    auto mentions = labeller->Label(*text);
    if (!mentions.ok()) {
      fail(mentions.status());
      continue;
    }
    std::set<MentionKey> stored_before;
    {
      CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
      CALIPER_ASSIGN_OR_RETURN(auto existing, txn->ListPrelabelsOfItem(item.id));
      for (const auto& p : existing) {
        if (p.model_name == model_name && p.model_version == model_version) stored_before.insert(KeyOf(p));
      }
    }
    std::vector<core::Prelabel> rows;
    for (const auto& m : *mentions) {
      core::Prelabel p;
      p.item_id = item.id;
      p.model_name = model_name;
      p.model_version = model_version;
      p.evidence_kind = "span";
      p.evidence_json = json{{"start", m.start}, {"end", m.end}}.dump();
      p.label_class = m.label_class;
      if (auto code = codes.find(m.label_class); code != codes.end()) {
        p.code_system = code->second.system;
        p.code = code->second.code;
      }
      p.assertion = m.assertion;
      p.attributes_json = json{{"experiencer", prelabel::ExperiencerName(m.experiencer)},
                               {"temporality", prelabel::TemporalityName(m.temporality)}}
                              .dump();
      if (stored_before.count(KeyOf(p)) > 0) {
        ++report.already;
        continue;
      }
      rows.push_back(std::move(p));
    }
    if (rows.empty()) continue;
    auto upload = AddPrelabels(ctx, item.project_id, std::move(rows));
    if (!upload.ok()) {
      if (upload.status().code() == ErrorCode::kConflict) return upload.status();  // the guideline went away
      fail(upload.status());
      continue;
    }
    for (const auto& e : upload->errors) fail(Error(ErrorCode::kInvalidArgument, e.message));
    for (auto& p : upload->stored) report.stored.push_back(std::move(p));
  }
  return report;
}

}  // namespace caliper::app
