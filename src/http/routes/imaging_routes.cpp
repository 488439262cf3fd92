// Imaging (docs/imaging.md): DICOM instances in over DICOMweb STOW-RS (de-identified before
// storage, one item per series), the item's volume as NIfTI, rendered slices, each reader's
// mask on the volume, and the re-identification link for data stewards.

#include <cctype>
#include <charconv>
#include <cmath>

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

// A whole number 0..1000000 from a path word.
Result<int> SliceIndex(const std::string& text) {
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 1'000'000) {
    return Error(ErrorCode::kInvalidArgument, "the slice index must be a whole number");
  }
  return value;
}

}  // namespace

std::vector<Route> ImagingRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/dicomweb/studies", Permission::kItemCreate,
       "Store DICOM instances (DICOMweb STOW-RS, PS3.18 10.5): multipart/related; type=\"application/dicom\", one "
       "Part 10 instance per part. Each is de-identified (PS3.15 Basic Profile) before storage and stored in the "
       "item of its series (one per Series Instance UID, also across requests), whose volume is rebuilt as NIfTI. "
       "The answer is Caliper's per-instance report (stored, duplicate, quarantined for suspected burned-in text, "
       "or error with its reason) with the series touched: 200 when every instance was stored or was a "
       "duplicate, 202 when some were not.",
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
       "Store your mask on the item's volume as a new version: a NIfTI label map (.nii or .nii.gz; integer labels "
       "0..255, 0 = background) on exactly the volume's grid (same dimensions and affine, else 400 saying what "
       "differs). With segmentation classes in the current guideline, label k is its k-th segmentation class "
       "and other labels are refused. Kept compressed and encrypted; each reader's masks are their own.",
       BodyKind::kNifti, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string type = call.req.get_header_value("Content-Type");
         std::string base = type.substr(0, type.find(';'));
         for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         base.erase(base.find_last_not_of(' ') + 1);
         if (base != "application/gzip" && base != "application/octet-stream" && base != "application/x-nifti") {
           return Error(ErrorCode::kUnsupported, "send the mask as application/gzip (.nii.gz) or application/octet-stream");
         }
         CALIPER_ASSIGN_OR_RETURN(auto mask, app.PutMask(call.ctx, call.Param("item_id"), call.req.body));
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
  };
}

}  // namespace caliper::http
