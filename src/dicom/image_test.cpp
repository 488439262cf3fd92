#include "caliper/dicom/image.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "caliper/common/sample_data.h"
#include "caliper/dicom/encode.h"
#include "caliper/dicom/phantom.h"
#include "dicom/codecs.h"
#include "dicom/test_support.h"

namespace caliper::dicom {
namespace {

using testing::Bytes;
using testing::Modify;

CtPhantomOptions SmallCt() {
  CtPhantomOptions o;
  o.slices = 3;
  o.rows = 24;
  o.cols = 32;
  o.pixel_spacing_mm = 2;
  o.slice_thickness_mm = 3;
  o.seed = 7;
  return o;
}

Bytes Slice(int k) {
  const auto series = testing::Series(SmallCt());
  return series.empty() ? Bytes{} : series[k];
}

DecodedImage MustDecode(const Bytes& bytes) {
  auto image = DecodeImage(bytes);
  EXPECT_TRUE(image.ok()) << image.status().ToString();
  return image.ok() ? *image : DecodedImage{};
}

Bytes MustTranscode(const Bytes& bytes, const std::string& uid, const TranscodeOptions& o = {}) {
  auto out = Transcode(bytes, uid, o);
  EXPECT_TRUE(out.ok()) << uid << ": " << out.status().ToString();
  return out.ok() ? *out : Bytes{};
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

double MeanAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) sum += std::abs(double(a[i]) - b[i]);
  return a.empty() ? 0 : sum / a.size();
}

TEST(DecodeImageTest, NativePhantomSliceGivesHounsfieldUnitsAndGeometry) {
  const DecodedImage image = MustDecode(Slice(1));
  EXPECT_EQ(image.transfer_syntax_uid, UID_LittleEndianExplicitTransferSyntax);
  EXPECT_EQ(image.rows, 24);
  EXPECT_EQ(image.columns, 32);
  EXPECT_EQ(image.frames, 1);
  EXPECT_EQ(image.kind, PixelKind::kMonochrome2);
  EXPECT_EQ(image.modality, "CT");
  EXPECT_EQ(image.values.front(), kPhantomAirHu);
  EXPECT_EQ(*std::max_element(image.values.begin(), image.values.end()), kPhantomBoneHu);
  ASSERT_EQ(image.frame_geometry.size(), 1u);
  const FrameGeometry& g = image.frame_geometry[0];
  ASSERT_TRUE(g.position && g.orientation && g.pixel_spacing);
  EXPECT_DOUBLE_EQ((*g.position)[0], -31.0);
  EXPECT_DOUBLE_EQ((*g.position)[2], 3.0);
  EXPECT_DOUBLE_EQ((*g.pixel_spacing)[0], 2.0);
  EXPECT_EQ(g.rescale_intercept, -1024);
  EXPECT_EQ(image.window_center, 40);
}

// Every lossless syntax gives back exactly the voxels of the explicit little endian original.
TEST(DecodeImageTest, EveryLosslessSyntaxDecodesToTheOriginalVoxels) {
  const Bytes original = Slice(1);
  const DecodedImage reference = MustDecode(original);
  TranscodeOptions fragmented;
  fragmented.j2k_fragment_bytes = 100;  // several fragments per frame, Basic Offset Table filled
  const std::vector<std::pair<std::string, TranscodeOptions>> cases = {
      {UID_LittleEndianImplicitTransferSyntax, {}},
      {UID_BigEndianExplicitTransferSyntax, {}},
      {UID_DeflatedExplicitVRLittleEndianTransferSyntax, {}},
      {UID_RLELosslessTransferSyntax, {}},
      {UID_JPEGProcess14TransferSyntax, {}},
      {UID_JPEGProcess14SV1TransferSyntax, {}},
      {UID_JPEGLSLosslessTransferSyntax, {}},
      {UID_JPEG2000LosslessOnlyTransferSyntax, {}},
      {UID_JPEG2000LosslessOnlyTransferSyntax, fragmented},
  };
  for (const auto& [uid, options] : cases) {
    const Bytes encoded = MustTranscode(original, uid, options);
    const DecodedImage image = MustDecode(encoded);
    EXPECT_EQ(image.transfer_syntax_uid, uid);
    EXPECT_EQ(image.values, reference.values) << uid;
    EXPECT_EQ(image.sop_instance_uid, reference.sop_instance_uid);
  }
}

// DCMTK's JPEG decoder scans a frame's markers for its bit depth before decoding it
// (DJCodecDecoder::scanJpegDataForBitDepth) and never moves past a TEM marker (FF01): a file with
// one there hung the decoder (the volume fuzzer's timeout). Such pixel data is refused first.
TEST(DecodeImageTest, AJpegFrameWithATemMarkerIsRefusedNotScannedForever) {
  for (const char* uid : {UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess1TransferSyntax}) {
    const Bytes encoded = MustTranscode(Slice(0), uid);
    const Bytes soi = {0xFF, 0xD8, 0xFF};
    auto at = std::search(encoded.begin(), encoded.end(), soi.begin(), soi.end());
    ASSERT_NE(at, encoded.end()) << uid;
    Bytes tem = encoded;
    tem[static_cast<std::size_t>(at - encoded.begin()) + 3] = 0x01;  // the marker after SOI: FF01
    const int result = testing::InLimitedChild(
        [&] {
          auto image = DecodeImage(tem);
          if (image.ok()) return 1;
          std::cerr << uid << ": " << image.status().message() << "\n";
          return image.status().code() == ErrorCode::kInvalidArgument ? 0 : 2;
        },
        std::size_t{512} << 20, 20);
    EXPECT_EQ(result, 0) << uid << " (1: decoded, 2: another error, 3: killed after 20 s)";
  }
  // DCMTK decodes every Pixel Data of the data set: also an icon's, in an Icon Image Sequence.
  const Bytes jpeg = MustTranscode(Slice(0), UID_JPEGProcess14SV1TransferSyntax);
  DcmFileFormat file;
  ASSERT_TRUE(ReadDicom(jpeg, file).ok());
  DcmElement* pixels = nullptr;
  ASSERT_TRUE(file.getDataset()->findAndGetElement(DCM_PixelData, pixels).good());
  auto* icon = new DcmItem();  // the Image Pixel module of the slice, and its pixel data
  for (const DcmTagKey& key : {DCM_SamplesPerPixel, DCM_PhotometricInterpretation, DCM_Rows, DCM_Columns,
                               DCM_BitsAllocated, DCM_BitsStored, DCM_HighBit, DCM_PixelRepresentation}) {
    DcmElement* e = nullptr;
    ASSERT_TRUE(file.getDataset()->findAndGetElement(key, e).good());
    ASSERT_TRUE(icon->insert(static_cast<DcmElement*>(e->clone())).good());
  }
  ASSERT_TRUE(icon->insert(static_cast<DcmElement*>(pixels->clone())).good());
  ASSERT_TRUE(file.getDataset()->insertSequenceItem(DCM_IconImageSequence, icon).good());
  auto with_icon = WriteDicom(file, EXS_JPEGProcess14SV1);
  ASSERT_TRUE(with_icon.ok()) << with_icon.status().ToString();
  const Bytes soi = {0xFF, 0xD8, 0xFF};
  auto first = std::search(with_icon->begin(), with_icon->end(), soi.begin(), soi.end());  // the icon's
  ASSERT_NE(first, with_icon->end());
  Bytes nested = *with_icon;
  nested[static_cast<std::size_t>(first - with_icon->begin()) + 3] = 0x01;
  const int result = testing::InLimitedChild(
      [&] { return DecodeImage(nested).status().code() == ErrorCode::kInvalidArgument ? 0 : 1; },
      std::size_t{512} << 20, 20);
  EXPECT_EQ(result, 0) << "icon (1: decoded or another error, 3: killed after 20 s)";
}

TEST(DecodeImageTest, LossySyntaxesStayWithinTheirErrorBounds) {
  // JPEG extended takes at most 12 bits: store the phantom as unsigned 12-bit.
  const Bytes twelve_bit = Modify(Slice(1), [](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_BitsStored, 12);
    ds.putAndInsertUint16(DCM_HighBit, 11);
    ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
  });
  const DecodedImage reference = MustDecode(twelve_bit);
  ASSERT_EQ(reference.values.front(), kPhantomAirHu);

