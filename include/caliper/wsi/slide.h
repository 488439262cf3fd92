#pragma once

// Whole-slide images (docs/pathology.md). The only part that includes OpenSlide and libjpeg:
// opens a slide file, reports the few properties Caliper keeps, and renders the Deep Zoom
// tiles Caliper stores in place of the original file (which is never kept).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::wsi {

// 8-bit RGB pixels, row by row, no padding.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // width * height * 3
};

// The allow-list of what a slide may tell about itself (everything else OpenSlide reports,
// such as dates, operator, scanner serial numbers, barcodes and file names, is dropped, and
// the associated label, macro and thumbnail images are never read).
struct SlideProperties {
  std::int64_t width = 0, height = 0;  // level 0, pixels
  std::optional<double> mpp_x, mpp_y;  // openslide.mpp-x / mpp-y (micrometres per pixel)
  std::optional<double> objective_power;  // openslide.objective-power
  std::string vendor;                     // openslide.vendor, e.g. "aperio"
};

// A Deep Zoom pyramid (the layout OpenSeadragon's DZI reads): level `levels-1` is the slide at
// full resolution, each level below halves it (rounding up), level 0 is 1 x 1 pixel. Tiles are
// `tile_size` square plus `overlap` pixels on each side that has a neighbour.
struct DeepZoom {
  std::int64_t width = 0, height = 0;
  int tile_size = 254;
  int overlap = 1;
  int levels = 0;

  std::int64_t LevelWidth(int level) const;
  std::int64_t LevelHeight(int level) const;
  std::int64_t Columns(int level) const;
  std::int64_t Rows(int level) const;
  // The pixels tile (col, row) of `level` covers, in that level's pixels (overlap included).
  struct Rect {
    std::int64_t x = 0, y = 0, width = 0, height = 0;
  };
  Rect TileRect(int level, std::int64_t col, std::int64_t row) const;
  std::int64_t TileCount() const;  // over every level
};
DeepZoom DeepZoomFor(std::int64_t width, std::int64_t height, int tile_size, int overlap);

// An open slide file. Thread-safe (OpenSlide reads are).
class Slide {
 public:
  // kInvalidArgument when OpenSlide cannot read the file (naming its reason), kUnsupported
  // for a format it does not know (OpenSlide 3.4.1 reads no DICOM-WSI).
  static Result<std::unique_ptr<Slide>> Open(const std::string& path);
  ~Slide();
  Slide(const Slide&) = delete;
  Slide& operator=(const Slide&) = delete;

  const SlideProperties& properties() const { return properties_; }
  // Everything the file says about itself, as OpenSlide reports it (name, value), and the
  // names of its associated images (label, macro, thumbnail, ...). Neither is ever stored;
  // ingest reports how much it dropped and tests check that none of it survives.
  std::vector<std::pair<std::string, std::string>> AllProperties() const;
  std::vector<std::string> AssociatedImageNames() const;
  // The tile `(col, row)` of `level` of `dz`, composited on white: read from the slide level
  // nearest the level's scale (never coarser) and averaged down to size. kInternal when
  // OpenSlide fails mid-read.
  Result<RgbImage> RenderTile(const DeepZoom& dz, int level, std::int64_t col, std::int64_t row) const;
  // A region of level 0 (x, y, width, height in level-0 pixels), composited on white.
  Result<RgbImage> ReadRegion(std::int64_t x, std::int64_t y, int width, int height) const;

 private:
  struct Handle;
  explicit Slide(std::unique_ptr<Handle> handle, SlideProperties properties);
  std::unique_ptr<Handle> handle_;
  SlideProperties properties_;
};

// Baseline JPEG (libjpeg-turbo), 4:4:4 (no chroma subsampling), no metadata beyond the JFIF
// header; quality 1..100.
Result<std::vector<std::uint8_t>> EncodeJpeg(const RgbImage& image, int quality);
// kInvalidArgument for bytes that are not a JPEG libjpeg decodes to 3 channels.
Result<RgbImage> DecodeJpeg(std::span<const std::uint8_t> bytes);

}  // namespace caliper::wsi
