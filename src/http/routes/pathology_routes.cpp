// Whole-slide pathology (docs/pathology.md): readers' regions on a slide as W3C Web
// Annotations.

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

}  // namespace

std::vector<Route> PathologyRoutes() {
  using security::Permission;
  return {
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
  };
}

}  // namespace caliper::http