  TranscodeOptions near;
  near.jpegls_near = 3;
  const DecodedImage jls =
      MustDecode(MustTranscode(twelve_bit, UID_JPEGLSLossyTransferSyntax, near));
  EXPECT_LE(MaxAbsDiff(jls.values, reference.values), 3.0);  // JPEG-LS bounds every sample

  const DecodedImage jpeg =
      MustDecode(MustTranscode(twelve_bit, UID_JPEGProcess2_4TransferSyntax));
  EXPECT_EQ(jpeg.transfer_syntax_uid, UID_JPEGProcess2_4TransferSyntax);
  EXPECT_LT(MeanAbsDiff(jpeg.values, reference.values), 15.0);

  // JPEG 2000 at 8:1 on a 128 x 128 slice (tiny images cannot reach such ratios gracefully).
  CtPhantomOptions larger = SmallCt();
  larger.rows = larger.cols = 128;
  auto series = MakeCtPhantomSeries(larger);
  ASSERT_TRUE(series.ok());
  TranscodeOptions ratio;
  ratio.j2k_ratio = 8;
  const Bytes lossy = MustTranscode((*series)[1], UID_JPEG2000TransferSyntax, ratio);
  EXPECT_LT(lossy.size(), (*series)[1].size() / 4);
  const DecodedImage j2k = MustDecode(lossy);
  const DecodedImage signed_reference = MustDecode((*series)[1]);
  EXPECT_LT(MeanAbsDiff(j2k.values, signed_reference.values), 3.0);
  EXPECT_GT(MeanAbsDiff(j2k.values, signed_reference.values), 0.0);  // really lossy
}

