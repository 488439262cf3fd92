#include "dicom/codecs.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
// Registers dcmimage colour support with DicomImage, which the JPEG encoder needs for RGB.
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>

#include <mutex>
#include <string>

namespace caliper::dicom {

void RegisterDecoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs parse problems to stderr; our Status messages carry them instead.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DcmRLEDecoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
  });
}

void RegisterEncoders() {
  RegisterDecoders();
  static std::once_flag once;
  std::call_once(once, [] {
    DcmRLEEncoderRegistration::registerCodecs();
    DJEncoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
  });
}

Status ReadDicom(std::span<const std::uint8_t> bytes, DcmFileFormat& out) {
  RegisterDecoders();
  if (bytes.empty()) return Error(ErrorCode::kInvalidArgument, "empty input (zero bytes)");
  DcmInputBufferStream stream;
  stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  stream.setEos();
  out.transferInit();
  const OFCondition cond = out.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  out.transferEnd();
  if (cond.bad()) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string("not a readable DICOM file (") + cond.text() + ")");
  }
  DcmDataset* ds = out.getDataset();
  if (ds == nullptr || ds->card() == 0) {
    return Error(ErrorCode::kInvalidArgument, "not a DICOM file: no data elements");
  }
  return Status::Ok();
}

Result<std::vector<std::uint8_t>> WriteDicom(DcmFileFormat& file, E_TransferSyntax xfer) {
  if (file.validateMetaInfo(xfer).bad()) return Error(ErrorCode::kInternal, "bad meta header");
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> buffer(1 << 20);
  DcmOutputBufferStream stream(buffer.data(), static_cast<offile_off_t>(buffer.size()));
  auto drain = [&] {
    void* data = nullptr;
    offile_off_t len = 0;
    stream.flushBuffer(data, len);
    const auto* p = static_cast<const std::uint8_t*>(data);
    if (len > 0) out.insert(out.end(), p, p + len);
  };
  file.transferInit();
  OFCondition cond;
  while ((cond = file.write(stream, xfer, EET_ExplicitLength, nullptr)) == EC_StreamNotifyClient) {
    drain();
  }
  file.transferEnd();
  if (cond.bad()) return Error(ErrorCode::kInternal, std::string("writing DICOM: ") + cond.text());
  stream.flush();
  drain();
  return out;
}

}  // namespace caliper::dicom
