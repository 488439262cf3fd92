// Per-reader, versioned markup on an item (docs/pathology.md): one JSON document per version,
// encrypted under the item's data key, each reader's kept apart. Regions (W3C Web Annotations
// on a slide) are checked here; every kind shares the store, versioning, blinding and audit.

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/core/regions.h"
#include "caliper/core/rules.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::MarkupKind;
using storage::TxnMode;

MarkupVersion VersionOf(const storage::ItemMarkup& row, std::string document) {
  MarkupVersion v;
  v.id = row.id;
  v.item_id = row.item_id;
  v.author = row.author;
  v.kind = row.kind;
  v.version = row.version;
  v.document = std::move(document);
  v.bytes = row.bytes;
  v.created_at = row.created_at;
  return v;
}

}  // namespace

Result<MarkupVersion> App::StoreMarkup(storage::Transaction& txn, const RequestContext& ctx, const core::Item& item,
                                       MarkupKind kind, const std::string& document, const std::string& details_json) {
  auto latest = txn.GetLatestMarkup(item.id, ctx.principal.user.id, kind);
  if (!latest.ok() && latest.status().code() != ErrorCode::kNotFound) return latest.status();
  storage::ItemMarkup row;
  row.id = ids_.NewId("mku");
  row.item_id = item.id;
  row.project_id = item.project_id;
  row.author = ctx.principal.user.id;
  row.kind = kind;
  row.version = latest.ok() ? latest->version + 1 : 1;
  std::istringstream in(document);
  CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(txn, item.project_id, item.patient_key, in));
  row.blob = put.address;
  row.bytes = put.bytes;
  row.created_at = clock_.Now();
  CALIPER_RETURN_IF_ERROR(txn.InsertMarkup(row));
  json details = json::parse(details_json, nullptr, false);
  if (!details.is_object()) details = json::object();
  details["kind"] = MarkupKindName(kind);
  details["markup_id"] = row.id;
  details["version"] = row.version;
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(txn, Record(ctx, "markup.put", "item", item.id, details.dump())));
  return VersionOf(row, document);
}

Result<std::vector<MarkupVersion>> App::LatestMarkupOfAll(storage::Transaction& txn, const std::string& item_id,
                                                          MarkupKind kind) {
  CALIPER_ASSIGN_OR_RETURN(auto rows, txn.ListLatestMarkup(item_id, kind));
  std::vector<MarkupVersion> out;
  for (const auto& row : rows) {
    CALIPER_ASSIGN_OR_RETURN(std::string document, GetBlob(txn, row.blob));
    out.push_back(VersionOf(row, std::move(document)));
  }
  return out;
}

Result<MarkupVersion> App::ReadOwnMarkup(const RequestContext& ctx, const std::string& item_id, MarkupKind kind) {
  MarkupVersion out;
  out.item_id = item_id;
  out.author = ctx.principal.user.id;
  out.kind = kind;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->GetItem(item_id).status());
    auto row = txn->GetLatestMarkup(item_id, ctx.principal.user.id, kind);
    if (row.ok()) {
      CALIPER_ASSIGN_OR_RETURN(std::string document, GetBlob(*txn, row->blob));
      out = VersionOf(*row, std::move(document));
    } else if (row.status().code() != ErrorCode::kNotFound) {
      return row.status();
    }
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "markup.read", "item", item_id,
                                       json{{"kind", MarkupKindName(kind)}, {"markup_id", out.id},
                                            {"version", out.version}}.dump())));
  return out;
}

Result<std::vector<MarkupVersion>> App::ListReadersMarkup(const RequestContext& ctx, const std::string& item_id,
                                                          MarkupKind kind) {
  std::vector<MarkupVersion> out;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->GetItem(item_id).status());
    CALIPER_ASSIGN_OR_RETURN(out, LatestMarkupOfAll(*txn, item_id, kind));
  }
  json versions = json::array();
  for (const auto& m : out) versions.push_back({{"author", m.author}, {"markup_id", m.id}, {"version", m.version}});
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "markup.list", "item", item_id,
                                       json{{"kind", MarkupKindName(kind)}, {"readings", versions}}.dump())));
  return out;
}

Result<MarkupVersion> App::PutRegions(const RequestContext& ctx, const std::string& item_id,
                                      const std::string& document) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  if (item.data_type != core::DataType::kPathology) {
    return Error(ErrorCode::kInvalidArgument, "regions are drawn on pathology items; this item is " +
                                                  std::string(core::ToString(item.data_type)));
  }
  CALIPER_ASSIGN_OR_RETURN(SlideInfo slide, SlideOf(item));
  CALIPER_ASSIGN_OR_RETURN(auto regions, core::ParseRegions(document, item.id, static_cast<double>(slide.width),
                                                            static_cast<double>(slide.height)));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  auto current = txn->GetCurrentGuideline(item.project_id);
  if (!current.ok()) {
    if (current.status().code() != ErrorCode::kNotFound) return current.status();
    return Error(ErrorCode::kConflict, "the project has no published guideline yet; regions need one");
  }
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current->schema_json));
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const std::string where = "annotations[" + std::to_string(i) + "] (id '" + regions[i].id + "')";
    const core::LabelClass* cls = schema.Find(regions[i].label_class);
    if (cls == nullptr) {
      return Error(ErrorCode::kInvalidArgument, where + ": class '" + regions[i].label_class +
                                                    "' is not in guideline version " + std::to_string(current->version));
    }
    if (!cls->data_types.empty() &&
        std::find(cls->data_types.begin(), cls->data_types.end(), core::DataType::kPathology) == cls->data_types.end()) {
      return Error(ErrorCode::kInvalidArgument, where + ": class '" + cls->id + "' does not apply to pathology items");
    }
  }
  const json parsed = json::parse(document);  // ParseRegions accepted it
  const json stored{{"guideline_version_id", current->id}, {"annotations", parsed["annotations"]}};
  return StoreMarkup(*txn, ctx, item, MarkupKind::kRegions, stored.dump(),
                     json{{"regions", regions.size()}, {"guideline_version_id", current->id}}.dump());
}

}  // namespace caliper::app