TEST(DecodeImageTest, UltrasoundCineInRgbYbrAndCompressedForms) {
  const int frames = 4, rows = 40, cols = 48;
  auto rgb = MakeUltrasoundCinePhantom(frames, rows, cols, false, 3);
  auto ybr = MakeUltrasoundCinePhantom(frames, rows, cols, true, 3);
  ASSERT_TRUE(rgb.ok() && ybr.ok());
  std::vector<float> expected;
  for (int f = 0; f < frames; ++f)
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        for (std::uint8_t v : UltrasoundPhantomRgb(f, r, c, rows, cols)) expected.push_back(v);

  const DecodedImage native = MustDecode(*rgb);
  EXPECT_EQ(native.kind, PixelKind::kRgb);
  EXPECT_EQ(native.frames, frames);
  EXPECT_EQ(native.samples_per_pixel, 3);
  EXPECT_EQ(native.values, expected);
  EXPECT_EQ(native.Frame(2).size(), static_cast<std::size_t>(rows * cols * 3));

  EXPECT_LE(MaxAbsDiff(MustDecode(*ybr).values, expected), 2.0);
  EXPECT_EQ(MustDecode(MustTranscode(*rgb, UID_RLELosslessTransferSyntax)).values, expected);
  EXPECT_EQ(MustDecode(MustTranscode(*rgb, UID_JPEG2000LosslessOnlyTransferSyntax)).values,
            expected);
  const DecodedImage baseline = MustDecode(MustTranscode(*rgb, UID_JPEGProcess1TransferSyntax));
  EXPECT_EQ(baseline.kind, PixelKind::kRgb);
  EXPECT_LT(MeanAbsDiff(baseline.values, expected), 6.0);
  EXPECT_LT(MeanAbsDiff(MustDecode(MustTranscode(*ybr, UID_JPEGProcess1TransferSyntax)).values,
                        expected),
            6.0);
}

