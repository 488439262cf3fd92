#pragma once

// DCMTK's global codec registry and reading a dataset from memory. Internal to src/dicom.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::dicom {

// Registers DCMTK's RLE, JPEG (dcmjpeg) and JPEG-LS (dcmjpls) decoders, once per process.
// Thread-safe; call before any chooseRepresentation.
void RegisterDecoders();

// Registers the matching encoders too (used to write test fixtures and DICOM-SEG). Thread-safe.
void RegisterEncoders();

// Walks the element headers of a Part 10 file and refuses (kInvalidArgument) any value that
// claims more bytes than the file has left, before DCMTK would allocate what a header claims.
Status CheckElementLengths(std::string_view part10);

// Parses `bytes` (a Part 10 file, or a bare dataset whose transfer syntax is detected) into
// `out`. Errors: kInvalidArgument for empty, truncated or non-DICOM input.
Status ReadDicom(std::span<const std::uint8_t> bytes, DcmFileFormat& out);

// Writes `file` as a Part 10 file in `xfer` (whose representation the dataset must already
// have) into memory, updating the meta header. Errors: kInternal when DCMTK refuses.
Result<std::vector<std::uint8_t>> WriteDicom(DcmFileFormat& file, E_TransferSyntax xfer);

}  // namespace caliper::dicom
