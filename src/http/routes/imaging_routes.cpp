// Imaging (docs/imaging.md): DICOM instances in over DICOMweb STOW-RS (de-identified before
// storage, one item per series), the item's volume as NIfTI, rendered slices, each reader's
// mask on the volume, the re-identification link for data stewards, and the calling AE titles
// the C-STORE receiver takes instances from.

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "http/multipart_related.h"
#include "http/route.h"

namespace caliper::http {
namespace {

json MaskJson(const app::MaskVersion& m) {
  return json{{"id", m.id},
              {"item_id", m.item_id},
              {"version", m.version},
              {"bytes", m.bytes},
              {"labels", m.labels},
              {"created_at", FormatRfc3339(m.created_at)}};
}

// Bytes served as a download: never rendered as a document of this origin.
Reply Download(std::string bytes, const std::string& content_type, const std::string& filename) {
  Reply r;
  r.body = std::move(bytes);
  r.content_type = content_type;
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
  r.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
  return r;
}

json QuarantinedJson(const storage::QuarantinedInstance& q) {
  return json{{"id", q.id},
              {"project_id", q.project_id},
              {"status", q.status},
              {"sop_instance_uid", q.sop_instance_uid},
              {"series_uid", q.series_uid},
              {"study_uid", q.study_uid},
              {"modality", q.modality},
              {"reasons", q.reasons},
              {"bytes", q.bytes},
              {"created_at", FormatRfc3339(q.created_at)},
              {"created_by", q.created_by},
              {"decided_at", q.decided_at ? json(FormatRfc3339(*q.decided_at)) : json(nullptr)},
              {"decided_by", q.decided_by.empty() ? json(nullptr) : json(q.decided_by)},
              {"reason", q.reason},
              {"rects", json::parse(q.rects_json, nullptr, false)},
              {"item_id", q.item_id.empty() ? json(nullptr) : json(q.item_id)}};
}

// A decision's body: {reason?} (release), {rects, reason?} (blank), {reason} (discard).
Result<app::QuarantineDecision> DecisionFrom(app::QuarantineAction action, const json& body) {
  app::QuarantineDecision d;
  d.action = action;
  if (body.contains("reason")) d.reason = body["reason"].get<std::string>();
  if (body.contains("rects")) {
    for (const json& r : body["rects"]) {
      auto whole = [&](const char* name) -> Result<int> {
        if (!r.is_object() || !r.contains(name) || !r[name].is_number_integer() ||
            std::abs(r[name].get<std::int64_t>()) > 1'000'000) {
          return Error(ErrorCode::kInvalidArgument, std::string("each rectangle needs a whole number ") + name);
        }
        return r[name].get<int>();
      };
      dicom::PixelRect rect;
      CALIPER_ASSIGN_OR_RETURN(rect.x, whole("x"));
      CALIPER_ASSIGN_OR_RETURN(rect.y, whole("y"));
      CALIPER_ASSIGN_OR_RETURN(rect.width, whole("width"));
      CALIPER_ASSIGN_OR_RETURN(rect.height, whole("height"));
      d.rects.push_back(rect);
    }
  }
  return d;
}

Route DecisionRoute(app::QuarantineAction action, const char* path, const char* summary,
                    std::vector<Field> fields) {
  return {"POST", path, security::Permission::kQuarantineReview, summary, BodyKind::kJson, std::move(fields),
          [action](app::App& app, Call& call) -> Result<Reply> {
            CALIPER_ASSIGN_OR_RETURN(auto decision, DecisionFrom(action, call.body));
            CALIPER_ASSIGN_OR_RETURN(auto q, app.DecideQuarantined(call.ctx, call.Param("project_id"),
                                                                   call.Param("quarantine_id"), decision));
            return JsonReply(QuarantinedJson(q));
          }};
}

// A whole number 0..1000000 from a path word.
Result<int> SliceIndex(const std::string& text) {
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 1'000'000) {
    return Error(ErrorCode::kInvalidArgument, "the slice index must be a whole number");
  }
  return value;
}

// The project's sources, and where this server's receiver listens as configured (listen "" when
// it is off), so a manager can tell a modality's engineer where to send.
json DicomSourcesJson(const std::vector<core::DicomSource>& sources, const Config& config) {
  json list = json::array();
  for (const auto& s : sources) list.push_back({{"ae_title", s.ae_title}, {"description", s.description}});
  return json{{"sources", list},
              {"receiver",
               {{"listen", config.GetString("dicom_scp.listen")}, {"ae_title", config.GetString("dicom_scp.ae_title")}}}};
}

}  // namespace

