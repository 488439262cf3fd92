// The libopenjp2 bridge (see j2k.h). openjp2 reads and writes through stream callbacks; here
// they read from a span and append to a vector.

#include "dicom/j2k.h"

#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace caliper::dicom {
namespace {

struct CodecFree {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamFree {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageFree {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};
using CodecPtr = std::unique_ptr<opj_codec_t, CodecFree>;
using StreamPtr = std::unique_ptr<opj_stream_t, StreamFree>;
using ImagePtr = std::unique_ptr<opj_image_t, ImageFree>;

// openjp2 reports through callbacks; the last error message becomes part of our Status.
void KeepMessage(const char* msg, void* client) {
  if (client != nullptr && msg != nullptr) {
    std::string& out = *static_cast<std::string*>(client);
    out = msg;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  }
}
void Ignore(const char*, void*) {}

struct Reader {
  std::span<const std::uint8_t> data;
  std::size_t pos = 0;
};

OPJ_SIZE_T Read(void* buffer, OPJ_SIZE_T n, void* user) {
  auto& r = *static_cast<Reader*>(user);
  if (r.pos >= r.data.size()) return static_cast<OPJ_SIZE_T>(-1);
  const std::size_t take = std::min<std::size_t>(n, r.data.size() - r.pos);
  std::memcpy(buffer, r.data.data() + r.pos, take);
  r.pos += take;
  return take;
}
OPJ_OFF_T SkipIn(OPJ_OFF_T n, void* user) {
  auto& r = *static_cast<Reader*>(user);
  if (n < 0) {
    const std::size_t back = std::min<std::size_t>(static_cast<std::size_t>(-n), r.pos);
    r.pos -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  const std::size_t fwd = std::min<std::size_t>(static_cast<std::size_t>(n), r.data.size() - r.pos);
  r.pos += fwd;
  return static_cast<OPJ_OFF_T>(fwd);
}
OPJ_BOOL SeekIn(OPJ_OFF_T n, void* user) {
  auto& r = *static_cast<Reader*>(user);
  if (n < 0 || static_cast<std::size_t>(n) > r.data.size()) return OPJ_FALSE;
  r.pos = static_cast<std::size_t>(n);
  return OPJ_TRUE;
}

struct Writer {
  std::vector<std::uint8_t> out;
  std::size_t pos = 0;
};

OPJ_SIZE_T Write(void* buffer, OPJ_SIZE_T n, void* user) {
  auto& w = *static_cast<Writer*>(user);
  if (w.pos + n > w.out.size()) w.out.resize(w.pos + n);
  std::memcpy(w.out.data() + w.pos, buffer, n);
  w.pos += n;
  return n;
}
OPJ_OFF_T SkipOut(OPJ_OFF_T n, void* user) {
  auto& w = *static_cast<Writer*>(user);
  if (n < 0 && static_cast<std::size_t>(-n) > w.pos) return -1;
  w.pos = static_cast<std::size_t>(static_cast<OPJ_OFF_T>(w.pos) + n);
  if (w.pos > w.out.size()) w.out.resize(w.pos);
  return n;
}
OPJ_BOOL SeekOut(OPJ_OFF_T n, void* user) {
  auto& w = *static_cast<Writer*>(user);
  if (n < 0) return OPJ_FALSE;
  w.pos = static_cast<std::size_t>(n);
  if (w.pos > w.out.size()) w.out.resize(w.pos);
  return OPJ_TRUE;
}

bool IsJp2(std::span<const std::uint8_t> d) {
  static const std::uint8_t kSig[] = {0, 0, 0, 0x0c, 'j', 'P', ' ', ' ', 0x0d, 0x0a, 0x87, 0x0a};
  return d.size() >= sizeof kSig && std::memcmp(d.data(), kSig, sizeof kSig) == 0;
}

Status Bad(const std::string& what, const std::string& detail) {
  return Error(ErrorCode::kInvalidArgument,
               "JPEG 2000: " + what + (detail.empty() ? "" : " (" + detail + ")"));
}

}  // namespace

Result<J2kImage> DecodeJ2k(std::span<const std::uint8_t> data, std::uint64_t max_samples) {
  if (data.size() < 2) return Bad("empty codestream", "");
  std::string message;
  CodecPtr codec(opj_create_decompress(IsJp2(data) ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  if (!codec) return Error(ErrorCode::kInternal, "openjp2 could not create a decoder");
  opj_set_error_handler(codec.get(), KeepMessage, &message);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) return Bad("decoder set-up failed", message);

  Reader reader{data, 0};
  StreamPtr stream(opj_stream_create(64 * 1024, OPJ_TRUE));
  if (!stream) return Error(ErrorCode::kInternal, "openjp2 could not create a stream");
  opj_stream_set_user_data(stream.get(), &reader, nullptr);
  opj_stream_set_user_data_length(stream.get(), data.size());
  opj_stream_set_read_function(stream.get(), Read);
  opj_stream_set_skip_function(stream.get(), SkipIn);
  opj_stream_set_seek_function(stream.get(), SeekIn);

  opj_image_t* raw = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw)) {
    ImagePtr cleanup(raw);
    return Bad("cannot read the codestream header", message);
  }
  ImagePtr image(raw);
  if (image->numcomps < 1 || image->numcomps > 4) {
    return Bad("unsupported component count " + std::to_string(image->numcomps), "");
  }
  const std::uint64_t width = image->x1 - image->x0;
  const std::uint64_t height = image->y1 - image->y0;
  if (width == 0 || height == 0 || width * height * image->numcomps > max_samples) {
    return Bad("image of " + std::to_string(width) + "x" + std::to_string(height) +
                   " is empty or larger than allowed",
               "");
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) ||
      !opj_end_decompress(codec.get(), stream.get())) {
    return Bad("decoding failed", message);
  }
  J2kImage out;
  out.components = static_cast<int>(image->numcomps);
  const opj_image_comp_t& c0 = image->comps[0];
  out.width = static_cast<int>(c0.w);
  out.height = static_cast<int>(c0.h);
  out.precision = static_cast<int>(c0.prec);
  out.is_signed = c0.sgnd != 0;
  if (out.precision < 1 || out.precision > kJ2kMaxPrecision) {
    return Bad("unsupported precision " + std::to_string(out.precision), "");
  }
  for (int c = 0; c < out.components; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.w != c0.w || comp.h != c0.h || comp.prec != c0.prec || comp.sgnd != c0.sgnd ||
        comp.data == nullptr) {
      return Bad("components differ in size or precision (subsampling is not supported)", "");
    }
  }
  const std::size_t pixels = static_cast<std::size_t>(out.width) * out.height;
  out.samples.resize(pixels * out.components);
  for (int c = 0; c < out.components; ++c) {
    const OPJ_INT32* src = image->comps[c].data;
    for (std::size_t p = 0; p < pixels; ++p) out.samples[p * out.components + c] = src[p];
  }
  return out;
}

