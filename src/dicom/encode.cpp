#include "caliper/dicom/encode.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <dcmtk/dcmjpls/djrparam.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "caliper/dicom/image.h"
#include "dicom/codecs.h"
#include "dicom/dataset_util.h"
#include "dicom/j2k.h"

namespace caliper::dicom {
namespace {

Status Invalid(const std::string& m) { return Error(ErrorCode::kInvalidArgument, m); }

// Replaces native Pixel Data by JPEG 2000 frames (one codestream per frame).
Status EncodeJ2kPixelData(DcmDataset& ds, E_TransferSyntax xfer, const TranscodeOptions& o) {
  const bool lossless = xfer == EXS_JPEG2000LosslessOnly;
  const int rows = GetInt(ds, DCM_Rows).value_or(0);
  const int cols = GetInt(ds, DCM_Columns).value_or(0);
  const int samples = GetInt(ds, DCM_SamplesPerPixel).value_or(1);
  const int frames = GetInt(ds, DCM_NumberOfFrames).value_or(1);
  const int allocated = GetInt(ds, DCM_BitsAllocated).value_or(0);
  const int stored = GetInt(ds, DCM_BitsStored).value_or(allocated);
  const bool is_signed = GetInt(ds, DCM_PixelRepresentation).value_or(0) == 1;
  const int planar = GetInt(ds, DCM_PlanarConfiguration).value_or(0);
  const std::string photometric = GetString(ds, DCM_PhotometricInterpretation);
  if (rows <= 0 || cols <= 0 || frames <= 0 || (allocated != 8 && allocated != 16 && allocated != 32) ||
      stored < 1 || stored > std::min(allocated, kJ2kMaxPrecision) || (samples != 1 && samples != 3) ||
      (samples == 3 && photometric != "RGB")) {
    return Invalid("JPEG 2000 encoding needs native 8/16/32-bit grey or RGB pixel data of at most " +
                   std::to_string(kJ2kMaxPrecision) + " bits stored");
  }
  DcmElement* elem = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) {
    return Invalid("no Pixel Data");
  }
  const std::size_t pixels = static_cast<std::size_t>(rows) * cols;
  const std::size_t per_frame = pixels * samples;
  if (elem->getLength() < per_frame * frames * (allocated / 8)) {
    return Invalid("pixel data shorter than its header says");
  }
  Uint8* bytes8 = nullptr;
  Uint16* words = nullptr;
  if ((allocated == 8 ? elem->getUint8Array(bytes8) : elem->getUint16Array(words)).bad()) {
    return Invalid("unreadable Pixel Data");
  }
  const std::uint32_t mask = (1u << stored) - 1;
  auto pixel = [&](std::size_t i) -> std::int32_t {
    std::uint32_t v = 0;
    if (allocated == 8) {
      v = bytes8[i];
    } else if (allocated == 16) {
      v = words[i];
    } else {
      std::memcpy(&v, &words[i * 2], 4);  // two words in host order, as DCMTK keeps OW
    }
    v &= mask;
    if (is_signed && ((v >> (stored - 1)) & 1u)) return static_cast<std::int32_t>(v) - (1 << stored);
    return static_cast<std::int32_t>(v);
  };

  auto seq = std::make_unique<DcmPixelSequence>(DCM_PixelSequenceTag);
  auto offset_table = std::make_unique<DcmPixelItem>(DCM_PixelItemTag);
  DcmPixelItem* table = offset_table.get();
  seq->insert(offset_table.release());
  DcmOffsetList offsets;
  for (int f = 0; f < frames; ++f) {
    J2kImage image;
    image.width = cols;
    image.height = rows;
    image.components = samples;
    image.precision = stored;
    image.is_signed = is_signed;
    image.samples.resize(per_frame);
    for (std::size_t p = 0; p < pixels; ++p) {
      for (int c = 0; c < samples; ++c) {
        const std::size_t src = f * per_frame + (planar == 1 ? c * pixels + p : p * samples + c);
        image.samples[p * samples + c] = pixel(src);
      }
    }
    CALIPER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> code,
                             EncodeJ2k(image, lossless, o.j2k_ratio));
    if (code.size() % 2) code.push_back(0);  // fragments have even length (PS3.5 A.4)
    const Uint32 fragment = o.j2k_fragment_bytes == 0
                                ? static_cast<Uint32>(code.size())
                                : static_cast<Uint32>((o.j2k_fragment_bytes + 1) / 2 * 2);
    if (seq->storeCompressedFrame(offsets, code.data(), static_cast<Uint32>(code.size()), fragment)
            .bad()) {
      return Error(ErrorCode::kInternal, "cannot store a JPEG 2000 frame");
    }
  }
  if (o.j2k_fragment_bytes != 0 && table->createOffsetTable(offsets).bad()) {
    return Error(ErrorCode::kInternal, "cannot write the Basic Offset Table");
  }
  auto pixel_data = std::make_unique<DcmPixelData>(DCM_PixelData);
  pixel_data->putOriginalRepresentation(xfer, nullptr, seq.release());
  if (ds.insert(pixel_data.release(), true).bad()) {
    return Error(ErrorCode::kInternal, "cannot insert the encapsulated Pixel Data");
  }
  if (samples == 3) {
    (void)ds.putAndInsertString(DCM_PhotometricInterpretation, lossless ? "YBR_RCT" : "YBR_ICT");
    (void)ds.putAndInsertUint16(DCM_PlanarConfiguration, 0);
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::uint8_t>> Transcode(std::span<const std::uint8_t> bytes,
                                            const std::string& uid,
                                            const TranscodeOptions& options) {
  if (!IsSupportedTransferSyntax(uid)) {
    return Error(ErrorCode::kUnsupported, "cannot encode transfer syntax " + uid);
  }
  RegisterEncoders();
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(ReadDicom(bytes, file));
  DcmDataset& ds = *file.getDataset();
  const E_TransferSyntax xfer = DcmXfer(uid.c_str()).getXfer();
  CALIPER_RETURN_IF_ERROR(DecompressPixelData(ds, ds.getOriginalXfer(), DecodeLimits{}));
  bool lossy = false;
  if (xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000) {
    CALIPER_RETURN_IF_ERROR(EncodeJ2kPixelData(ds, xfer, options));
    lossy = xfer == EXS_JPEG2000;
  } else if (DcmXfer(xfer).isEncapsulated()) {
    std::unique_ptr<DcmRepresentationParameter> param;
    if (xfer == EXS_JPEGProcess1 || xfer == EXS_JPEGProcess2_4) {
      param = std::make_unique<DJ_RPLossy>(options.jpeg_quality);
      lossy = true;
    } else if (xfer == EXS_JPEGProcess14 || xfer == EXS_JPEGProcess14SV1) {
      param = std::make_unique<DJ_RPLossless>();
    } else if (xfer == EXS_JPEGLSLossless) {
      param = std::make_unique<DJLSRepresentationParameter>(0, OFTrue);
    } else if (xfer == EXS_JPEGLSLossy) {
      param = std::make_unique<DJLSRepresentationParameter>(
          static_cast<Uint16>(options.jpegls_near), OFFalse);
      lossy = true;
    }
    if (ds.chooseRepresentation(xfer, param.get()).bad() || !ds.canWriteXfer(xfer)) {
      return Invalid(std::string("DCMTK cannot encode this pixel data as ") +
                     DcmXfer(xfer).getXferName());
    }
  }
  if (lossy) (void)ds.putAndInsertString(DCM_LossyImageCompression, "01");
  return WriteDicom(file, xfer);
}

}  // namespace caliper::dicom