// Native YBR_FULL_422 (PS3.3 C.7.6.3.1.2): Y1 Y2 Cb Cr per pair of pixels, each pixel converted
// with its own Y and the pair's Cb Cr by the YBR_FULL equations (C.7.6.3.1.2, rounded, clamped).
// pydicom (Debian python3-pydicom) upsamples and converts the same file to within 1.
TEST(DecodeImageTest, NativeYbrFull422DecodesToRgb) {
  const int frames = 2, rows = 10, cols = 12;
  const Bytes file = testing::Ybr422Cine(frames, rows, cols);
  const DecodedImage image = MustDecode(file);
  EXPECT_EQ(image.kind, PixelKind::kRgb);
  EXPECT_EQ(image.samples_per_pixel, 3);
  std::vector<float> expected;
  for (int f = 0; f < frames; ++f) {
    for (int y = 0; y < rows; ++y) {
      for (int x = 0; x < cols; ++x) {
        const double lum = testing::Ybr422Sample(f, y, x, 0);
        const double cb = testing::Ybr422Sample(f, y, x, 1) - 128.0, cr = testing::Ybr422Sample(f, y, x, 2) - 128.0;
        for (double v : {lum + 1.402 * cr, lum - 0.344136 * cb - 0.714136 * cr, lum + 1.772 * cb}) {
          expected.push_back(static_cast<float>(std::clamp(std::round(v), 0.0, 255.0)));
        }
      }
    }
  }
  EXPECT_EQ(image.values, expected);

  ASSERT_TRUE(std::filesystem::exists("/usr/bin/python3")) << "python3 with pydicom (Debian python3-pydicom) is required";
  const auto dir = std::filesystem::temp_directory_path() / ("caliper_ybr422_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ybr422.dcm").string();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(file.data()),
                                              static_cast<std::streamsize>(file.size()));
  const std::string command = std::string("/usr/bin/python3 ") + CALIPER_SOURCE_DIR +
                              "/tests/imaging/pydicom_rgb.py '" + path + "' > '" + path + ".json' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(path + ".json");
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(status, 0) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["photometric"], "YBR_FULL_422");
  EXPECT_EQ(j["shape"], nlohmann::json({frames, rows, cols, 3}));
  const auto theirs = j["rgb"].get<std::vector<float>>();
  EXPECT_LE(MaxAbsDiff(image.values, theirs), 1.0);
}

