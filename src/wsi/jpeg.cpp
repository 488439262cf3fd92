// libjpeg bridge: no other file includes jpeglib.h. libjpeg reports fatal errors through
// error_exit; ours longjmps back to the call, whose frame holds no object with a destructor
// between setjmp and the libjpeg calls (the buffers are plain pointers freed on both paths).

#include <setjmp.h>
#include <cstdio>
#include <cstdlib>

#include <jpeglib.h>

#include "caliper/wsi/slide.h"

namespace caliper::wsi {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void ErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

void Silent(j_common_ptr, int) {}

// Compresses into a malloc'd buffer (*out, *size); false with `message` set on failure.
bool Compress(const RgbImage& image, int quality, unsigned char** out, unsigned long* size, char* message) {
  jpeg_compress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = Silent;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", err.message);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, size);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  // 4:4:4: no chroma subsampling. H&E stain hues change over a few pixels; 4:2:0 halves that
  // detail (on the sample slide it raises the mean error against OpenSlide's pixels by ~60%).
  cinfo.comp_info[0].h_samp_factor = 1;
  cinfo.comp_info[0].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(&image.pixels[static_cast<std::size_t>(cinfo.next_scanline) * image.width * 3]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

// Decompresses into `pixels` (malloc'd, width*height*3); false with `message` set on failure.
bool Decompress(const unsigned char* data, unsigned long size, unsigned char** pixels, int* width, int* height,
                char* message) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = Silent;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", err.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3 || cinfo.output_width > 65535 || cinfo.output_height > 65535) {
    jpeg_destroy_decompress(&cinfo);
    std::snprintf(message, JMSG_LENGTH_MAX, "not a 3-channel image of at most 65535 pixels a side");
    return false;
  }
  *width = static_cast<int>(cinfo.output_width);
  *height = static_cast<int>(cinfo.output_height);
  *pixels = static_cast<unsigned char*>(std::malloc(static_cast<std::size_t>(*width) * *height * 3));
  if (*pixels == nullptr) {
    jpeg_destroy_decompress(&cinfo);
    std::snprintf(message, JMSG_LENGTH_MAX, "out of memory");
    return false;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = *pixels + static_cast<std::size_t>(cinfo.output_scanline) * *width * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

}  // namespace

Result<std::vector<std::uint8_t>> EncodeJpeg(const RgbImage& image, int quality) {
  if (image.width <= 0 || image.height <= 0 || image.width > 65535 || image.height > 65535 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * 3) {
    return Error(ErrorCode::kInvalidArgument, "the image to encode has impossible dimensions");
  }
  if (quality < 1 || quality > 100) return Error(ErrorCode::kInvalidArgument, "JPEG quality must be 1..100");
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  char message[JMSG_LENGTH_MAX] = {};
  const bool ok = Compress(image, quality, &buffer, &size, message);
  std::vector<std::uint8_t> out;
  if (ok) out.assign(buffer, buffer + size);
  std::free(buffer);
  if (!ok) return Error(ErrorCode::kInternal, std::string("JPEG encoding failed: ") + message);
  return out;
}

Result<RgbImage> DecodeJpeg(std::span<const std::uint8_t> bytes) {
  unsigned char* pixels = nullptr;
  int width = 0, height = 0;
  char message[JMSG_LENGTH_MAX] = {};
  const bool ok = Decompress(bytes.data(), static_cast<unsigned long>(bytes.size()), &pixels, &width, &height, message);
  if (!ok) {
    std::free(pixels);
    return Error(ErrorCode::kInvalidArgument, std::string("not a JPEG image: ") + message);
  }
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.assign(pixels, pixels + static_cast<std::size_t>(width) * height * 3);
  std::free(pixels);
  return image;
}

}  // namespace caliper::wsi