Result<std::vector<std::uint8_t>> EncodeJ2k(const J2kImage& in, bool lossless,
                                            double compression_ratio) {
  const std::size_t pixels = static_cast<std::size_t>(in.width) * in.height;
  if (in.width <= 0 || in.height <= 0 || (in.components != 1 && in.components != 3) ||
      in.precision < 1 || in.precision > kJ2kMaxPrecision || in.samples.size() != pixels * in.components ||
      (!lossless && !(compression_ratio > 1.0))) {
    return Error(ErrorCode::kInvalidArgument, "JPEG 2000: bad image or ratio to encode");
  }
  opj_image_cmptparm_t parms[3];
  std::memset(parms, 0, sizeof parms);
  for (int c = 0; c < in.components; ++c) {
    parms[c].dx = parms[c].dy = 1;
    parms[c].w = static_cast<OPJ_UINT32>(in.width);
    parms[c].h = static_cast<OPJ_UINT32>(in.height);
    parms[c].prec = static_cast<OPJ_UINT32>(in.precision);
    parms[c].sgnd = in.is_signed ? 1 : 0;
  }
  ImagePtr image(opj_image_create(static_cast<OPJ_UINT32>(in.components), parms,
                                  in.components == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY));
  if (!image) return Error(ErrorCode::kInternal, "openjp2 could not allocate an image");
  image->x1 = static_cast<OPJ_UINT32>(in.width);
  image->y1 = static_cast<OPJ_UINT32>(in.height);
  for (int c = 0; c < in.components; ++c) {
    for (std::size_t p = 0; p < pixels; ++p) image->comps[c].data[p] = in.samples[p * in.components + c];
  }

  opj_cparameters_t params;
  opj_set_default_encoder_parameters(&params);
  params.tcp_numlayers = 1;
  params.cp_disto_alloc = 1;
  params.tcp_rates[0] = lossless ? 0.0f : static_cast<float>(compression_ratio);
  params.irreversible = lossless ? 0 : 1;
  params.tcp_mct = in.components == 3 ? 1 : 0;
  // Each resolution level halves the image; the smallest must keep at least one pixel.
  int levels = 1;
  while (levels < 6 && (in.width >> levels) >= 1 && (in.height >> levels) >= 1) ++levels;
  params.numresolution = levels;

  std::string message;
  CodecPtr codec(opj_create_compress(OPJ_CODEC_J2K));
  if (!codec) return Error(ErrorCode::kInternal, "openjp2 could not create an encoder");
  opj_set_error_handler(codec.get(), KeepMessage, &message);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  if (!opj_setup_encoder(codec.get(), &params, image.get())) {
    return Error(ErrorCode::kInternal, "JPEG 2000 encoder set-up failed: " + message);
  }
  Writer writer;
  StreamPtr stream(opj_stream_create(64 * 1024, OPJ_FALSE));
  if (!stream) return Error(ErrorCode::kInternal, "openjp2 could not create a stream");
  opj_stream_set_user_data(stream.get(), &writer, nullptr);
  opj_stream_set_write_function(stream.get(), Write);
  opj_stream_set_skip_function(stream.get(), SkipOut);
  opj_stream_set_seek_function(stream.get(), SeekOut);
  if (!opj_start_compress(codec.get(), image.get(), stream.get()) ||
      !opj_encode(codec.get(), stream.get()) || !opj_end_compress(codec.get(), stream.get())) {
    return Error(ErrorCode::kInternal, "JPEG 2000 encoding failed: " + message);
  }
  stream.reset();  // flushes
  return std::move(writer.out);
}

}  // namespace caliper::dicom