std::vector<Route> ImagingRoutes() {
  using security::Permission;
  return {
      {"GET", "/api/v1/projects/{project_id}/dicom-settings", Permission::kTaskAssign,
       "How the project de-identifies DICOM (docs/deid-dicom.md): PS3.15 options, safe private elements and "
       "pixel blanking rules, in the words of caliper deid dicom.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto d, app.GetDicomSettings(call.ctx, call.Param("project_id")));
         return JsonReply(DicomSettingsJson(d));
       }},
      {"PUT", "/api/v1/projects/{project_id}/dicom-settings", Permission::kTaskAssign,
       "Set how DICOM is de-identified from now on (instances stored before keep their form; UIDs and "
       "pseudonyms do not depend on the options). Members left out are empty.",
       BodyKind::kJson,
       {{"options", FieldType::kStringArray, false,
         "retain-dates, retain-patient-characteristics, retain-device-identity, clean-descriptors, "
         "retain-safe-private"},
        {"safe_private", FieldType::kStringArray, false,
         "private elements kept under Retain Safe Private: CREATOR:GGGG:EE (hex)"},
        {"blanking", FieldType::kStringArray, false,
         "pixel blanking rules: MODALITY[/MANUFACTURER[/MODEL]]:X,Y,W,H"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         core::DicomSettings d;
         d.project_id = call.Param("project_id");
         if (call.body.contains("options")) d.options = StringList(call.body["options"]);
         if (call.body.contains("safe_private")) d.safe_private = StringList(call.body["safe_private"]);
         if (call.body.contains("blanking")) d.blanking = StringList(call.body["blanking"]);
         CALIPER_ASSIGN_OR_RETURN(auto saved, app.PutDicomSettings(call.ctx, d));
         return JsonReply(DicomSettingsJson(saved));
       }},
      {"POST", "/api/v1/projects/{project_id}/dicomweb/studies", Permission::kItemCreate,
       "Store DICOM instances (DICOMweb STOW-RS, PS3.18 10.5): multipart/related; type=\"application/dicom\", one "
       "Part 10 instance per part. Each is de-identified (PS3.15 Basic Profile) before storage and stored in the "
       "item of its series (one per Series Instance UID, also across requests), whose volume is rebuilt as NIfTI. "
       "The answer is Caliper's per-instance report (stored, duplicate, quarantined for suspected burned-in text, "
       "or error with its reason; for each instance that was de-identified, its `actions`: what was removed, "
       "remapped, shifted, blanked and decompressed) with the series touched: 200 when every instance was "
       "stored or was a duplicate, 202 when some were not.",
       BodyKind::kDicomStow, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto type, ParseRelatedContentType(call.req.get_header_value("Content-Type")));
         if (!type.type.empty() && type.type != "application/dicom") {
           return Error(ErrorCode::kUnsupported, "only type=\"application/dicom\" instances are accepted");
         }
         CALIPER_ASSIGN_OR_RETURN(auto parts, ParseMultipartRelated(call.req.body, type.boundary));
         if (parts.empty()) return Error(ErrorCode::kInvalidArgument, "the request holds no instance");
         // Parts of another media type are reported in place; the others go to the ingest.
         std::vector<app::ImagingInput> inputs;
         std::vector<std::size_t> position;  // part index of each input
         std::vector<app::DicomFileResult> refused(parts.size());
         for (std::size_t i = 0; i < parts.size(); ++i) {
           const std::string name = "part " + std::to_string(i + 1);
           if (!parts[i].content_type.empty() && parts[i].content_type != "application/dicom") {
             refused[i].name = name;
             refused[i].outcome = "error";
             refused[i].error = Error(ErrorCode::kUnsupported, "the part is " + parts[i].content_type +
                                                                   ", not application/dicom");
             continue;
           }
           inputs.push_back({name, std::string(parts[i].body)});
           position.push_back(i);
         }
         CALIPER_ASSIGN_OR_RETURN(auto report, app.IngestDicom(call.ctx, call.Param("project_id"), std::move(inputs)));
         for (std::size_t k = 0; k < report.files.size(); ++k) refused[position[k]] = std::move(report.files[k]);
         report.files = std::move(refused);
         bool all_in = true;
         for (const auto& f : report.files) all_in = all_in && (f.outcome == "stored" || f.outcome == "duplicate");
         Reply r;
         r.status = all_in ? 200 : 202;
         r.body = app::DicomIngestReportJson(report);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/volume.nii.gz", Permission::kItemRead,
       "The item's volume as NIfTI-1 (.nii.gz; RAS affine, DICOM voxel order) for the viewer (audited). 404 when "
       "the item has none (e.g. a series whose slices do not form one regular stack).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto bytes, app.ReadVolumeNifti(call.ctx, call.Param("item_id")));
         return Download(std::move(bytes), "application/gzip", "volume.nii.gz");
       }},
      {"GET", "/api/v1/items/{item_id}/slices/{plane}/{index}.png", Permission::kItemRead,
       "One slice of the item's volume as an 8-bit PNG (plane axial, coronal or sagittal; index from 0; "
       "radiological display convention, square pixels). Window: ?preset= (ct-brain, ct-lung, ..., mr-auto), or "
       "?wc=&ww=, else the series' own or the modality default. Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::App::SliceRequest request;
         request.plane = call.Param("plane");
         CALIPER_ASSIGN_OR_RETURN(request.index, SliceIndex(call.Param("index")));
         if (call.req.has_param("preset")) request.preset = call.req.get_param_value("preset");
         CALIPER_ASSIGN_OR_RETURN(request.center, QueryNumber(call.req, "wc"));
         CALIPER_ASSIGN_OR_RETURN(request.width, QueryNumber(call.req, "ww"));
         CALIPER_ASSIGN_OR_RETURN(auto png, app.RenderSlice(call.ctx, call.Param("item_id"), request));
         Reply r;
         r.body = std::move(png);
         r.content_type = "image/png";
         r.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
         return r;
       }},
      {"PUT", "/api/v1/items/{item_id}/mask", Permission::kAnnotationWrite,
       "Store your mask on the item's volume as a new version: a NIfTI label map (application/gzip or "
       "application/octet-stream; .nii or .nii.gz; integer labels 0..255, 0 = background) or a DICOM Segmentation "
       "(application/dicom; BINARY or FRACTIONAL) of the item's DICOM series (its Frame of Reference and Referenced "
       "Series are the stored series', or the original series' as the project's de-identification maps them). On "
       "exactly the volume's grid (same dimensions and affine, else 400 saying what differs). With segmentation "
       "classes in the current guideline, label k is its k-th segmentation class and other labels are refused; a "
       "SEG's segments go to the class whose code is their Segmented Property Type, else whose id or name is their "
       "Segment Label (400 naming a segment that maps to none). Kept compressed and encrypted; each reader's masks "
       "are their own.",
       BodyKind::kMask, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string type = call.req.get_header_value("Content-Type");
         std::string base = type.substr(0, type.find(';'));
         for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         base.erase(base.find_last_not_of(' ') + 1);
         app::MaskFormat format = app::MaskFormat::kNifti;
         if (base == "application/dicom") {
           format = app::MaskFormat::kDicomSeg;
         } else if (base != "application/gzip" && base != "application/octet-stream" && base != "application/x-nifti") {
           return Error(ErrorCode::kUnsupported, "send the mask as application/gzip (.nii.gz), application/octet-stream "
                                                 "(.nii) or application/dicom (DICOM-SEG)");
         }
         CALIPER_ASSIGN_OR_RETURN(auto mask, app.PutMask(call.ctx, call.Param("item_id"), call.req.body, format));
         return JsonReply(MaskJson(mask));
       }},
      {"GET", "/api/v1/items/{item_id}/mask", Permission::kAnnotationRead,
       "Your latest mask on the item as NIfTI (.nii.gz, uint8, the volume's geometry); 404 when you have none. "
       "Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto bytes, app.ReadOwnMask(call.ctx, call.Param("item_id")));
         return Download(std::move(bytes), "application/gzip", "mask.nii.gz");
       }},
      {"GET", "/api/v1/items/{item_id}/readings/{task_id}/mask", Permission::kAdjudicate,
       "The mask a submitted reading of the item stands on (the highest version its labels name as mask "
       "evidence) as NIfTI (.nii.gz, uint8, the volume's geometry), for the adjudicator comparing readings; 404 "
       "when the task is not such a reading. Adjudicators only; audited as mask.read.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto bytes,
                                  app.ReadReadingMask(call.ctx, call.Param("item_id"), call.Param("task_id")));
         return Download(std::move(bytes), "application/gzip", "mask.nii.gz");
       }},
      {"GET", "/api/v1/items/{item_id}/fused-mask", Permission::kAdjudicate,
       "The fused suggestion for the masks of the item's submitted readings: their multi-label STAPLE consensus "
       "(Warfield et al. 2004; each voxel the label of highest posterior) as NIfTI (.nii.gz); the fit (labels, "
       "priors, iterations, each reading's agreement per label) in the X-Caliper-Fusion header as JSON. 409 "
       "with fewer than two readings whose labels name a mask. Adjudicators only; audited as mask.read.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto fused, app.ReadFusedMask(call.ctx, call.Param("item_id")));
         Reply r = Download(std::move(fused.nifti), "application/gzip", "fused-mask.nii.gz");
         r.headers.emplace_back("X-Caliper-Fusion", fused.description);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/instances/{sop_instance_uid}", Permission::kItemRead,
       "One stored instance of a DICOM series item (de-identified, as stored) as application/dicom, by its "
       "pseudonymous SOP Instance UID (the ingest report names it). Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto bytes, app.ReadDicomInstance(call.ctx, call.Param("item_id"),
                                                                    call.Param("sop_instance_uid")));
         return Download(std::move(bytes), "application/dicom", "instance.dcm");
       }},
      {"GET", "/api/v1/projects/{project_id}/quarantine", Permission::kQuarantineReview,
       "DICOM instances held for pixel review (suspected burned-in text, no blanking rule), by id, with their "
       "reasons and decisions; ?status=pending|released|blanked|discarded; cursor pagination; `pending` says how "
       "many of the project's entries are pending, whatever the filter. Data stewards only; audited as "
       "quarantine.list.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         const std::string status = call.req.has_param("status") ? call.req.get_param_value("status") : "";
         CALIPER_ASSIGN_OR_RETURN(auto list, app.ListQuarantine(call.ctx, call.Param("project_id"), status, page));
         json out = PageJson(list, QuarantinedJson);
         out["pending"] = list.pending;
         return JsonReply(out);
       }},
      {"GET", "/api/v1/projects/{project_id}/quarantine/{quarantine_id}", Permission::kQuarantineReview,
       "One quarantined instance: reasons, pseudonymous UIDs, and once decided who, when, why, the rectangles "
       "and the item it went to.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto q, app.GetQuarantined(call.ctx, call.Param("project_id"),
                                                             call.Param("quarantine_id")));
         return JsonReply(QuarantinedJson(q));
       }},
      {"GET", "/api/v1/projects/{project_id}/quarantine/{quarantine_id}/frames/{index}.png",
       Permission::kQuarantineReview,
       "One frame (from 0) of a pending quarantined instance as PNG, as stored: rows and columns as in Pixel "
       "Data, the coordinates blanking rectangles use. The header Caliper-Frame-Count says how many frames the "
       "instance holds. Audited as quarantine.view.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(int frame, SliceIndex(call.Param("index")));
         CALIPER_ASSIGN_OR_RETURN(auto rendered, app.RenderQuarantinedFrame(call.ctx, call.Param("project_id"),
                                                                            call.Param("quarantine_id"), frame));
         Reply r;
         r.body = std::move(rendered.png);
         r.content_type = "image/png";
         r.headers.emplace_back("Caliper-Frame-Count", std::to_string(rendered.frames));
         return r;
       }},
      DecisionRoute(app::QuarantineAction::kRelease, "/api/v1/projects/{project_id}/quarantine/{quarantine_id}/release",
                    "You looked and saw no identifier: the instance is stored into its series' item as ingest would "
                    "have. Audited with you as the decider; an entry is decided once (409 after).",
                    {{"reason", FieldType::kString, false, "what you checked"}}),
      DecisionRoute(app::QuarantineAction::kBlank, "/api/v1/projects/{project_id}/quarantine/{quarantine_id}/blank",
                    "Zero these rectangles in every frame, then release. Compressed pixel data is decoded and "
                    "stored native (Explicit VR Little Endian, never re-encoded); a syntax Caliper cannot decode is "
                    "415 unsupported. Audited with the rectangles (and the syntax decoded from).",
                    {{"rects", FieldType::kObjectArray, true, "[{x, y, width, height}] in pixels of every frame"},
                     {"reason", FieldType::kString, false, "what was burned in"}}),
      DecisionRoute(app::QuarantineAction::kDiscard, "/api/v1/projects/{project_id}/quarantine/{quarantine_id}/discard",
                    "Delete the pixels; the entry keeps who, when and why. Audited.",
                    {{"reason", FieldType::kString, true, "why it is discarded"}}),
      {"GET", "/api/v1/items/{item_id}/reidentification", Permission::kReidentify,
       "Where a DICOM series item came from: original Patient ID (and issuer) and Study Instance UID with the "
       "pseudonyms that replaced them. Data stewards only; audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto link, app.ReadReidentificationLink(call.ctx, call.Param("item_id")));
         Reply r;
         r.body = std::move(link);
         return r;
       }},
      {"GET", "/api/v1/projects/{project_id}/dicom-sources", Permission::kTaskAssign,
       "The calling AE titles the C-STORE receiver takes instances from for this project "
       "(docs/imaging.md, \"C-STORE receiver\"): {\"sources\": [{\"ae_title\", \"description\"}], \"receiver\": "
       "{\"listen\", \"ae_title\"}}; receiver is where this server's receiver listens as configured (listen \"\" "
       "when it is off).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto sources, app.GetDicomSources(call.ctx, call.Param("project_id")));
         return JsonReply(DicomSourcesJson(sources, app.config()));
       }},
      {"PUT", "/api/v1/projects/{project_id}/dicom-sources", Permission::kTaskAssign,
       "Replace the project's list of DICOM sources. Each AE title: 1-16 printable ASCII characters, no "
       "backslash, not only spaces (kept trimmed), listed once, and not another project's (409). Audited.",
       BodyKind::kJson,
       {{"sources", FieldType::kObjectArray, true,
         "[{\"ae_title\", \"description\" (optional, at most 200 characters)}]"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::vector<core::DicomSource> sources;
         for (const json& s : call.body["sources"]) {
           if (!s.contains("ae_title") || !s["ae_title"].is_string() ||
               (s.contains("description") && !s["description"].is_string())) {
             return Error(ErrorCode::kInvalidArgument, "each source needs a string ae_title (and description)");
           }
           for (const auto& [key, value] : s.items()) {
             if (key != "ae_title" && key != "description") {
               return Error(ErrorCode::kInvalidArgument, "unknown field '" + key + "' in a DICOM source");
             }
           }
           sources.push_back({s["ae_title"].get<std::string>(), s.value("description", "")});
         }
         CALIPER_ASSIGN_OR_RETURN(auto saved, app.PutDicomSources(call.ctx, call.Param("project_id"), sources));
         return JsonReply(DicomSourcesJson(saved, app.config()));
       }},
  };
}

}  // namespace caliper::http
