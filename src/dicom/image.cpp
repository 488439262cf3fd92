// DecodeImage: DCMTK parses the dataset and decodes RLE, JPEG and JPEG-LS pixel data; JPEG 2000
// frames go to the openjp2 bridge (j2k.h). Both end as native pixel data (DecompressPixelData,
// also what blanking compressed pixel data decodes with), then float values in DecodedImage.

#include "caliper/dicom/image.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcstack.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "dicom/codecs.h"
#include "dicom/dataset_util.h"
#include "dicom/j2k.h"

namespace caliper::dicom {
namespace {

constexpr const char* kJ2kLossless = "1.2.840.10008.1.2.4.90";
constexpr const char* kJ2kLossy = "1.2.840.10008.1.2.4.91";

const std::map<std::string, std::string>& SupportedSyntaxes() {
  static const std::map<std::string, std::string> kSyntaxes = {
      {"1.2.840.10008.1.2", "Implicit VR Little Endian"},
      {"1.2.840.10008.1.2.1", "Explicit VR Little Endian"},
      {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian"},
      {"1.2.840.10008.1.2.2", "Explicit VR Big Endian"},
      {"1.2.840.10008.1.2.5", "RLE Lossless"},
      {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"},
      {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"},
      {"1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)"},
      {"1.2.840.10008.1.2.4.70", "JPEG Lossless SV1 (Process 14, Selection Value 1)"},
      {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
      {"1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"},
      {kJ2kLossless, "JPEG 2000 Lossless"},
      {kJ2kLossy, "JPEG 2000"},
  };
  return kSyntaxes;
}

Status Invalid(const std::string& message) { return Error(ErrorCode::kInvalidArgument, message); }

// The pixel attributes of the Image Pixel module (PS3.3 C.7.6.3) as read after decoding.
struct PixelLayout {
  int rows = 0, columns = 0, samples = 1, frames = 1;
  int bits_allocated = 0, bits_stored = 0, high_bit = 0;
  bool is_signed = false;
  int planar = 0;
  std::string photometric;
};

Result<PixelLayout> ReadLayout(DcmItem& ds) {
  PixelLayout p;
  p.rows = GetInt(ds, DCM_Rows).value_or(0);
  p.columns = GetInt(ds, DCM_Columns).value_or(0);
  p.samples = GetInt(ds, DCM_SamplesPerPixel).value_or(1);
  p.frames = GetInt(ds, DCM_NumberOfFrames).value_or(1);
  p.bits_allocated = GetInt(ds, DCM_BitsAllocated).value_or(0);
  p.bits_stored = GetInt(ds, DCM_BitsStored).value_or(p.bits_allocated);
  p.high_bit = GetInt(ds, DCM_HighBit).value_or(p.bits_stored - 1);
  p.is_signed = GetInt(ds, DCM_PixelRepresentation).value_or(0) == 1;
  p.planar = GetInt(ds, DCM_PlanarConfiguration).value_or(0);
  p.photometric = GetString(ds, DCM_PhotometricInterpretation);
  if (p.rows <= 0 || p.columns <= 0) {
    return Invalid("Rows and Columns must be positive (got " + std::to_string(p.rows) + " x " +
                   std::to_string(p.columns) + ")");
  }
  if (p.frames <= 0) return Invalid("Number of Frames must be positive");
  if (p.samples != 1 && p.samples != 3) {
    return Invalid("Samples per Pixel must be 1 or 3 (got " + std::to_string(p.samples) + ")");
  }
  if (p.bits_allocated != 8 && p.bits_allocated != 16 && p.bits_allocated != 32) {
    return Error(ErrorCode::kUnsupported,
                 "Bits Allocated " + std::to_string(p.bits_allocated) + " is not supported");
  }
  if (p.bits_stored < 1 || p.bits_stored > p.bits_allocated || p.high_bit < p.bits_stored - 1 ||
      p.high_bit >= p.bits_allocated) {
    return Invalid("inconsistent Bits Stored / High Bit for Bits Allocated " +
                   std::to_string(p.bits_allocated));
  }
  return p;
}

Status CheckSize(const PixelLayout& p, const DecodeLimits& limits) {
  const std::uint64_t samples = static_cast<std::uint64_t>(p.rows) * p.columns * p.samples;
  const std::uint64_t bytes = samples * static_cast<std::uint64_t>(p.frames) * sizeof(float);
  if (bytes > limits.max_decoded_bytes) {
    return Invalid("pixel data of " + std::to_string(p.rows) + " x " + std::to_string(p.columns) +
                   " x " + std::to_string(p.frames) + " frames exceeds the decoding limit of " +
                   std::to_string(limits.max_decoded_bytes) + " bytes");
  }
  return Status::Ok();
}

// Stored sample -> signed value following Bits Stored, High Bit and Pixel Representation.
struct SampleDecoder {
  std::uint32_t mask;
  int shift;
  int bits;
  bool is_signed;
  explicit SampleDecoder(const PixelLayout& p)
      : mask(p.bits_stored >= 32 ? 0xffffffffu : ((1u << p.bits_stored) - 1)),
        shift(p.high_bit + 1 - p.bits_stored),
        bits(p.bits_stored),
        is_signed(p.is_signed) {}
  double operator()(std::uint32_t raw) const {
    const std::uint32_t v = (raw >> shift) & mask;
    if (is_signed && bits < 64 && (v >> (bits - 1)) & 1u) {
      return static_cast<double>(static_cast<std::int64_t>(v) - (std::int64_t{1} << bits));
    }
    return static_cast<double>(v);
  }
};

std::array<float, 3> YbrToRgb(double y, double cb, double cr, double max) {
  auto clamp = [max](double v) { return static_cast<float>(std::clamp(std::round(v), 0.0, max)); };
  const double mid = (max + 1) / 2;
  return {clamp(y + 1.402 * (cr - mid)), clamp(y - 0.344136 * (cb - mid) - 0.714136 * (cr - mid)),
          clamp(y + 1.772 * (cb - mid))};
}

// Turns one frame of samples (in file order: planar or interleaved, YBR or RGB) into
// interleaved RGB in place.
void ToInterleavedRgb(std::span<float> frame, int planar, const std::string& photometric,
                      double max) {
  const std::size_t pixels = frame.size() / 3;
  if (photometric == "YBR_FULL_422") {
    // Native 4:2:2: Y1 Y2 Cb Cr per pair of pixels, stored in the first 2/3 of the frame.
    std::vector<float> packed(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(pixels * 2));
    for (std::size_t p = 0; p + 1 < pixels; p += 2) {
      const float* q = &packed[p * 2];
      for (int k = 0; k < 2; ++k) {
        const auto rgb = YbrToRgb(q[k], q[2], q[3], max);
        std::copy(rgb.begin(), rgb.end(), frame.begin() + static_cast<std::ptrdiff_t>((p + k) * 3));
      }
    }
    return;
  }
  if (planar == 1) {
    std::vector<float> planes(frame.begin(), frame.end());
    for (std::size_t p = 0; p < pixels; ++p) {
      for (int c = 0; c < 3; ++c) frame[p * 3 + c] = planes[c * pixels + p];
    }
  }
  if (photometric == "YBR_FULL") {
    for (std::size_t p = 0; p < pixels; ++p) {
      const auto rgb = YbrToRgb(frame[p * 3], frame[p * 3 + 1], frame[p * 3 + 2], max);
      std::copy(rgb.begin(), rgb.end(), frame.begin() + static_cast<std::ptrdiff_t>(p * 3));
    }
  }
}

Result<PixelKind> KindOf(const PixelLayout& p) {
  const std::string& pi = p.photometric;
  if (p.samples == 1) {
    if (pi == "MONOCHROME1") return PixelKind::kMonochrome1;
    if (pi == "MONOCHROME2" || pi.empty()) return PixelKind::kMonochrome2;
  } else if (pi == "RGB" || pi == "YBR_FULL" || pi == "YBR_FULL_422" || pi == "YBR_RCT" ||
             pi == "YBR_ICT") {
    return PixelKind::kRgb;
  }
  return Error(ErrorCode::kUnsupported, "Photometric Interpretation '" + pi + "' with " +
                                            std::to_string(p.samples) +
                                            " samples per pixel is not supported");
}

// Native (uncompressed) pixel data -> values, frame by frame.
Status ConvertNative(DcmDataset& ds, const PixelLayout& p, DecodedImage& out) {
  DcmElement* elem = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) {
    return Invalid("no Pixel Data (7FE0,0010)");
  }
  if (p.photometric == "YBR_FULL_422") CALIPER_RETURN_IF_ERROR(CheckYbr422Columns(p.columns));
  const std::size_t frame_samples = static_cast<std::size_t>(p.rows) * p.columns * p.samples;
  const std::size_t total = frame_samples * static_cast<std::size_t>(p.frames);
  // YBR_FULL_422 stores two samples per pixel (PS3.3 C.7.6.3.1.2).
  const std::size_t stored_total =
      p.photometric == "YBR_FULL_422" ? total / 3 * 2 : total;
  const std::size_t need = stored_total * (p.bits_allocated / 8);
  if (elem->getLength() < need) {
    return Invalid("pixel data is truncated: " + std::to_string(elem->getLength()) +
                   " bytes where the header needs " + std::to_string(need));
  }
  const SampleDecoder decode(p);
  out.values.resize(total);
  if (p.bits_allocated == 16) {
    Uint16* data = nullptr;
    if (elem->getUint16Array(data).bad() || data == nullptr) return Invalid("unreadable Pixel Data");
    for (std::size_t f = 0; f < static_cast<std::size_t>(p.frames); ++f) {
      const std::size_t per = stored_total / p.frames;
      for (std::size_t i = 0; i < per; ++i)
        out.values[f * frame_samples + i] = static_cast<float>(decode(data[f * per + i]));
    }
  } else {
    Uint8* data = nullptr;
    if (elem->getUint8Array(data).bad() || data == nullptr) return Invalid("unreadable Pixel Data");
    const std::size_t per = stored_total / p.frames;
    for (std::size_t f = 0; f < static_cast<std::size_t>(p.frames); ++f) {
      for (std::size_t i = 0; i < per; ++i) {
        std::uint32_t raw;
        if (p.bits_allocated == 8) {
          raw = data[f * per + i];
        } else {
          std::memcpy(&raw, data + (f * per + i) * 4, 4);  // host order, as DCMTK keeps it
        }
        out.values[f * frame_samples + i] = static_cast<float>(decode(raw));
      }
    }
  }
  return Status::Ok();
}

// Splits the fragments of an encapsulated Pixel Data element into frames (PS3.5 A.4):
// one fragment per frame, all fragments for a single frame, the Basic Offset Table, or
// else a new frame at each fragment starting with a J2K SOC marker / JP2 signature.
Result<std::vector<std::vector<std::uint8_t>>> SplitFrames(DcmPixelSequence& seq, int frames) {
  std::vector<std::span<const std::uint8_t>> fragments;
  std::span<const std::uint8_t> offsets;
  const unsigned long n = seq.card();
  for (unsigned long i = 0; i < n; ++i) {
    DcmPixelItem* item = nullptr;
    if (seq.getItem(item, i).bad() || item == nullptr) return Invalid("unreadable fragment");
    Uint8* data = nullptr;
    const Uint32 len = item->getLength();
    if (len > 0 && (item->getUint8Array(data).bad() || data == nullptr)) {
      return Invalid("unreadable fragment");
    }
    std::span<const std::uint8_t> bytes(data, len);
    if (i == 0) {
      offsets = bytes;
    } else {
      fragments.push_back(bytes);
    }
  }
  if (fragments.empty()) return Invalid("encapsulated Pixel Data holds no fragments");
  std::vector<std::vector<std::uint8_t>> out;
  auto append = [](std::vector<std::uint8_t>& to, std::span<const std::uint8_t> b) {
    to.insert(to.end(), b.begin(), b.end());
  };
  if (frames == 1) {
    out.emplace_back();
    for (auto f : fragments) append(out.back(), f);
    return out;
  }
  if (static_cast<int>(fragments.size()) == frames) {
    for (auto f : fragments) out.emplace_back(f.begin(), f.end());
    return out;
  }
  if (offsets.size() == static_cast<std::size_t>(frames) * 4) {
    std::vector<std::uint64_t> starts;  // byte offset of each fragment's item tag
    std::uint64_t at = 0;
    for (auto f : fragments) {
      starts.push_back(at);
      at += 8 + f.size();
    }
    out.resize(frames);
    for (int fr = 0; fr < frames; ++fr) {
      Uint32 begin, end = 0xffffffffu;
      std::memcpy(&begin, offsets.data() + fr * 4, 4);
      if (fr + 1 < frames) std::memcpy(&end, offsets.data() + (fr + 1) * 4, 4);
      for (std::size_t i = 0; i < fragments.size(); ++i) {
        if (starts[i] >= begin && starts[i] < end) append(out[fr], fragments[i]);
      }
      if (out[fr].empty()) return Invalid("Basic Offset Table points outside the fragments");
    }
    return out;
  }
  for (auto f : fragments) {
    const bool starts_frame =
        f.size() >= 4 && ((f[0] == 0xff && f[1] == 0x4f) || (f[0] == 0 && f[1] == 0 && f[3] == 0x0c));
    if (starts_frame || out.empty()) out.emplace_back();
    append(out.back(), f);
  }
  if (static_cast<int>(out.size()) != frames) {
    return Invalid("cannot split " + std::to_string(fragments.size()) + " fragments into " +
                   std::to_string(frames) + " frames");
  }
  return out;
}

// JPEG 2000 frames -> native pixel data in `ds`, stored as the header lays samples out (Bits
// Allocated 8, 16 or 32, High Bit), interleaved; the colour transform openjp2 undid makes
// YBR_RCT/ICT RGB. PS3.5 8.2.4 allows up to 38 bits stored; openjp2 round-trips at most
// kJ2kMaxPrecision (24) exactly, so more is refused rather than decoded wrong.
Status DecodeJ2kToNative(DcmDataset& ds, E_TransferSyntax xfer, const PixelLayout& p,
                         const DecodeLimits& limits) {
  if (p.bits_stored > kJ2kMaxPrecision) {
    return Error(ErrorCode::kUnsupported,
                 "JPEG 2000 pixel data with Bits Stored " + std::to_string(p.bits_stored) +
                     " is not supported (openjp2 decodes at most " + std::to_string(kJ2kMaxPrecision) +
                     " bits per sample exactly)");
  }
  DcmElement* elem = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) {
    return Invalid("no Pixel Data (7FE0,0010)");
  }
  DcmPixelSequence* seq = nullptr;
  if (static_cast<DcmPixelData*>(elem)->getEncapsulatedRepresentation(xfer, nullptr, seq).bad() ||
      seq == nullptr) {
    return Invalid("JPEG 2000 transfer syntax without encapsulated Pixel Data");
  }
  CALIPER_ASSIGN_OR_RETURN(auto frames, SplitFrames(*seq, p.frames));
  const std::size_t frame_samples = static_cast<std::size_t>(p.rows) * p.columns * p.samples;
  const std::uint32_t mask = (std::uint32_t{1} << p.bits_stored) - 1;
  const int shift = p.high_bit + 1 - p.bits_stored;
  // 8 bits: OB (an odd count padded with a zero byte); 16 and 32: OW, a 32-bit sample as two
  // words in host order (little endian here), which is how ConvertNative reads it back. Frames
  // are decoded straight into the new element's value (no second copy of the native pixel data),
  // which replaces the encapsulated one once every frame has decoded.
  const std::size_t total = frame_samples * p.frames;
  if (total * (p.bits_allocated / 8) > 0xFFFFFFFEu) {  // a value length is 32 bits, and even
    return Invalid("decoded JPEG 2000 pixel data would exceed the 4 GiB of one Pixel Data element");
  }
  auto native = std::make_unique<DcmPixelData>(DCM_PixelData);
  native->setVR(p.bits_allocated == 8 ? EVR_OB : EVR_OW);  // as DcmItem::putAndInsertUint8Array sets it
  Uint8* bytes = nullptr;
  Uint16* words = nullptr;
  const OFCondition made =
      p.bits_allocated == 8
          ? native->createUint8Array(static_cast<Uint32>(total + total % 2), bytes)
          : native->createUint16Array(static_cast<Uint32>(total * (p.bits_allocated / 16)), words);
  if (made.bad()) return Error(ErrorCode::kInternal, std::string("storing decoded pixels: ") + made.text());
  for (int f = 0; f < p.frames; ++f) {
    auto decoded = DecodeJ2k(frames[f], limits.max_decoded_bytes / sizeof(float));
    if (!decoded.ok()) return decoded.status().WithContext("frame " + std::to_string(f + 1));
    const J2kImage& img = *decoded;
    if (img.width != p.columns || img.height != p.rows || img.components != p.samples) {
      return Invalid("frame " + std::to_string(f + 1) + ": JPEG 2000 image is " +
                     std::to_string(img.width) + "x" + std::to_string(img.height) + "x" +
                     std::to_string(img.components) + " but the header says " +
                     std::to_string(p.columns) + "x" + std::to_string(p.rows) + "x" +
                     std::to_string(p.samples));
    }
    // Stored as the header's bits: a signed value keeps its two's complement in Bits Stored, so
    // the header decides signedness (some encoders mark signed data unsigned in the codestream).
    const std::size_t at = frame_samples * f;
    for (std::size_t i = 0; i < frame_samples; ++i) {
      const std::uint32_t raw = (static_cast<std::uint32_t>(img.samples[i]) & mask) << shift;
      if (p.bits_allocated == 8) {
        bytes[at + i] = static_cast<Uint8>(raw);
      } else if (p.bits_allocated == 16) {
        words[at + i] = static_cast<Uint16>(raw);
      } else {
        std::memcpy(&words[(at + i) * 2], &raw, 4);
      }
    }
  }
  const OFCondition put = ds.insert(native.get(), /*replaceOld=*/true);
  if (put.bad()) return Error(ErrorCode::kInternal, std::string("storing decoded pixels: ") + put.text());
  native.release();  // the dataset owns it now
  if (p.samples == 3) {
    if (p.photometric == "YBR_RCT" || p.photometric == "YBR_ICT") {
      (void)ds.putAndInsertString(DCM_PhotometricInterpretation, "RGB");
    } else if (p.photometric == "YBR_FULL_422") {
      // Not valid with JPEG 2000 (PS3.5 8.2.4), but written: openjp2 gives every pixel its own
      // Cb Cr (subsampled components are refused), so the native data is YBR_FULL, not 4:2:2.
      (void)ds.putAndInsertString(DCM_PhotometricInterpretation, "YBR_FULL");
    }
    (void)ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
  }
  return Status::Ok();
}

// One frame's geometry: per-frame item, then shared item, then the dataset (PS3.3 C.7.6.16).
FrameGeometry GeometryOf(DcmItem* per_frame, DcmItem* shared, DcmItem& ds) {
  auto macro = [&](const DcmTagKey& seq) {
    std::vector<DcmItem*> items;
    for (DcmItem* group : {per_frame, shared}) {
      DcmItem* item = nullptr;
      if (group != nullptr && group->findAndGetSequenceItem(seq, item, 0).good() && item) {
        items.push_back(item);
      }
    }
    items.push_back(&ds);
    return items;
  };
  auto first = [](const std::vector<DcmItem*>& items, const DcmTagKey& tag,
                  int count) -> std::optional<std::vector<double>> {
    for (DcmItem* item : items) {
      if (auto v = GetDoubles(*item, tag); v && static_cast<int>(v->size()) >= count) return v;
    }
    return std::nullopt;
  };
  FrameGeometry g;
  if (auto v = first(macro(DCM_PlanePositionSequence), DCM_ImagePositionPatient, 3)) {
    g.position = {(*v)[0], (*v)[1], (*v)[2]};
  }
  if (auto v = first(macro(DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, 6)) {
    g.orientation = {(*v)[0], (*v)[1], (*v)[2], (*v)[3], (*v)[4], (*v)[5]};
  }
  const auto measures = macro(DCM_PixelMeasuresSequence);
  if (auto v = first(measures, DCM_PixelSpacing, 2)) g.pixel_spacing = {(*v)[0], (*v)[1]};
  if (auto v = first(measures, DCM_SliceThickness, 1)) g.slice_thickness = (*v)[0];
  const auto transform = macro(DCM_PixelValueTransformationSequence);
  if (auto v = first(transform, DCM_RescaleSlope, 1); v && (*v)[0] != 0) {
    g.rescale_slope = (*v)[0];
  }
  if (auto v = first(transform, DCM_RescaleIntercept, 1)) g.rescale_intercept = (*v)[0];
  return g;
}

std::vector<DcmItem*> SequenceItems(DcmItem& ds, const DcmTagKey& key) {
  std::vector<DcmItem*> items;
  DcmSequenceOfItems* seq = nullptr;
  if (ds.findAndGetSequence(key, seq).good() && seq != nullptr) {
    for (DcmObject* o = seq->nextInContainer(nullptr); o; o = seq->nextInContainer(o)) {
      items.push_back(static_cast<DcmItem*>(o));
    }
  }
  return items;
}

}  // namespace

bool IsSupportedTransferSyntax(const std::string& uid) {
  return SupportedSyntaxes().count(uid) > 0;
}

namespace {

// DCMTK's JPEG decoder (dcmjpeg) scans the markers at the start of a frame's fragment for its bit
// depth before decoding it (DJCodecDecoder::scanJpegDataForBitDepth, DCMTK 3.6.7), and at a TEM
// marker (FF01) it never moves on: a file with one there hangs it. The same walk, stopping where
// DCMTK's stops (at a frame header, or at bytes that are no marker): true when it reaches TEM.
bool JpegMarkerScanWouldHang(const std::uint8_t* data, std::size_t length) {
  std::size_t at = 0;
  while (at + 4 < length) {
    const unsigned marker = (unsigned{data[at]} << 8) | data[at + 1];
    const std::size_t segment = ((std::size_t{data[at + 2]} << 8) | data[at + 3]) + 2;
    if (marker == 0xFF01) return true;
    if (marker == 0xFFFF) {  // a fill byte
      at += 1;
    } else if (marker >= 0xFFC0 && marker <= 0xFFCF && marker != 0xFFC4 && marker != 0xFFC8 && marker != 0xFFCC) {
      return false;  // a frame header: DCMTK reads the bit depth there and stops
    } else if (marker >= 0xFFD0 && marker <= 0xFFD9) {  // RSTm, SOI, EOI
      at += 2;
    } else if (marker == 0xFFC4 || marker == 0xFFC8 || marker == 0xFFCC || (marker >= 0xFFDA && marker <= 0xFFFE)) {
      at += segment;  // a segment with its length
    } else if (data[at] == 0xFF && data[at + 1] > 0x02 && data[at + 1] <= 0xBF) {  // reserved
      at += 2;
    } else {
      return false;  // no marker: DCMTK stops
    }
  }
  return false;
}

// Refuses JPEG pixel data that DCMTK's decoder would scan forever (above): every fragment of every
// Pixel Data DCMTK decodes (chooseRepresentation searches the whole data set: an Icon Image
// Sequence's too), each from its start, a frame's first fragment among them.
Status CheckJpegFragments(DcmDataset& ds, E_TransferSyntax xfer) {
  if (xfer != EXS_JPEGProcess1 && xfer != EXS_JPEGProcess2_4 && xfer != EXS_JPEGProcess14 &&
      xfer != EXS_JPEGProcess14SV1) {
    return Status::Ok();
  }
  DcmStack stack;
  while (ds.search(DCM_PixelData, stack, ESM_afterStackTop, OFTrue).good()) {
    DcmObject* found = stack.top();
    DcmPixelSequence* fragments = nullptr;
    if (found == nullptr || found->ident() != EVR_PixelData ||
        static_cast<DcmPixelData*>(found)->getEncapsulatedRepresentation(xfer, nullptr, fragments).bad() ||
        fragments == nullptr) {
      continue;  // DCMTK's decoder finds nothing to scan either
    }
    for (unsigned long i = 1; i < fragments->card(); ++i) {  // item 0: the Basic Offset Table
      DcmPixelItem* item = nullptr;
      Uint8* data = nullptr;
      if (fragments->getItem(item, i).bad() || item == nullptr || item->getUint8Array(data).bad() || data == nullptr) {
        continue;
      }
      if (JpegMarkerScanWouldHang(data, item->getLength())) {
        return Invalid("malformed JPEG data: fragment " + std::to_string(i) +
                       " has a TEM marker (FF01) among its headers, where DCMTK's decoder would loop forever");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status DecompressPixelData(DcmDataset& ds, E_TransferSyntax xfer, const DecodeLimits& limits) {
  const DcmXfer info(xfer);
  if (!info.isEncapsulated()) return Status::Ok();
  const std::string uid = info.getXferID();
  if (!IsSupportedTransferSyntax(uid)) {
    return Error(ErrorCode::kUnsupported, "transfer syntax " + uid + " (" + info.getXferName() +
                                              ") cannot be decoded");
  }
  CALIPER_ASSIGN_OR_RETURN(const PixelLayout layout, ReadLayout(ds));
  CALIPER_RETURN_IF_ERROR(CheckSize(layout, limits));
  if (uid == kJ2kLossless || uid == kJ2kLossy) return DecodeJ2kToNative(ds, xfer, layout, limits);
  RegisterDecoders();  // the dataset may have been read without ReadDicom (de-identification)
  CALIPER_RETURN_IF_ERROR(CheckJpegFragments(ds, xfer));
  if (ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
      !ds.canWriteXfer(EXS_LittleEndianExplicit)) {
    return Invalid(std::string("the ") + info.getXferName() + " pixel data could not be decoded");
  }
  DcmElement* elem = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).good() && elem != nullptr) {
    static_cast<DcmPixelData*>(elem)->removeAllButCurrentRepresentations();
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> ReadTextAttributes(std::span<const std::uint8_t> bytes) {
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(ReadDicom(bytes, file));
  DcmDataset& ds = *file.getDataset();
  std::map<std::string, std::string> out;
  for (unsigned long i = 0; i < ds.card(); ++i) {
    DcmElement* e = ds.getElement(i);
    if (e == nullptr || !e->isaString()) continue;
    OFString value;
    if (e->getOFStringArray(value).bad()) continue;
    std::string text(value.c_str());
    while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.pop_back();
    char key[9];
    std::snprintf(key, sizeof key, "%04X%04X", static_cast<unsigned>(e->getGTag()),
                  static_cast<unsigned>(e->getETag()));
    out[key] = std::move(text);
  }
  return out;
}

Result<DecodedImage> DecodeImage(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(ReadDicom(bytes, file));
  DcmDataset& ds = *file.getDataset();
  const E_TransferSyntax xfer = ds.getOriginalXfer();
  const DcmXfer xfer_info(xfer);
  DecodedImage out;
  out.transfer_syntax_uid = xfer_info.getXferID();
  if (!IsSupportedTransferSyntax(out.transfer_syntax_uid)) {
    OFString meta_uid;
    (void)file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, meta_uid);
    return Error(ErrorCode::kUnsupported,
                 "transfer syntax " + (meta_uid.empty() ? out.transfer_syntax_uid : std::string(meta_uid.c_str())) +
                     " (" + xfer_info.getXferName() + ") is not supported");
  }
  if (!ds.tagExists(DCM_PixelData)) return Error(ErrorCode::kNotFound, "no Pixel Data (7FE0,0010)");

  CALIPER_ASSIGN_OR_RETURN(PixelLayout layout, ReadLayout(ds));
  CALIPER_RETURN_IF_ERROR(CheckSize(layout, limits));
  if (xfer_info.isEncapsulated()) {
    CALIPER_RETURN_IF_ERROR(DecompressPixelData(ds, xfer, limits));
    // The decoders may change the photometric interpretation (YBR -> RGB) and planar
    // configuration; read the layout again.
    CALIPER_ASSIGN_OR_RETURN(layout, ReadLayout(ds));
  }
  CALIPER_ASSIGN_OR_RETURN(out.kind, KindOf(layout));
  CALIPER_RETURN_IF_ERROR(ConvertNative(ds, layout, out));

  out.rows = layout.rows;
  out.columns = layout.columns;
  out.samples_per_pixel = layout.samples;
  out.frames = layout.frames;
  out.bits_stored = layout.bits_stored;
  out.pixel_signed = layout.is_signed;
  out.sop_class_uid = GetString(ds, DCM_SOPClassUID);
  out.sop_instance_uid = GetString(ds, DCM_SOPInstanceUID);
  out.study_instance_uid = GetString(ds, DCM_StudyInstanceUID);
  out.series_instance_uid = GetString(ds, DCM_SeriesInstanceUID);
  out.frame_of_reference_uid = GetString(ds, DCM_FrameOfReferenceUID);
  out.modality = GetString(ds, DCM_Modality);
  out.body_part_examined = GetString(ds, DCM_BodyPartExamined);
  if (auto v = GetDoubles(ds, DCM_GantryDetectorTilt)) out.gantry_tilt_deg = (*v)[0];

  const auto per_frame = SequenceItems(ds, DCM_PerFrameFunctionalGroupsSequence);
  const auto shared_items = SequenceItems(ds, DCM_SharedFunctionalGroupsSequence);
  DcmItem* shared = shared_items.empty() ? nullptr : shared_items[0];
  out.frame_geometry.reserve(out.frames);
  for (int f = 0; f < out.frames; ++f) {
    DcmItem* item = f < static_cast<int>(per_frame.size()) ? per_frame[f] : nullptr;
    out.frame_geometry.push_back(GeometryOf(item, shared, ds));
  }
  // Window: top level, else the first frame's Frame VOI LUT (PS3.3 C.7.6.16.2.10).
  std::vector<DcmItem*> voi_sources{&ds};
  for (DcmItem* group : {per_frame.empty() ? nullptr : per_frame[0], shared}) {
    DcmItem* item = nullptr;
    if (group && group->findAndGetSequenceItem(DCM_FrameVOILUTSequence, item, 0).good() && item) {
      voi_sources.push_back(item);
    }
  }
  for (DcmItem* item : voi_sources) {
    auto c = GetDoubles(*item, DCM_WindowCenter);
    auto w = GetDoubles(*item, DCM_WindowWidth);
    if (c && w && (*w)[0] > 0) {
      out.window_center = (*c)[0];
      out.window_width = (*w)[0];
      break;
    }
  }

  const std::size_t frame_size = out.FrameSize();
  if (out.kind == PixelKind::kRgb) {
    const double max = std::ldexp(1.0, layout.bits_stored) - 1;
    for (int f = 0; f < out.frames; ++f) {
      ToInterleavedRgb(std::span<float>(out.values).subspan(frame_size * f, frame_size),
                       layout.planar, layout.photometric, max);
    }
  } else {
    for (int f = 0; f < out.frames; ++f) {
      const FrameGeometry& g = out.frame_geometry[f];
      if (g.rescale_slope == 1 && g.rescale_intercept == 0) continue;
      float* v = out.values.data() + frame_size * f;
      for (std::size_t i = 0; i < frame_size; ++i) {
        v[i] = static_cast<float>(v[i] * g.rescale_slope + g.rescale_intercept);
      }
    }
  }
  return out;
}

}  // namespace caliper::dicom
