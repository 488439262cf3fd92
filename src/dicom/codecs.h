#pragma once

// DCMTK's global codec registry and reading a dataset from memory. Internal to src/dicom.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/dicom/image.h"

namespace caliper::dicom {

// Registers DCMTK's RLE, JPEG (dcmjpeg) and JPEG-LS (dcmjpls) decoders, once per process.
// Thread-safe; call before any chooseRepresentation.
void RegisterDecoders();

// Registers the matching encoders too (used to write test fixtures and DICOM-SEG). Thread-safe.
void RegisterEncoders();

// How an explicit VR's length is written (`vr`: its two bytes): in 4 bytes after 2 reserved ones
// (OB, OW, OF, OD, OL, OV, SQ, UN, UT, ...) or in 2; for a VR no edition defines, as DCMTK reads
// it. `standard`: one of PS3.5's VRs.
struct VrForm {
  bool long_length;
  bool standard;
};
VrForm FormOfVr(std::string_view vr);

// What ScanElements found out about a Part 10 file's layout.
struct ElementLayout {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::string transfer_syntax_uid;  // from the meta header ("" when it has none)
  // Where the top-level Pixel Data element (its tag) starts when it is the last element of the
  // file, so everything before it is the rest of the file; kNone otherwise (no Pixel Data,
  // something after it, or a layout left to DCMTK: deflated, or a UN sequence).
  std::size_t pixel_data_tail = kNone;
};

// Walks the element headers of a Part 10 file (entering sequences and items, skipping values
// and pixel fragments) and refuses (kInvalidArgument) any value that claims more bytes than
// the file or its enclosing item has left, before DCMTK would allocate what a header claims.
Result<ElementLayout> ScanElements(std::string_view part10);
inline Status CheckElementLengths(std::string_view part10) { return ScanElements(part10).status(); }

// Reads `bytes` into `file` with DCMTK (the transfer syntax from the file meta information, or
// guessed from the first bytes when there is none) so that no value is allocated before the
// bytes it claims are known to be there. `file` keeps no pointer into `bytes` (it is cleared when
// the read fails). A deflated data set is inflated first (at most 1 GiB; a corrupt stream is an
// error) and read the same way. Errors (kInvalidArgument): truncated (a value claiming more bytes
// than remain), unreadable, or no data element.
Status ParseInMemory(std::string_view bytes, DcmFileFormat& file, E_GrpLenEncoding group_lengths);

// Parses `bytes` (a Part 10 file, or a bare dataset whose transfer syntax is detected) into
// `out`. Errors: kInvalidArgument for empty, truncated or non-DICOM input.
Status ReadDicom(std::span<const std::uint8_t> bytes, DcmFileFormat& out);

// Decodes the encapsulated Pixel Data of `ds`, read in transfer syntax `xfer`, into native pixel
// data, every frame, with DecodeImage's decoders (it uses this): DCMTK's for RLE, JPEG and
// JPEG-LS, which set Photometric Interpretation and Planar Configuration as they decode (JPEG's
// YBR_FULL_422 becomes RGB), openjp2's for JPEG 2000 (samples interleaved, the colour transform
// undone: YBR_RCT and YBR_ICT become RGB; Bits Allocated 8 or 16). Only the native form is kept,
// so the dataset then writes in Explicit VR Little Endian. Native pixel data is left as it is.
// Errors: kUnsupported for a syntax IsSupportedTransferSyntax does not name (or JPEG 2000 with
// Bits Allocated 32); kInvalidArgument for inconsistent pixel attributes, a decoded size beyond
// `limits` (checked before anything is decoded) or frames that do not decode.
Status DecompressPixelData(DcmDataset& ds, E_TransferSyntax xfer, const DecodeLimits& limits);

// Native YBR_FULL_422 (PS3.3 C.7.6.3.1.2) stores Y1 Y2 Cb Cr for each pair of pixels of a row:
// a row's first Cb Cr sit at its first Y, the next at its third, and so on. The Standard gives no
// layout for the last pixel of a row of odd width, so such pixel data is refused by DecodeImage
// and by blanking alike (kUnsupported, naming the Columns) rather than guessed at. Ok when even.
Status CheckYbr422Columns(int columns);

// Writes `file` as a Part 10 file in `xfer` (whose representation the dataset must already
// have) into memory, updating the meta header. Errors: kInternal when DCMTK refuses.
Result<std::vector<std::uint8_t>> WriteDicom(DcmFileFormat& file, E_TransferSyntax xfer);

}  // namespace caliper::dicom
