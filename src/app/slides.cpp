// Whole-slide images (docs/pathology.md): slides in through OpenSlide, de-identified and
// re-written as encrypted Deep Zoom tiles; the slide description that is a pathology item's
// content; viewer sessions and tiles.

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/lru_cache.h"
#include "caliper/app/app.h"
#include "caliper/security/crypto.h"
#include "caliper/wsi/slide.h"

namespace caliper::app {
namespace {

using nlohmann::json;
using storage::TxnMode;

// Our pyramid (docs/pathology.md): Deep Zoom tiles of 254 pixels plus 1 pixel of overlap (256
// at most, as openslide-python's default), JPEG quality 90.
constexpr int kTileSize = 254;
constexpr int kTileOverlap = 1;
constexpr int kJpegQuality = 90;

// The OpenSlide properties whose values Caliper keeps (as SlideInfo fields); every other
// property of the file is dropped.
bool IsKeptSlideProperty(const std::string& name) {
  return name == "openslide.mpp-x" || name == "openslide.mpp-y" || name == "openslide.objective-power" ||
         name == "openslide.vendor" || name == "openslide.level[0].width" || name == "openslide.level[0].height";
}

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<double> OptionalNumber(const json& j, const char* name) {
  if (!j.contains(name) || j[name].is_null()) return std::nullopt;
  return j[name].get<double>();
}



// A private temporary file (0600, in the data directory's tmp/, which is 0700) that is
// removed when this goes out of scope, whatever happens.
class PrivateTempFile {
 public:
  static Result<PrivateTempFile> Create(const std::string& dir, const std::string& suffix, std::string_view bytes) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error(ErrorCode::kIo, "cannot create " + dir + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    std::string path = dir + "/upload-XXXXXX" + suffix;
    const int fd = ::mkstemps(path.data(), static_cast<int>(suffix.size()));  // mode 0600
    if (fd < 0) return Error(ErrorCode::kIo, "cannot create a temporary file in " + dir);
    PrivateTempFile file(path);
    std::size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (n <= 0) {
        ::close(fd);
        return Error(ErrorCode::kIo, "cannot write the temporary file");
      }
      written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) return Error(ErrorCode::kIo, "cannot write the temporary file");
    return file;
  }
  PrivateTempFile(PrivateTempFile&& other) noexcept : path_(std::exchange(other.path_, "")) {}
  PrivateTempFile& operator=(PrivateTempFile&&) = delete;
  ~PrivateTempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit PrivateTempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The file name's extension (".svs"), lower case, when it is 1..8 letters or digits (OpenSlide
// tells some formats by it); "" otherwise. The name itself is never stored.
std::string SafeExtension(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos || name.size() - dot - 1 > 8 || dot + 1 == name.size()) return "";
  std::string ext = ".";
  for (char c : name.substr(dot + 1)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return "";
    ext.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return ext;
}

}  // namespace

std::string SlideInfoJson(const SlideInfo& s) {
  return json{{"width", s.width},
              {"height", s.height},
              {"mpp_x", Optional(s.mpp_x)},
              {"mpp_y", Optional(s.mpp_y)},
              {"objective_power", Optional(s.objective_power)},
              {"vendor", s.vendor},
              {"levels", s.levels},
              {"tile_size", s.tile_size},
              {"overlap", s.overlap},
              {"format", s.format}}
      .dump();
}

Result<SlideInfo> ParseSlideInfo(const std::string& json_text) {
  const json j = json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Error(ErrorCode::kIntegrity, "the slide description is not a JSON object");
  try {
    SlideInfo s;
    s.width = j.at("width").get<std::int64_t>();
    s.height = j.at("height").get<std::int64_t>();
    s.mpp_x = OptionalNumber(j, "mpp_x");
    s.mpp_y = OptionalNumber(j, "mpp_y");
    s.objective_power = OptionalNumber(j, "objective_power");
    s.vendor = j.at("vendor").get<std::string>();
    s.levels = j.at("levels").get<int>();
    s.tile_size = j.at("tile_size").get<int>();
    s.overlap = j.at("overlap").get<int>();
    s.format = j.at("format").get<std::string>();
    if (s.width <= 0 || s.height <= 0 || s.tile_size <= 0 || s.overlap < 0 || s.levels <= 0) {
      return Error(ErrorCode::kIntegrity, "the slide description has impossible dimensions");
    }
    return s;
  } catch (const json::exception& e) {
    return Error(ErrorCode::kIntegrity, std::string("the slide description is malformed: ") + e.what());
  }
}

Result<SlideInfo> App::SlideOf(const core::Item& item) {
  if (item.data_type != core::DataType::kPathology || item.content_type != kSlideContentType) {
    return Error(ErrorCode::kNotFound, "the item holds no slide");
  }
  CALIPER_ASSIGN_OR_RETURN(std::string text, DecryptContent(item));
  return ParseSlideInfo(text);
}

std::string SlideIngestResultJson(const SlideIngestResult& r) {
  json out{{"name", r.name}, {"outcome", r.outcome}};
  if (r.outcome == "stored") {
    out["item_id"] = r.item_id;
    out["slide"] = json::parse(SlideInfoJson(r.slide));
    out["tiles"] = r.tiles;
    out["dropped_properties"] = r.dropped_properties;
    out["dropped_images"] = r.dropped_images;
  } else {
    out["error"] = {{"code", r.error.code_name()}, {"message", r.error.message()}};
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- ingest ------------------------------------------------------------------------------------

Result<SlideIngestResult> App::IngestSlideFile(const RequestContext& ctx, const std::string& project_id,
                                               const std::string& path, const std::string& name,
                                               const std::function<void(std::int64_t, std::int64_t)>& progress) {
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  }
  SlideIngestResult r;
  r.name = name;
  r.outcome = "error";
  auto opened = wsi::Slide::Open(path);
  if (!opened.ok()) {
    r.error = opened.status();
    return r;
  }
  const wsi::Slide& slide = **opened;
  const wsi::SlideProperties& p = slide.properties();
  const wsi::DeepZoom dz = wsi::DeepZoomFor(p.width, p.height, kTileSize, kTileOverlap);
  r.slide.width = p.width;
  r.slide.height = p.height;
  r.slide.mpp_x = p.mpp_x;
  r.slide.mpp_y = p.mpp_y;
  r.slide.objective_power = p.objective_power;
  r.slide.vendor = p.vendor;
  r.slide.levels = dz.levels;
  r.slide.tile_size = dz.tile_size;
  r.slide.overlap = dz.overlap;
  r.slide.format = "jpeg";
  for (const auto& [property, value] : slide.AllProperties()) {
    if (!IsKeptSlideProperty(property)) ++r.dropped_properties;
  }
  r.dropped_images = slide.AssociatedImageNames();

  // Each slide is its own pseudonymous patient (a slide file names none Caliper keeps), so its
  // data key shreds it alone. The key is made (and committed, audited) before the tiles are
  // written outside any transaction; the rows that name them commit at the end.
  core::Item item;
  item.id = ids_.NewId("itm");
  item.project_id = project_id;
  item.data_type = core::DataType::kPathology;
  item.modality = "SM";
  item.cohort_json = "{}";
  item.content_type = kSlideContentType;
  item.created_at = clock_.Now();
  item.created_by = ctx.actor();
  security::KeyManager::DataKeyRef key;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    CALIPER_ASSIGN_OR_RETURN(std::string secret, TextSecret(*txn, project_id));
    item.patient_key = PatientKeyFor(secret, item.id);
    CALIPER_ASSIGN_OR_RETURN(key, key_manager_.DataKeyFor(*txn, project_id, item.patient_key));
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(
        *txn, Record(ctx, "slide.ingest_start", "project", project_id,
                     json{{"item_id", item.id}, {"tiles", dz.TileCount()}}.dump())));
  }
  std::vector<storage::SlideTile> tiles;
  auto forget = [&] {
    security::SecureZero(key.key.data(), key.key.size());
    for (const auto& t : tiles) (void)blobs_->Remove(t.blob);
  };
  for (int level = 0; level < dz.levels; ++level) {
    for (std::int64_t row = 0; row < dz.Rows(level); ++row) {
      for (std::int64_t col = 0; col < dz.Columns(level); ++col) {
        Status s = [&]() -> Status {
          CALIPER_ASSIGN_OR_RETURN(wsi::RgbImage rgb, slide.RenderTile(dz, level, col, row));
          CALIPER_ASSIGN_OR_RETURN(auto jpeg, wsi::EncodeJpeg(rgb, kJpegQuality));
          std::istringstream in(std::string(jpeg.begin(), jpeg.end()));
          CALIPER_ASSIGN_OR_RETURN(auto put, blobs_->Put(key.key, key.id, in));
          tiles.push_back({item.id, level, col, row, put.address, put.bytes});
          if (progress) progress(static_cast<std::int64_t>(tiles.size()), dz.TileCount());
          return Status::Ok();
        }();
        if (!s.ok()) {
          forget();
          if (s.code() == ErrorCode::kIo || s.code() == ErrorCode::kStorage) return s;
          r.error = s.WithContext("Deep Zoom level " + std::to_string(level) + " tile " + std::to_string(col) +
                                  "_" + std::to_string(row));
          return r;
        }
      }
    }
  }
  security::SecureZero(key.key.data(), key.key.size());
  Status stored = [&]() -> Status {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    std::istringstream content(SlideInfoJson(r.slide));
    CALIPER_RETURN_IF_ERROR(InsertItemWithContent(*txn, item, content));
    for (const auto& t : tiles) {
      // The first tiles may be hours old by now: touched, so the blob sweep (which deletes
      // old files no row names) keeps them; one it took already fails the ingest here.
      CALIPER_RETURN_IF_ERROR(blobs_->Touch(t.blob));
      CALIPER_RETURN_IF_ERROR(txn->InsertSlideTile(t));
    }
    const json details{{"width", p.width},           {"height", p.height},
                       {"levels", dz.levels},        {"tiles", tiles.size()},
                       {"dropped_properties", r.dropped_properties}, {"dropped_images", r.dropped_images}};
    const std::vector<security::AuditRecord> records = {
        Record(ctx, "item.create", "item", item.id,
               json{{"project_id", project_id}, {"bytes", item.content_bytes}, {"data_type", "pathology"}}.dump()),
        Record(ctx, "slide.ingest", "item", item.id, details.dump())};
    return CommitWithAudit(*txn, records);
  }();
  if (!stored.ok()) {
    forget();
    return stored;
  }
  r.outcome = "stored";
  r.item_id = item.id;
  r.tiles = static_cast<std::int64_t>(tiles.size());
  return r;
}

