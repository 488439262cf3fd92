// Per-reader, versioned markup on an item (docs/pathology.md): one JSON document per version,
// encrypted under the item's data key, each reader's kept apart. Regions (W3C Web Annotations
// on a slide) are checked here; every kind shares the store, versioning, blinding and audit.
// Regions are compared between readers here too (rasterised per class: Dice, IoU, STAPLE).

#include <algorithm>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/markup_internal.h"
#include "caliper/app/app.h"
#include "caliper/core/regions.h"
#include "caliper/core/rules.h"
#include "caliper/exports/snapshot.h"
#include "caliper/quality/mask_metrics.h"
#include "caliper/quality/raster.h"
#include "caliper/quality/staple.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::MarkupKind;
using storage::TxnMode;

// Region agreement compares masks on a grid whose longer side is at most this many cells.
constexpr std::int64_t kAgreementMaxSide = 2048;

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

// The regions of a stored document (checked when stored, parsed again).
Result<std::vector<core::Region>> StoredRegions(const MarkupVersion& m, const std::string& item_id,
                                                const SlideInfo& slide) {
  const json doc = json::parse(m.document, nullptr, false);
  if (!doc.is_object() || !doc.contains("annotations")) {
    return Error(ErrorCode::kIntegrity, "stored regions " + m.id + " are not a regions document");
  }
  return core::ParseRegions(json{{"annotations", doc["annotations"]}}.dump(), item_id,
                            static_cast<double>(slide.width), static_cast<double>(slide.height));
}

}  // namespace

namespace internal {

Result<MarkupGuideline> CurrentGuidelineFor(storage::Transaction& txn, const std::string& project_id,
                                            const std::string& what) {
  auto current = txn.GetCurrentGuideline(project_id);
  if (!current.ok()) {
    if (current.status().code() != ErrorCode::kNotFound) return current.status();
    return Error(ErrorCode::kConflict, "the project has no published guideline yet; " + what + " need one");
  }
  CALIPER_ASSIGN_OR_RETURN(core::LabelSchema schema, core::ParseLabelSchema(current->schema_json));
  return MarkupGuideline{std::move(*current), std::move(schema)};
}

Status CheckMarkupClass(const MarkupGuideline& guideline, const std::string& label_class, core::DataType type,
                        const std::string& where) {
  const core::LabelClass* cls = guideline.schema.Find(label_class);
  if (cls == nullptr) {
    return Error(ErrorCode::kInvalidArgument, where + ": class '" + label_class + "' is not in guideline version " +
                                                  std::to_string(guideline.version.version));
  }
  if (!cls->data_types.empty() && std::find(cls->data_types.begin(), cls->data_types.end(), type) == cls->data_types.end()) {
    return Error(ErrorCode::kInvalidArgument, where + ": class '" + cls->id + "' does not apply to " +
                                                  std::string(core::ToString(type)) + " items");
  }
  return Status::Ok();
}

}  // namespace internal

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
  CALIPER_ASSIGN_OR_RETURN(auto guideline, internal::CurrentGuidelineFor(*txn, item.project_id, "regions"));
  for (std::size_t i = 0; i < regions.size(); ++i) {
    CALIPER_RETURN_IF_ERROR(internal::CheckMarkupClass(
        guideline, regions[i].label_class, core::DataType::kPathology,
        "annotations[" + std::to_string(i) + "] (id '" + regions[i].id + "')"));
  }
  const json parsed = json::parse(document);  // ParseRegions accepted it
  const json stored{{"guideline_version_id", guideline.version.id}, {"annotations", parsed["annotations"]}};
  return StoreMarkup(*txn, ctx, item, MarkupKind::kRegions, stored.dump(),
                     json{{"regions", regions.size()}, {"guideline_version_id", guideline.version.id}}.dump());
}

// ---- agreement between readers' regions ---------------------------------------------------------