// PS3.3 C.7.6.3.1.2 pairs the pixels of each row (the first Cb Cr at the first Y, the next at
// the third, ...) and defines no layout for the last pixel of a row of odd width: such native
// pixel data is refused by name rather than decoded with pairs that straddle rows.
TEST(DecodeImageTest, NativeYbrFull422WithAnOddNumberOfColumnsIsRefusedByName) {
  const Bytes file = testing::Ybr422OddColumnsCine(2, 10, 13);
  auto image = DecodeImage(file);
  ASSERT_FALSE(image.ok()) << "decoded " << image->values.size() << " values";
  EXPECT_EQ(image.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(image.status().message().find("native YBR_FULL_422 with an odd number of Columns (13)"),
            std::string::npos)
      << image.status().ToString();
  // Compressed, the codec carries the subsampling: JPEG of an odd width decodes (to RGB).
  auto us = MakeUltrasoundCinePhantom(2, 10, 13, /*ybr_planar=*/false, 3);
  ASSERT_TRUE(us.ok());
  const DecodedImage jpeg = MustDecode(MustTranscode(*us, UID_JPEGProcess1TransferSyntax));
  EXPECT_EQ(jpeg.columns, 13);
  EXPECT_EQ(jpeg.kind, PixelKind::kRgb);
}

TEST(DecodeImageTest, EnhancedCtTakesGeometryAndRescaleFromFunctionalGroups) {
  CtPhantomOptions o = SmallCt();
  o.slices = 5;
  auto enhanced = MakeEnhancedCtPhantom(o);
  ASSERT_TRUE(enhanced.ok()) << enhanced.status().ToString();
  auto series = MakeCtPhantomSeries(o);
  ASSERT_TRUE(series.ok());
  for (const std::string& uid : {std::string(UID_LittleEndianExplicitTransferSyntax),
                                std::string(UID_JPEG2000LosslessOnlyTransferSyntax),
                                std::string(UID_RLELosslessTransferSyntax)}) {
    const DecodedImage image = MustDecode(uid == UID_LittleEndianExplicitTransferSyntax
                                              ? *enhanced
                                              : MustTranscode(*enhanced, uid));
    ASSERT_EQ(image.frames, 5) << uid;
    ASSERT_EQ(image.frame_geometry.size(), 5u);
    for (int f = 0; f < 5; ++f) {
      const int k = 4 - f;  // stored top first
      const FrameGeometry& g = image.frame_geometry[f];
      ASSERT_TRUE(g.position && g.orientation && g.pixel_spacing && g.slice_thickness);
      EXPECT_DOUBLE_EQ((*g.position)[2], 3.0 * k);
      EXPECT_DOUBLE_EQ((*g.orientation)[4], 1.0);
      EXPECT_DOUBLE_EQ(*g.slice_thickness, 3.0);
      EXPECT_EQ(g.rescale_intercept, f == 0 ? -1000 : -1024);
      const DecodedImage slice = MustDecode((*series)[k]);
      const auto frame = image.Frame(f);
      EXPECT_TRUE(std::equal(frame.begin(), frame.end(), slice.values.begin())) << uid << f;
    }
  }
}

// A 24 x 32 slice with Bits Allocated 32 and `stored` bits whose values spread over every bit,
// with the extremes in the first two pixels; `expected` gets the values it stands for.
Bytes ThirtyTwoBitSlice(int stored, bool is_signed, std::vector<float>& expected) {
  const int pixels = 24 * 32;
  const std::uint32_t mask = (std::uint32_t{1} << stored) - 1;
  std::vector<Uint16> words(pixels * 2);
  expected.clear();
  for (int i = 0; i < pixels; ++i) {
    std::uint32_t v = (static_cast<std::uint32_t>(i) * 2654435761u) & mask;
    if (i == 0) v = mask;                // all ones: the maximum, or -1
    if (i == 1) v = (mask >> 1) + 1;     // the top bit alone: 2^(stored-1), or the minimum
    std::memcpy(&words[i * 2], &v, 4);  // host order, as DCMTK keeps OW
    const bool negative = is_signed && ((v >> (stored - 1)) & 1u);
    expected.push_back(static_cast<float>(negative ? static_cast<double>(v) - std::ldexp(1.0, stored) : v));
  }
  return Modify(Slice(1), [&](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_BitsAllocated, 32);
    ds.putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(stored));
    ds.putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(stored - 1));
    ds.putAndInsertUint16(DCM_PixelRepresentation, is_signed ? 1 : 0);
    ds.putAndInsertString(DCM_RescaleIntercept, "0");
    ds.putAndInsertUint16Array(DCM_PixelData, words.data(), static_cast<unsigned long>(words.size()));
  });
}

