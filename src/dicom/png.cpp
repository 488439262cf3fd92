#include "dicom/png.h"

#include <png.h>

#include <cstring>
#include <string>

namespace caliper::dicom {

Result<std::vector<std::uint8_t>> EncodePng(const PngImage& in) {
  if (in.width <= 0 || in.height <= 0 || (in.channels != 1 && in.channels != 3) ||
      in.pixels.size() != static_cast<std::size_t>(in.width) * in.height * in.channels) {
    return Error(ErrorCode::kInvalidArgument, "PNG: pixels do not match the image size");
  }
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(in.width);
  image.height = static_cast<png_uint_32>(in.height);
  image.format = in.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, in.pixels.data(), 0, nullptr)) {
    return Error(ErrorCode::kInternal, std::string("PNG encoding failed: ") + image.message);
  }
  std::vector<std::uint8_t> out(size);
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, in.pixels.data(), 0, nullptr)) {
    return Error(ErrorCode::kInternal, std::string("PNG encoding failed: ") + image.message);
  }
  out.resize(size);
  return out;
}

Result<PngImage> DecodePng(std::span<const std::uint8_t> bytes) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    return Error(ErrorCode::kInvalidArgument, std::string("not a PNG: ") + image.message);
  }
  PngImage out;
  out.channels = (image.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
  image.format = out.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return Error(ErrorCode::kInvalidArgument, std::string("PNG decoding failed: ") + image.message);
  }
  return out;
}

}  // namespace caliper::dicom
