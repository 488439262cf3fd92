// Whole-slide pathology (docs/pathology.md): slides in (de-identified, re-written as our own
// Deep Zoom pyramid), tiles inside an audited viewer session, and readers' regions on a slide
// as W3C Web Annotations.

#include <charconv>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/route.h"

namespace caliper::http {
namespace {

// {version, annotations} of a reader's regions (version 0 and [] when they have none).
json RegionsJson(const app::MarkupVersion& m) {
  json annotations = json::array();
  if (!m.document.empty()) {
    const json doc = json::parse(m.document, nullptr, false);
    if (doc.is_object() && doc.contains("annotations")) annotations = doc["annotations"];
  }
  return json{{"version", m.version}, {"annotations", annotations}};
}

json SlideJson(const app::SlideInfo& s) { return json::parse(app::SlideInfoJson(s)); }

// A whole number in [0, limit] spelled in full.
std::optional<std::int64_t> WholeNumber(std::string_view text, std::int64_t limit) {
  std::int64_t v = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0 || v > limit) return std::nullopt;
  return v;
}

// The Deep Zoom descriptor (Deep Zoom XML schema, http://schemas.microsoft.com/deepzoom/2008).
std::string DziXml(const app::SlideInfo& s) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\" Format=\"" + s.format + "\" Overlap=\"" +
         std::to_string(s.overlap) + "\" TileSize=\"" + std::to_string(s.tile_size) + "\"><Size Width=\"" +
         std::to_string(s.width) + "\" Height=\"" + std::to_string(s.height) + "\"/></Image>\n";
}

json AgreementJson(const app::RegionAgreementReport& r) {
  json readers = json::array();
  for (const auto& reader : r.readers) readers.push_back({{"user_id", reader.user_id}, {"version", reader.version}});
  json classes = json::array();
  for (const auto& c : r.classes) {
    json pairs = json::array();
    for (const auto& p : c.pairs) {
      pairs.push_back({{"reader_a", p.reader_a}, {"reader_b", p.reader_b}, {"dice", p.dice}, {"iou", p.iou},
                       {"intersection_cells", p.intersection}});
    }
    json staple = nullptr;
    if (c.staple) {
      staple = {{"sensitivity", c.staple->sensitivity}, {"specificity", c.staple->specificity},
                {"prior", c.staple->prior},             {"consensus_cells", c.staple->consensus_cells},
                {"iterations", c.staple->iterations},   {"converged", c.staple->converged}};
    }
    classes.push_back({{"class", c.label_class}, {"cells", c.cells}, {"pairs", pairs}, {"staple", staple},
                       {"staple_note", c.staple_note}});
  }
  return json{{"item_id", r.item_id},
              {"resolution", {{"cell_px", r.cell_px},
                              {"grid_width", r.grid_width},
                              {"grid_height", r.grid_height},
                              {"cell_um", r.cell_um ? json(*r.cell_um) : json(nullptr)}}},
              {"readers", readers},
              {"classes", classes}};
}

// Tiles and descriptors are for the viewer only: never stored by the browser or a proxy.
void Private(Reply& r) { r.headers.emplace_back("Cache-Control", "private, no-store"); }

}  // namespace