// PS3.5 8.2.4 allows JPEG 2000 with Bits Allocated up to 40 and Bits Stored up to 38. openjp2
// round-trips at most 24 bits exactly (j2k.h), so Bits Allocated 32 decodes up to 24 bits stored
// and more is refused by name (it once decoded, before DecompressPixelData refused all of it).
TEST(DecodeImageTest, Jpeg2000WithBitsAllocated32DecodesUpTo24BitsStored) {
  for (const auto& [stored, is_signed] : std::vector<std::pair<int, bool>>{{12, true}, {24, false}, {24, true}}) {
    SCOPED_TRACE("Bits Stored " + std::to_string(stored) + (is_signed ? " signed" : " unsigned"));
    std::vector<float> expected;
    const Bytes native = ThirtyTwoBitSlice(stored, is_signed, expected);
    EXPECT_EQ(MustDecode(native).values, expected);
    const DecodedImage j2k = MustDecode(MustTranscode(native, UID_JPEG2000LosslessOnlyTransferSyntax));
    EXPECT_EQ(j2k.transfer_syntax_uid, UID_JPEG2000LosslessOnlyTransferSyntax);
    EXPECT_EQ(j2k.bits_stored, stored);
    EXPECT_EQ(j2k.values, expected);
  }
  // 28 bits: openjp2 would not give them back exactly. The encoder refuses; a codestream whose
  // header says 28 is refused when decoded (the 24-bit instance relabelled: Bits Stored, High Bit).
  std::vector<float> expected;
  EXPECT_EQ(Transcode(ThirtyTwoBitSlice(28, false, expected), UID_JPEG2000LosslessOnlyTransferSyntax)
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  Bytes relabelled = MustTranscode(ThirtyTwoBitSlice(24, false, expected), UID_JPEG2000LosslessOnlyTransferSyntax);
  for (const auto& [from, to] : std::vector<std::pair<Bytes, std::uint8_t>>{
           {{0x28, 0x00, 0x01, 0x01, 'U', 'S', 0x02, 0x00, 24, 0x00}, 28},
           {{0x28, 0x00, 0x02, 0x01, 'U', 'S', 0x02, 0x00, 23, 0x00}, 27}}) {
    auto at = std::search(relabelled.begin(), relabelled.end(), from.begin(), from.end());
    ASSERT_NE(at, relabelled.end());
    *(at + 8) = to;
  }
  auto refused = DecodeImage(relabelled);
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(refused.status().message().find("Bits Stored 28 is not supported"), std::string::npos)
      << refused.status().message();
}

// A deflated Part 10 file (Deflated Explicit VR Little Endian) whose data set `edit` changed: the
// data set inflated (raw deflate, PS3.5 A.5), edited and deflated again after the same meta
// information.
Bytes ReDeflated(const Bytes& deflated, const std::function<void(Bytes&)>& edit) {
  const Bytes packed = testing::BareDataSet(deflated);
  Bytes data(packed.size() * 50 + 1024);
  z_stream in{};
  EXPECT_EQ(inflateInit2(&in, -MAX_WBITS), Z_OK);
  in.next_in = const_cast<Bytef*>(packed.data());
  in.avail_in = static_cast<uInt>(packed.size());
  in.next_out = data.data();
  in.avail_out = static_cast<uInt>(data.size());
  EXPECT_EQ(inflate(&in, Z_FINISH), Z_STREAM_END);
  data.resize(in.total_out);
  inflateEnd(&in);
  edit(data);
  Bytes out(deflated.begin(), deflated.end() - static_cast<std::ptrdiff_t>(packed.size()));
  const std::size_t meta = out.size();
  out.resize(meta + compressBound(static_cast<uLong>(data.size())) + 16);
  z_stream def{};
  EXPECT_EQ(deflateInit2(&def, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  def.next_in = data.data();
  def.avail_in = static_cast<uInt>(data.size());
  def.next_out = out.data() + meta;
  def.avail_out = static_cast<uInt>(out.size() - meta);
  EXPECT_EQ(deflate(&def, Z_FINISH), Z_STREAM_END);
  out.resize(meta + def.total_out);
  deflateEnd(&def);
  if (out.size() % 2 != 0) out.push_back(0);
  return out;
}

// Whatever DCMTK reads, no value is allocated at the length its header claims before that many
// bytes are known to be there: the fuzzer's out-of-memory finding on a file without a Part 10
// header, which the length walk (ScanElements) cannot vouch for, having no transfer syntax; and
// a value inside a private sequence of VR UN and undefined length, where the walk stops.
TEST(DecodeImageTest, AValueClaimingMoreThanTheFileIsRefusedBeforeItIsAllocated) {
  // 0 when the read refused the input, naming the element's length or the truncation; 1 when it
  // was accepted; 2 for another error (DCMTK's "Virtual Memory exhausted" when it tried to
  // allocate what a header claims).
  auto read = [](const Bytes& bytes) {
    return testing::InLimitedChild([&] {
      DcmFileFormat file;
      const Status status = ReadDicom(bytes, file);
      if (status.ok()) return 1;
      std::cerr << "ReadDicom: " << status.message() << "\n";
      const std::string& m = status.message();
      return m.find("claims") != std::string::npos || m.find("truncated") != std::string::npos ? 0 : 2;
    });
  };
  const Bytes implicit_vr = Slice(0);
  ASSERT_EQ(read(implicit_vr), 1) << "the intact file reads";
  // Implicit VR: the tag, then the 4-byte length.
  const Bytes implicit_pixels = {0xE0, 0x7F, 0x10, 0x00};
  EXPECT_EQ(read(testing::BareDataSet(testing::WithForgedLength(implicit_vr, implicit_pixels))), 0);
  const Bytes explicit_vr = MustTranscode(implicit_vr, UID_LittleEndianExplicitTransferSyntax);
  // Explicit VR OW: the tag, "OW", two reserved bytes, then the 4-byte length.
  const Bytes explicit_pixels = {0xE0, 0x7F, 0x10, 0x00, 'O', 'W', 0, 0};
  EXPECT_EQ(read(testing::BareDataSet(testing::WithForgedLength(explicit_vr, explicit_pixels))), 0);
  // In a Part 10 file, where the length walk leaves the parsing to DCMTK.
  const Bytes with_un = testing::WithPrivateUnSequence(explicit_vr);
  ASSERT_EQ(read(with_un), 1) << "the UN sequence reads as it is";
  EXPECT_EQ(read(testing::WithForgedLength(with_un, testing::kUnSequenceInnerTag)), 0);
  // In a deflated data set, which DCMTK reads through its inflater.
  const Bytes deflated = MustTranscode(implicit_vr, UID_DeflatedExplicitVRLittleEndianTransferSyntax);
  ASSERT_EQ(read(ReDeflated(deflated, [](Bytes&) {})), 1) << "inflated and deflated again, it reads";
  EXPECT_EQ(read(ReDeflated(deflated, [&](Bytes& data) { data = testing::WithForgedLength(data, explicit_pixels); })), 0);
}

// A deflate stream that is corrupt is an error, as through DCMTK's own inflater; so is one cut in
// the middle of an element.
TEST(DecodeImageTest, ACorruptOrCutDeflatedDataSetIsAnError) {
  const Bytes deflated = MustTranscode(Slice(0), UID_DeflatedExplicitVRLittleEndianTransferSyntax);
  const std::size_t packed = testing::BareDataSet(deflated).size();
  Bytes corrupt = deflated;
  for (std::size_t i = deflated.size() - packed; i < deflated.size() - packed + 8; ++i) corrupt[i] = 0xFF;
  auto bad = DecodeImage(corrupt);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("ZLib"), std::string::npos) << bad.status().message();
  auto cut = DecodeImage(Bytes(deflated.begin(), deflated.end() - static_cast<std::ptrdiff_t>(packed / 2)));
  EXPECT_EQ(cut.status().code(), ErrorCode::kInvalidArgument) << cut.status().ToString();
}

TEST(DecodeImageTest, BadInputIsAClearErrorNeverACrash) {
  EXPECT_EQ(DecodeImage({}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(DecodeImage({}).status().message().find("empty"), std::string::npos);
  const std::string text = "this is not DICOM at all, just some text in a file";
  auto not_dicom = DecodeImage(Bytes(text.begin(), text.end()));
  EXPECT_FALSE(not_dicom.ok());

  const Bytes good = Slice(0);
  for (std::size_t cut : {std::size_t{10}, std::size_t{200}, good.size() / 2, good.size() - 3}) {
    auto truncated = DecodeImage(Bytes(good.begin(), good.begin() + cut));
    EXPECT_EQ(truncated.status().code(), ErrorCode::kInvalidArgument) << cut;
  }
  auto no_pixels = DecodeImage(Modify(good, [](DcmDataset& ds) { delete ds.remove(DCM_PixelData); }));
  EXPECT_NE(no_pixels.status().message().find("Pixel Data"), std::string::npos);

  auto gigantic = DecodeImage(Modify(good, [](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_Rows, 65535);
    ds.putAndInsertUint16(DCM_Columns, 65535);
    ds.putAndInsertString(DCM_NumberOfFrames, "99999");
  }));
  EXPECT_EQ(gigantic.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(gigantic.status().message().find("limit"), std::string::npos)
      << gigantic.status().message();
  auto claims_more = DecodeImage(Modify(good, [](DcmDataset& ds) {
    ds.putAndInsertUint16(DCM_Rows, 200);
  }));
  EXPECT_NE(claims_more.status().message().find("truncated"), std::string::npos);
  // A value claiming ~4 GB in a small file is refused before DCMTK allocates it (the fuzzer's
  // out-of-memory finding on the decode path).
  // Slice(0) is implicit VR: the tag is followed directly by the 4-byte length.
  const Bytes pixel_tag = {0xE0, 0x7F, 0x10, 0x00};
  auto tag_at = std::find_end(good.begin(), good.end(), pixel_tag.begin(), pixel_tag.end());
  ASSERT_NE(tag_at, good.end());
  Bytes forged = good;
  const std::size_t length_at = static_cast<std::size_t>(tag_at - good.begin()) + 4;
  for (std::size_t i = 0; i < 4; ++i) forged[length_at + i] = i == 3 ? 0xF0 : 0xFF;
  auto forged_length = DecodeImage(forged);
  EXPECT_EQ(forged_length.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(forged_length.status().message().find("(7FE0,0010) claims"), std::string::npos)
      << forged_length.status().message();
  auto palette = DecodeImage(Modify(good, [](DcmDataset& ds) {
    ds.putAndInsertString(DCM_PhotometricInterpretation, "PALETTE COLOR");
  }));
  EXPECT_EQ(palette.status().code(), ErrorCode::kUnsupported);

  // JPEG 2000 Part 2 (.92) has the same length as .90: relabel a lossless file.
  Bytes j2k = MustTranscode(good, UID_JPEG2000LosslessOnlyTransferSyntax);
  const std::string from = "1.2.840.10008.1.2.4.90";
  auto at = std::search(j2k.begin(), j2k.end(), from.begin(), from.end());
  ASSERT_NE(at, j2k.end());
  Bytes relabelled = j2k;
  relabelled[at - j2k.begin() + from.size() - 1] = '2';
  auto unsupported = DecodeImage(relabelled);
  EXPECT_EQ(unsupported.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(unsupported.status().message().find("1.2.840.10008.1.2.4.92"), std::string::npos)
      << unsupported.status().message();
  // A damaged codestream: the tail of the file (inside the frame) overwritten.
  Bytes damaged = j2k;
  for (std::size_t i = damaged.size() - 300; i < damaged.size() - 10; ++i) damaged[i] = 0xff;
  auto broken = DecodeImage(damaged);
  if (!broken.ok()) {
    EXPECT_EQ(broken.status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST(DecodeImageTest, DecodesEverySampleSeries) {
  namespace fs = std::filesystem;
  struct Case {
    std::string folder, transfer_syntax;
    int rows, columns;
  };
  const std::vector<Case> cases = {
      {"dicom-series/mr-t1-sag-dcm_qa_decubitus", UID_LittleEndianExplicitTransferSyntax, 256, 256},
      {"dicom-series/ct-head-gantry-tilt-dcm_qa_ct", UID_LittleEndianExplicitTransferSyntax, 512,
       512},
      {"dicom-series/ct-abdomen-totalsegmentator", UID_JPEG2000LosslessOnlyTransferSyntax, 512,
       512},
      {"dicom-seg/source-ct-16x16", UID_LittleEndianExplicitTransferSyntax, 16, 16},
  };
  for (const Case& c : cases) {
    auto readme = SampleDataFile(c.folder.substr(0, c.folder.find('/')) + "/README.md");
    if (!readme) {
      if (SampleDataRequired()) FAIL() << "sample data missing: " << c.folder;
      GTEST_SKIP() << "CALIPER_SAMPLE_DATA not set";
    }
    const fs::path dir = fs::path(*readme).parent_path().parent_path() / c.folder;
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto image = DecodeImage(bytes);
      ASSERT_TRUE(image.ok()) << entry.path() << ": " << image.status().ToString();
      EXPECT_EQ(image->transfer_syntax_uid, c.transfer_syntax);
      EXPECT_EQ(image->rows, c.rows);
      EXPECT_EQ(image->columns, c.columns);
      ASSERT_TRUE(image->frame_geometry[0].position.has_value());
      const auto [lo, hi] = std::minmax_element(image->values.begin(), image->values.end());
      EXPECT_LT(*lo, *hi);
      if (c.folder.find("series/ct-") != std::string::npos) {
        EXPECT_GE(*lo, -3100);  // HU after rescale, not raw stored values
        EXPECT_LE(*hi, 4100);
        EXPECT_LT(*lo, -500);   // air around the body
      }
      ++files;
    }
    EXPECT_GT(files, 3) << c.folder;
  }
}

}  // namespace
}  // namespace caliper::dicom
