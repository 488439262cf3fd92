// OpenSlide bridge: no other file includes openslide.h.

#include "caliper/wsi/slide.h"

#include <dlfcn.h>
#include <openslide/openslide.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace caliper::wsi {
namespace {

// OpenSlide is opened on first use (dlopen), not linked: with the ~50 libraries it brings (GLib,
// cairo, libxml2, libtiff, ...) it cost every caliper process, whatever its command, some 7 ms of
// CPU to load and relocate at start, though only reading a slide needs it. Every OpenSlide
// function Caliper calls is named once here: declared with the header's type, looked up by its
// exported name.
#define CALIPER_OPENSLIDE_FUNCTIONS(X)                                                             \
  X(detect_vendor) X(open) X(close) X(get_error) X(get_level0_dimensions) X(get_level_dimensions) \
  X(get_level_downsample) X(get_best_level_for_downsample) X(read_region) X(get_property_names)   \
  X(get_property_value) X(get_associated_image_names)

struct OpenSlide {
#define CALIPER_OPENSLIDE_DECLARE(name) decltype(&openslide_##name) name = nullptr;
  CALIPER_OPENSLIDE_FUNCTIONS(CALIPER_OPENSLIDE_DECLARE)
#undef CALIPER_OPENSLIDE_DECLARE
};

Result<const OpenSlide*> LoadOpenSlide() {
  static const Result<OpenSlide> loaded = []() -> Result<OpenSlide> {
    void* lib = ::dlopen(CALIPER_OPENSLIDE_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      return Error(ErrorCode::kUnavailable, std::string("cannot load OpenSlide (") + CALIPER_OPENSLIDE_LIBRARY +
                                                "), which reading slides needs: " + ::dlerror());
    }
    OpenSlide api;
    std::string missing;
    const auto bind = [&](auto& fn, const char* name) {
      void* sym = ::dlsym(lib, name);
      if (sym == nullptr) missing += std::string(missing.empty() ? "" : ", ") + name;
      static_assert(sizeof fn == sizeof sym);
      std::memcpy(&fn, &sym, sizeof fn);
    };
#define CALIPER_OPENSLIDE_BIND(name) bind(api.name, "openslide_" #name);
    CALIPER_OPENSLIDE_FUNCTIONS(CALIPER_OPENSLIDE_BIND)
#undef CALIPER_OPENSLIDE_BIND
    if (!missing.empty()) {
      return Error(ErrorCode::kUnavailable, std::string(CALIPER_OPENSLIDE_LIBRARY) + " lacks " + missing);
    }
    return api;  // the library stays loaded for the process's life
  }();
  if (!loaded.ok()) return loaded.status();
  return &*loaded;
}

// A region read at one slide level holds at most this many pixels (1 GiB of ARGB).
constexpr std::int64_t kMaxReadPixels = std::int64_t{1} << 28;

std::optional<double> NumberProperty(const OpenSlide& api, openslide_t* osr, const char* name) {
  const char* text = api.get_property_value(osr, name);
  if (text == nullptr) return std::nullopt;
  double v = 0;
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v) || v <= 0) return std::nullopt;
  return v;
}

// OpenSlide's premultiplied ARGB over white, as RGB.
RgbImage OverWhite(const std::vector<std::uint32_t>& argb, int width, int height) {
  RgbImage out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < argb.size(); ++i) {
    const std::uint32_t p = argb[i];
    const int a = static_cast<int>(p >> 24);
    const int blank = 255 - a;
    out.pixels[3 * i] = static_cast<std::uint8_t>(std::min(255, static_cast<int>((p >> 16) & 0xff) + blank));
    out.pixels[3 * i + 1] = static_cast<std::uint8_t>(std::min(255, static_cast<int>((p >> 8) & 0xff) + blank));
    out.pixels[3 * i + 2] = static_cast<std::uint8_t>(std::min(255, static_cast<int>(p & 0xff) + blank));
  }
  return out;
}