Result<SlideIngestResult> App::IngestSlideBytes(const RequestContext& ctx, const std::string& project_id,
                                                std::string_view bytes, const std::string& name) {
  CALIPER_ASSIGN_OR_RETURN(auto file, PrivateTempFile::Create(paths_.root + "/tmp", SafeExtension(name), bytes));
  return IngestSlideFile(ctx, project_id, file.path(), name);
}

// ---- viewing -----------------------------------------------------------------------------------

Result<SlideInfo> App::ReadSlideInfo(const RequestContext& ctx, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  return SlideOf(item);
}

Result<SlideViewSession> App::OpenSlideView(const RequestContext& ctx, const std::string& item_id) {
  CALIPER_ASSIGN_OR_RETURN(core::Item item, GetItem(ctx, item_id));
  CALIPER_ASSIGN_OR_RETURN(SlideInfo slide, SlideOf(item));
  storage::SlideView view;
  view.id = ids_.NewId("dzv");
  view.item_id = item.id;
  view.user_id = ctx.principal.user.id;
  view.created_at = clock_.Now();
  view.expires_at = view.created_at + slide_view_minutes_ * kMicrosPerMinute;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->InsertSlideView(view));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "slide.view_open", "item", item.id,
                   json{{"view", view.id}, {"expires_at", view.expires_at}}.dump())));
  return SlideViewSession{view.id, view.expires_at, slide};
}