Result<RegionAgreementReport> App::RegionAgreement(const RequestContext& ctx, const std::string& item_id) {
  RegionAgreementReport out;
  out.item_id = item_id;
  std::vector<MarkupVersion> readings;
  core::Item item;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(item, txn->GetItem(item_id));
    CALIPER_ASSIGN_OR_RETURN(readings, LatestMarkupOfAll(*txn, item_id, MarkupKind::kRegions));
  }
  CALIPER_ASSIGN_OR_RETURN(SlideInfo slide, SlideOf(item));
  const double mpp = slide.mpp_x && slide.mpp_y ? (*slide.mpp_x + *slide.mpp_y) / 2 : 0;
  const quality::RegionGrid grid = quality::RegionGridFor(slide.width, slide.height, kAgreementMaxSide, mpp);
  out.cell_px = grid.cell;
  out.grid_width = grid.grid.dims[0];
  out.grid_height = grid.grid.dims[1];
  out.cell_um = mpp > 0 ? std::optional<double>(static_cast<double>(grid.cell) * mpp) : std::nullopt;
  // Each reader's regions, parsed again (they were checked when stored).
  std::vector<std::vector<core::Region>> regions;
  std::set<std::string> classes;
  for (const auto& r : readings) {
    CALIPER_ASSIGN_OR_RETURN(auto parsed, StoredRegions(r, item_id, slide));
    for (const auto& region : parsed) classes.insert(region.label_class);
    out.readers.push_back({r.author, r.version});
    regions.push_back(std::move(parsed));
  }
  for (const std::string& cls : classes) {
    RegionClassAgreement c;
    c.label_class = cls;
    std::vector<std::vector<std::uint8_t>> masks;
    for (const auto& reader_regions : regions) {
      std::vector<const core::Region*> mine;
      for (const auto& region : reader_regions) {
        if (region.label_class == cls) mine.push_back(&region);
      }
      masks.push_back(quality::RasteriseRegions(mine, grid));
    }
    for (std::size_t a = 0; a < masks.size(); ++a) {
      c.cells.push_back(std::count(masks[a].begin(), masks[a].end(), std::uint8_t{1}));
      for (std::size_t b = a + 1; b < masks.size(); ++b) {
        CALIPER_ASSIGN_OR_RETURN(auto o, quality::MaskOverlap({grid.grid, masks[a]}, {grid.grid, masks[b]}));
        c.pairs.push_back({out.readers[a].user_id, out.readers[b].user_id, o.dice, o.iou, o.intersection});
      }
    }
    if (masks.size() >= 2) {
      std::vector<quality::MaskView> views;
      for (const auto& m : masks) views.push_back({grid.grid, m});
      auto staple = quality::StapleBinary(views);
      if (staple.ok()) {
        RegionClassAgreement::Staple s;
        s.sensitivity = staple->sensitivity;
        s.specificity = staple->specificity;
        s.prior = staple->prior;
        s.iterations = staple->iterations;
        s.converged = staple->converged;
        for (float w : staple->consensus) s.consensus_cells += w >= 0.5f;
        c.staple = std::move(s);
      } else {
        c.staple_note = staple.status().message();
      }
    } else {
      c.staple_note = "STAPLE needs at least two readers";
    }
    out.classes.push_back(std::move(c));
  }
  CALIPER_RETURN_IF_ERROR(Audit(Record(ctx, "regions.agreement", "item", item_id,
                                       json{{"readers", out.readers.size()}, {"classes", out.classes.size()}}.dump())));
  return out;
}


Status App::AddSlideRegions(storage::Transaction& txn, exports::SnapshotItem& it) {
  CALIPER_ASSIGN_OR_RETURN(std::string text, GetBlob(txn, it.item.content_blob));
  CALIPER_ASSIGN_OR_RETURN(SlideInfo slide, ParseSlideInfo(text));
  it.slide_width = slide.width;
  it.slide_height = slide.height;
  CALIPER_ASSIGN_OR_RETURN(auto readings, LatestMarkupOfAll(txn, it.item.id, MarkupKind::kRegions));
  for (const auto& r : readings) {
    CALIPER_ASSIGN_OR_RETURN(auto regions, StoredRegions(r, it.item.id, slide));
    if (regions.empty()) continue;
    it.regions.push_back({r.author, r.version, std::move(regions)});
  }
  return Status::Ok();
}

}  // namespace caliper::app