// Area average of `in` down (or up) to width x height: each output pixel is the mean of the
// input pixels whose centres fall in its footprint (at least the nearest one).
RgbImage Resize(const RgbImage& in, int width, int height) {
  if (in.width == width && in.height == height) return in;
  RgbImage out;
  out.width = width;
  out.height = height;
  out.pixels.resize(static_cast<std::size_t>(width) * height * 3);
  const double sx = static_cast<double>(in.width) / width, sy = static_cast<double>(in.height) / height;
  for (int y = 0; y < height; ++y) {
    int y0 = static_cast<int>(std::floor(y * sy)), y1 = static_cast<int>(std::floor((y + 1) * sy));
    y0 = std::clamp(y0, 0, in.height - 1);
    y1 = std::clamp(std::max(y1, y0 + 1), 1, in.height);
    for (int x = 0; x < width; ++x) {
      int x0 = static_cast<int>(std::floor(x * sx)), x1 = static_cast<int>(std::floor((x + 1) * sx));
      x0 = std::clamp(x0, 0, in.width - 1);
      x1 = std::clamp(std::max(x1, x0 + 1), 1, in.width);
      unsigned sum[3] = {0, 0, 0};
      for (int v = y0; v < y1; ++v) {
        const std::uint8_t* row = &in.pixels[(static_cast<std::size_t>(v) * in.width + x0) * 3];
        for (int u = 0; u < x1 - x0; ++u) {
          sum[0] += row[3 * u];
          sum[1] += row[3 * u + 1];
          sum[2] += row[3 * u + 2];
        }
      }
      const unsigned n = static_cast<unsigned>((y1 - y0) * (x1 - x0));
      std::uint8_t* o = &out.pixels[(static_cast<std::size_t>(y) * width + x) * 3];
      for (int c = 0; c < 3; ++c) o[c] = static_cast<std::uint8_t>((sum[c] + n / 2) / n);
    }
  }
  return out;
}

}  // namespace

// ---- Deep Zoom layout (the arithmetic of openslide-python's DeepZoomGenerator) ----------------

DeepZoom DeepZoomFor(std::int64_t width, std::int64_t height, int tile_size, int overlap) {
  DeepZoom dz;
  dz.width = width;
  dz.height = height;
  dz.tile_size = tile_size;
  dz.overlap = overlap;
  // Halve (rounding up) until 1 x 1: ceil(log2(max side)) + 1 levels.
  std::int64_t side = std::max(width, height);
  dz.levels = 1;
  while (side > 1) {
    side = (side + 1) / 2;
    ++dz.levels;
  }
  return dz;
}

std::int64_t DeepZoom::LevelWidth(int level) const {
  std::int64_t w = width;
  for (int l = levels - 1; l > level; --l) w = (w + 1) / 2;
  return w;
}

std::int64_t DeepZoom::LevelHeight(int level) const {
  std::int64_t h = height;
  for (int l = levels - 1; l > level; --l) h = (h + 1) / 2;
  return h;
}

std::int64_t DeepZoom::Columns(int level) const { return (LevelWidth(level) + tile_size - 1) / tile_size; }
std::int64_t DeepZoom::Rows(int level) const { return (LevelHeight(level) + tile_size - 1) / tile_size; }

DeepZoom::Rect DeepZoom::TileRect(int level, std::int64_t col, std::int64_t row) const {
  auto axis = [&](std::int64_t t, std::int64_t count, std::int64_t dim, std::int64_t& at, std::int64_t& size) {
    const std::int64_t before = t > 0 ? overlap : 0, after = t < count - 1 ? overlap : 0;
    at = t * tile_size - before;
    size = std::min<std::int64_t>(tile_size, dim - t * tile_size) + before + after;
  };
  Rect r;
  axis(col, Columns(level), LevelWidth(level), r.x, r.width);
  axis(row, Rows(level), LevelHeight(level), r.y, r.height);
  return r;
}

std::int64_t DeepZoom::TileCount() const {
  std::int64_t n = 0;
  for (int l = 0; l < levels; ++l) n += Columns(l) * Rows(l);
  return n;
}

// ---- the slide ---------------------------------------------------------------------------------

struct Slide::Handle {
  const OpenSlide* api = nullptr;
  openslide_t* osr = nullptr;
  ~Handle() {
    if (osr != nullptr) api->close(osr);
  }
};

Slide::Slide(std::unique_ptr<Handle> handle, SlideProperties properties)
    : handle_(std::move(handle)), properties_(std::move(properties)) {}
Slide::~Slide() = default;