std::vector<Route> PathologyRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/slides", Permission::kItemCreate,
       "Store a whole-slide image: the body is the slide file's bytes (application/octet-stream; SVS, NDPI, "
       "generic tiled TIFF and the other one-file formats OpenSlide 3.4.1 reads; not DICOM-WSI), ?name= gives its "
       "file name (only the extension is used; the name is not kept). The slide is de-identified (only size, "
       "µm/px, objective power and vendor are kept; label, macro and thumbnail images are dropped) and re-written "
       "as encrypted Deep Zoom tiles; the file is not kept. 201 {name, outcome: stored, item_id, slide, tiles, "
       "dropped_properties, dropped_images}; 422 {name, outcome: error, error} for a file OpenSlide cannot read.",
       BodyKind::kSlide, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string type = call.req.get_header_value("Content-Type");
         if (type.substr(0, type.find(';')) != "application/octet-stream") {
           return Error(ErrorCode::kUnsupported, "send the slide file as application/octet-stream");
         }
         const std::string name = call.req.has_param("name") ? call.req.get_param_value("name") : "";
         if (call.req.body.empty()) return Error(ErrorCode::kInvalidArgument, "the body holds no slide file");
         CALIPER_ASSIGN_OR_RETURN(auto result,
                                  app.IngestSlideBytes(call.ctx, call.Param("project_id"), call.req.body, name));
         Reply r;
         r.status = result.outcome == "stored" ? 201 : 422;
         r.body = app::SlideIngestResultJson(result);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/slide", Permission::kItemRead,
       "The slide's de-identified description: {width, height, mpp_x, mpp_y, objective_power, vendor, levels, "
       "tile_size, overlap, format}; 404 when the item holds no slide.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto slide, app.ReadSlideInfo(call.ctx, call.Param("item_id")));
         return JsonReply(SlideJson(slide));
       }},
      {"POST", "/api/v1/items/{item_id}/dz/sessions", Permission::kItemRead,
       "Open a viewer session on the slide: {view, expires_at, width, height, tile_size, overlap, format, "
       "max_level, mpp_x, mpp_y}. Tiles are served only under /dz/{view}/ of a live session of the same user "
       "and item. Audited once per session.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto v, app.OpenSlideView(call.ctx, call.Param("item_id")));
         return JsonReply(json{{"view", v.view},
                               {"expires_at", FormatRfc3339(v.expires_at)},
                               {"width", v.slide.width},
                               {"height", v.slide.height},
                               {"tile_size", v.slide.tile_size},
                               {"overlap", v.slide.overlap},
                               {"format", v.slide.format},
                               {"max_level", v.slide.levels - 1},
                               {"mpp_x", v.slide.mpp_x ? json(*v.slide.mpp_x) : json(nullptr)},
                               {"mpp_y", v.slide.mpp_y ? json(*v.slide.mpp_y) : json(nullptr)}},
                          201);
       }},
      {"GET", "/api/v1/items/{item_id}/dz/{view}/slide.dzi", Permission::kItemRead,
       "The Deep Zoom descriptor (XML) of the slide, inside a live viewer session of the caller (else 404): "
       "OpenSeadragon opens it as its tileSources.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto slide, app.CheckSlideView(call.ctx, call.Param("item_id"), call.Param("view")));
         Reply r;
         r.body = DziXml(slide);
         r.content_type = "application/xml";
         Private(r);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/dz/{view}/slide_files/{level}/{tile}.jpeg", Permission::kItemRead,
       "One Deep Zoom tile (JPEG; tile = col_row), only inside a live viewer session of the caller on this item "
       "(else 404, as past the last tile). Cache-Control: private, no-store.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string tile = call.Param("tile");
         const std::size_t sep = tile.find('_');
         auto level = WholeNumber(call.Param("level"), 64);
         auto col = sep == std::string::npos ? std::nullopt : WholeNumber(std::string_view(tile).substr(0, sep), 1 << 30);
         auto row = sep == std::string::npos ? std::nullopt : WholeNumber(std::string_view(tile).substr(sep + 1), 1 << 30);
         if (!level || !col || !row) return Error(ErrorCode::kNotFound, "no such tile");
         CALIPER_ASSIGN_OR_RETURN(auto jpeg, app.ReadSlideTile(call.ctx, call.Param("item_id"), call.Param("view"),
                                                               static_cast<int>(*level), *col, *row));
         Reply r;
         r.body = std::move(jpeg);
         r.content_type = "image/jpeg";
         Private(r);
         return r;
       }},
      {"PUT", "/api/v1/items/{item_id}/regions", Permission::kAnnotationWrite,
       "Store your regions on a slide as a new version: {\"annotations\": [W3C Web Annotation, ...]} as "
       "Annotorious' W3CImageFormat emits them, in level-0 pixels (polygon: SvgSelector; rectangle or point: "
       "FragmentSelector xywh=pixel:x,y,w,h, w=h=0 a point), with TextualBody bodies of purpose classifying "
       "(a class of the current guideline that applies to pathology), caliper:confidence (0..1) and "
       "caliper:borderline. 400 naming the annotation and field otherwise. Answers {version}. Audited.",
       BodyKind::kJson, {{"annotations", FieldType::kObjectArray, true, "the W3C Web Annotations"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto stored, app.PutRegions(call.ctx, call.Param("item_id"), call.body.dump()));
         return JsonReply(json{{"version", stored.version}});
       }},
      {"GET", "/api/v1/items/{item_id}/regions", Permission::kAnnotationRead,
       "Your latest regions on the slide: {version, annotations} (version 0 and no annotations when you have "
       "none). Each reader sees only their own. Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto own, app.ReadOwnMarkup(call.ctx, call.Param("item_id"),
                                                              storage::MarkupKind::kRegions));
         return JsonReply(RegionsJson(own));
       }},
      {"GET", "/api/v1/items/{item_id}/regions/agreement", Permission::kQualityRead,
       "Agreement between every reader's latest regions on the slide, per class: the regions rasterised on a "
       "grid whose longer side is at most 2048 cells (resolution.cell_px level-0 pixels a cell; a cell is inside "
       "when its centre is), pairwise Dice and IoU, and binary STAPLE (sensitivity and specificity per reader, "
       "consensus cells at posterior >= 0.5). Reader identities are shown: quality_read only. Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto report, app.RegionAgreement(call.ctx, call.Param("item_id")));
         return JsonReply(AgreementJson(report));
       }},
  };
}

}  // namespace caliper::http