Result<SlideInfo> App::CheckSlideView(const RequestContext& ctx, const std::string& item_id,
                                      const std::string& view_id) {
  core::Item item;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    auto view = txn->GetSlideView(view_id);
    if (!view.ok() && view.status().code() != ErrorCode::kNotFound) return view.status();
    if (!view.ok() || view->item_id != item_id || view->user_id != ctx.principal.user.id) {
      return Error(ErrorCode::kNotFound, "no viewer session of yours on this slide; open one first");
    }
    if (view->expires_at <= clock_.Now()) {
      return Error(ErrorCode::kNotFound, "your viewer session on this slide has ended; open a new one");
    }
    CALIPER_ASSIGN_OR_RETURN(item, txn->GetItem(item_id));
  }
  return SlideOf(item);
}

Result<std::string> App::ReadSlideTile(const RequestContext& ctx, const std::string& item_id,
                                       const std::string& view_id, int level, std::int64_t col, std::int64_t row) {
  CALIPER_ASSIGN_OR_RETURN(SlideInfo slide, CheckSlideView(ctx, item_id, view_id));
  const wsi::DeepZoom dz = wsi::DeepZoomFor(slide.width, slide.height, slide.tile_size, slide.overlap);
  if (level < 0 || level >= dz.levels || col < 0 || row < 0 || col >= dz.Columns(level) || row >= dz.Rows(level)) {
    return Error(ErrorCode::kNotFound, "no such tile");
  }
  const std::string key = item_id + "/" + std::to_string(level) + "/" + std::to_string(col) + "_" + std::to_string(row);
  if (auto hit = tile_cache_->Find(key)) return *hit;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(storage::SlideTile tile, txn->GetSlideTile(item_id, level, col, row));
  CALIPER_ASSIGN_OR_RETURN(std::string jpeg, GetBlob(*txn, tile.blob));
  auto shared = std::make_shared<const std::string>(std::move(jpeg));
  tile_cache_->Put(key, shared, shared->size());
  return *shared;
}

}  // namespace caliper::app