Result<std::unique_ptr<Slide>> Slide::Open(const std::string& path) {
  CALIPER_ASSIGN_OR_RETURN(const OpenSlide* api, LoadOpenSlide());
  const char* vendor = api->detect_vendor(path.c_str());
  if (vendor == nullptr) {
    return Error(ErrorCode::kUnsupported, "not a slide format OpenSlide 3.4.1 reads (SVS, NDPI, MRXS, SCN, VMS, "
                                          "BIF, tiled TIFF, ...; DICOM-WSI is not among them)");
  }
  auto handle = std::make_unique<Handle>();
  handle->api = api;
  handle->osr = api->open(path.c_str());
  if (handle->osr == nullptr) return Error(ErrorCode::kUnsupported, "OpenSlide cannot open the file");
  if (const char* error = api->get_error(handle->osr); error != nullptr) {
    return Error(ErrorCode::kInvalidArgument, std::string("OpenSlide cannot read the slide: ") + error);
  }
  SlideProperties p;
  api->get_level0_dimensions(handle->osr, &p.width, &p.height);
  if (p.width <= 0 || p.height <= 0) return Error(ErrorCode::kInvalidArgument, "the slide has no pixels");
  p.mpp_x = NumberProperty(*api, handle->osr, OPENSLIDE_PROPERTY_NAME_MPP_X);
  p.mpp_y = NumberProperty(*api, handle->osr, OPENSLIDE_PROPERTY_NAME_MPP_Y);
  p.objective_power = NumberProperty(*api, handle->osr, OPENSLIDE_PROPERTY_NAME_OBJECTIVE_POWER);
  p.vendor = vendor;
  return std::unique_ptr<Slide>(new Slide(std::move(handle), std::move(p)));
}

std::vector<std::pair<std::string, std::string>> Slide::AllProperties() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* const* name = handle_->api->get_property_names(handle_->osr); name && *name; ++name) {
    const char* value = handle_->api->get_property_value(handle_->osr, *name);
    out.emplace_back(*name, value == nullptr ? "" : value);
  }
  return out;
}

std::vector<std::string> Slide::AssociatedImageNames() const {
  std::vector<std::string> out;
  for (const char* const* name = handle_->api->get_associated_image_names(handle_->osr); name && *name; ++name) {
    out.emplace_back(*name);
  }
  return out;
}

Result<RgbImage> Slide::ReadRegion(std::int64_t x, std::int64_t y, int width, int height) const {
  std::vector<std::uint32_t> argb(static_cast<std::size_t>(width) * height);
  handle_->api->read_region(handle_->osr, argb.data(), x, y, 0, width, height);
  if (const char* error = handle_->api->get_error(handle_->osr); error != nullptr) {
    return Error(ErrorCode::kInternal, std::string("OpenSlide failed reading the slide: ") + error);
  }
  return OverWhite(argb, width, height);
}

Result<RgbImage> Slide::RenderTile(const DeepZoom& dz, int level, std::int64_t col, std::int64_t row) const {
  if (level < 0 || level >= dz.levels || col < 0 || row < 0 || col >= dz.Columns(level) || row >= dz.Rows(level)) {
    return Error(ErrorCode::kNotFound, "no such tile");
  }
  const DeepZoom::Rect r = dz.TileRect(level, col, row);
  const double scale = std::ldexp(1.0, dz.levels - 1 - level);  // level-0 pixels per tile pixel
  // Level-0 footprint of the tile, clipped to the slide.
  const std::int64_t x0 = static_cast<std::int64_t>(std::llround(r.x * scale));
  const std::int64_t y0 = static_cast<std::int64_t>(std::llround(r.y * scale));
  const std::int64_t x1 = std::min(properties_.width, static_cast<std::int64_t>(std::llround((r.x + r.width) * scale)));
  const std::int64_t y1 = std::min(properties_.height, static_cast<std::int64_t>(std::llround((r.y + r.height) * scale)));
  const int slide_level = handle_->api->get_best_level_for_downsample(handle_->osr, scale);
  const double level_scale = handle_->api->get_level_downsample(handle_->osr, slide_level);
  std::int64_t lw = 0, lh = 0;
  handle_->api->get_level_dimensions(handle_->osr, slide_level, &lw, &lh);
  const std::int64_t read_w = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil((x1 - x0) / level_scale - 1e-9)), 1, lw);
  const std::int64_t read_h = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil((y1 - y0) / level_scale - 1e-9)), 1, lh);
  if (read_w * read_h > kMaxReadPixels) {
    return Error(ErrorCode::kUnsupported, "the slide has no pyramid level coarse enough for Deep Zoom level " +
                                              std::to_string(level) + " (" + std::to_string(read_w) + " x " +
                                              std::to_string(read_h) + " pixels to read)");
  }
  std::vector<std::uint32_t> argb(static_cast<std::size_t>(read_w * read_h));
  handle_->api->read_region(handle_->osr, argb.data(), x0, y0, slide_level, read_w, read_h);
  if (const char* error = handle_->api->get_error(handle_->osr); error != nullptr) {
    return Error(ErrorCode::kInternal, std::string("OpenSlide failed reading the slide: ") + error);
  }
  return Resize(OverWhite(argb, static_cast<int>(read_w), static_cast<int>(read_h)), static_cast<int>(r.width),
                static_cast<int>(r.height));
}

}  // namespace caliper::wsi
