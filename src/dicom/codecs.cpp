#include "dicom/codecs.h"

#include "dicom/dictionary.h"

#include <dcmtk/dcmdata/dcistrma.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmdata/dcxfer.h>
// Registers dcmimage colour support with DicomImage, which the JPEG encoder needs for RGB.
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>

namespace caliper::dicom {
namespace {

// DCMTK's dictionary from the compiled table, before main (dictionary.h). Every binary that
// reads DICOM links this file.
[[maybe_unused]] const DictionarySource kDictionarySource = LoadDictionary();

}  // namespace

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

namespace {

// The explicit VRs of PS3.5 Table 7.1-2, two letters each: those with a 2-byte length, and those
// with 2 reserved bytes and a 4-byte length (Table 7.1-1).
constexpr std::string_view kShortLengthVrs = "AEASATCSDADSDTFDFLISLOLTPNSHSLSSSTTMUIULUS";
constexpr std::string_view kLongLengthVrs = "OBODOFOLOVOWSQSVUCUNURUTUV";

// Each pair of capitals: 0 for no standard VR, 1 for one with a 2-byte length, 2 for one with a
// 4-byte length (the walk asks for every element, so a table rather than a search of the lists).
constexpr std::size_t VrSlot(char a, char b) { return static_cast<std::size_t>((a - 'A') * 26 + (b - 'A')); }
constexpr std::array<std::uint8_t, 26 * 26> kVrForms = [] {
  std::array<std::uint8_t, 26 * 26> t{};
  for (std::size_t i = 0; i + 2 <= kShortLengthVrs.size(); i += 2) t[VrSlot(kShortLengthVrs[i], kShortLengthVrs[i + 1])] = 1;
  for (std::size_t i = 0; i + 2 <= kLongLengthVrs.size(); i += 2) t[VrSlot(kLongLengthVrs[i], kLongLengthVrs[i + 1])] = 2;
  return t;
}();

}  // namespace

VrForm FormOfVr(std::string_view vr) {
  if (vr.size() != 2) return {.long_length = false, .standard = false};
  if (vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z') {
    if (const std::uint8_t form = kVrForms[VrSlot(vr[0], vr[1])]; form != 0) {
      return {.long_length = form == 2, .standard = true};
    }
  }
  // A VR no edition defines ("NH"): as DCMTK reads it (DcmItem::readTagAndLength), for most a
  // 4-byte length, as for UN.
  const char name[3] = {vr[0], vr[1], '\0'};
  return {.long_length = DcmVR(name).usesExtendedLengthEncoding(), .standard = false};
}

Result<ElementLayout> ScanElements(std::string_view f) {
  constexpr std::uint32_t kUndefined = 0xFFFFFFFF;
  constexpr std::size_t kOpen = ElementLayout::kNone;  // a container closed by a delimiter
  ElementLayout layout;
  bool big = false, explicit_vr = true, in_meta = true;
  auto u16 = [&](std::size_t at) {
    const auto* b = reinterpret_cast<const unsigned char*>(f.data() + at);
    return static_cast<std::uint16_t>(big ? (b[0] << 8) | b[1] : (b[1] << 8) | b[0]);
  };
  auto u32 = [&](std::size_t at) {
    const std::uint32_t lo = u16(at), hi = u16(at + 2);
    return big ? (lo << 16) | hi : (hi << 16) | lo;
  };
  auto too_long = [&](std::uint16_t g, std::uint16_t e, std::uint64_t len, std::size_t after) {
    char tag[16];
    std::snprintf(tag, sizeof tag, "(%04X,%04X)", g, e);
    return Error(ErrorCode::kInvalidArgument,
                 std::string("element ") + tag + " claims " + std::to_string(len) +
                     " bytes but only " + std::to_string(f.size() - std::min(after, f.size())) +
                     " remain (truncated or corrupt)");
  };
  // The containers (sequences, items) the walk is in: where each ends, or kOpen.
  std::vector<std::size_t> open;
  std::size_t pixel_data = ElementLayout::kNone, last_top_level = ElementLayout::kNone;
  std::string& xfer = layout.transfer_syntax_uid;
  std::size_t pos = 132;
  // Where the file meta information ends, as DCMTK finds it (DcmMetaInfo::read): after the
  // bytes its group length (0002,0000) names when that comes first, else at the first element
  // of another group. Group 0002 elements after it belong to the data set.
  std::size_t meta_end = ElementLayout::kNone;
  if (f.size() >= 144 && u16(132) == 0x0002 && u16(134) == 0x0000 && f.substr(136, 2) == "UL" &&
      u16(138) == 4) {
    meta_end = 144 + std::size_t{u32(140)};
  }
  while (pos + 8 <= f.size()) {
    while (!open.empty() && open.back() != kOpen && pos >= open.back()) open.pop_back();
    if (in_meta && (meta_end != ElementLayout::kNone ? pos >= meta_end : u16(pos) != 0x0002)) {
      in_meta = false;
      while (!xfer.empty() && (xfer.back() == '\0' || xfer.back() == ' ')) xfer.pop_back();
      // Without a transfer syntax DCMTK knows, it guesses one from the first bytes of the data
      // set (big endian, say), and this walk, which would read them otherwise, could not vouch
      // for any length DCMTK then reads.
      if (xfer.empty()) {
        return Error(ErrorCode::kInvalidArgument,
                     "no Transfer Syntax UID (0002,0010) in the file meta information");
      }
      if (DcmXfer(xfer.c_str()).getXfer() == EXS_Unknown) {
        return Error(ErrorCode::kInvalidArgument, "unknown transfer syntax " + xfer);
      }
      if (xfer == UID_DeflatedExplicitVRLittleEndianTransferSyntax) return layout;
      explicit_vr = xfer != UID_LittleEndianImplicitTransferSyntax;
      big = xfer == UID_BigEndianExplicitTransferSyntax;
      continue;
    }
    const std::uint16_t g = u16(pos), e = u16(pos + 2);
    // An item or a delimiter: no VR; items are entered. Any other tag of group FFFE is an element
    // with its VR, as DCMTK reads it (its dictionary gives only these three no VR).
    if (g == 0xFFFE && (e == 0xE000 || e == 0xE00D || e == 0xE0DD)) {
      const std::uint32_t len = u32(pos + 4);
      if (e == 0xE000) {
        if (len != kUndefined && len > f.size() - pos - 8) return too_long(g, e, len, pos + 8);
        open.push_back(len == kUndefined ? kOpen : pos + 8 + len);
      } else {  // a delimiter closes the innermost open container (and any defined one in it)
        while (!open.empty() && open.back() != kOpen) open.pop_back();
        if (!open.empty()) open.pop_back();
      }
      pos += 8;
      continue;
    }
    if (open.empty() && !in_meta) last_top_level = pos;
    std::uint32_t len;
    std::size_t header;
    bool sequence;
    bool unknown = false;
    if (explicit_vr || in_meta) {
      const std::string_view vr = f.substr(pos + 4, 2);
      // Read as a 2-byte length here, a VR no edition defines could claim gigabytes in the 4
      // bytes DCMTK reads as its length, which this walk never saw.
      const VrForm form = FormOfVr(vr);
      const bool long_form = form.long_length;
      if (long_form && pos + 12 > f.size()) break;
      len = long_form ? u32(pos + 8) : u16(pos + 6);
      header = long_form ? 12 : 8;
      sequence = vr == "SQ";
      unknown = vr == "UN" || !form.standard;
    } else {
      len = u32(pos + 4);
      header = 8;
      sequence = DcmTag(g, e).getEVR() == EVR_SQ;
    }
    const std::size_t value = pos + header;
    const bool pixels = g == 0x7FE0 && e == 0x0010;
    if (pixels && open.empty()) pixel_data = pos;
    if (len == kUndefined) {
      if (pixels) {  // encapsulated pixel data: skip the fragments
        pos = value;
        while (pos + 8 <= f.size() && !(u16(pos) == 0xFFFE && u16(pos + 2) == 0xE0DD)) {
          if (u16(pos) != 0xFFFE || u16(pos + 2) != 0xE000) {
            return Error(ErrorCode::kInvalidArgument, "malformed encapsulated Pixel Data");
          }
          const std::uint32_t fragment = u32(pos + 4);
          if (fragment > f.size() - pos - 8) return too_long(0xFFFE, 0xE000, fragment, pos + 8);
          pos += 8 + fragment;
        }
        pos += 8;
        continue;
      }
      if (unknown) return layout;  // an implicit-VR sequence inside: DCMTK's to parse
      open.push_back(kOpen);       // a sequence of undefined length: enter it
      pos = value;
      continue;
    }
    if (value > f.size() || len > f.size() - value) return too_long(g, e, len, value);
    if (in_meta && g == 0x0002 && e == 0x0010) xfer.assign(f.substr(value, len));
    if (sequence) {
      open.push_back(value + len);
      pos = value;
    } else {
      pos = value + len;
    }
  }
  if (pixel_data != ElementLayout::kNone && pixel_data == last_top_level && pos == f.size()) {
    layout.pixel_data_tail = pixel_data;
  }
  return layout;
}

Status CheckYbr422Columns(int columns) {
  if (columns % 2 == 0) return Status::Ok();
  return Error(ErrorCode::kUnsupported,
               "native YBR_FULL_422 with an odd number of Columns (" + std::to_string(columns) +
                   "): PS3.3 C.7.6.3.1.2 stores a row's pixels in pairs (Y1 Y2 Cb Cr) and defines no layout "
                   "for a row's last, unpaired pixel");
}

namespace {

// Bytes in memory, read from a position; putback within them.
class SpanProducer : public DcmProducer {
 public:
  explicit SpanProducer(std::string_view bytes) : bytes_(bytes) {}
  void Reset(std::string_view bytes) {
    bytes_ = bytes;
    pos_ = 0;
  }
  std::size_t pos() const { return pos_; }
  OFBool good() const override { return status_.good(); }
  OFCondition status() const override { return status_; }
  OFBool eos() override { return pos_ == bytes_.size(); }
  offile_off_t avail() override { return static_cast<offile_off_t>(bytes_.size() - pos_); }
  offile_off_t read(void* buf, offile_off_t len) override {
    const std::size_t n = std::min(static_cast<std::size_t>(len), bytes_.size() - pos_);
    std::memcpy(buf, bytes_.data() + pos_, n);
    pos_ += n;
    return static_cast<offile_off_t>(n);
  }
  offile_off_t skip(offile_off_t len) override {
    const std::size_t n = std::min(static_cast<std::size_t>(len), bytes_.size() - pos_);
    pos_ += n;
    return static_cast<offile_off_t>(n);
  }
  void putback(offile_off_t num) override {
    if (static_cast<std::size_t>(num) > pos_) {
      status_ = EC_PutbackFailed;
      return;
    }
    pos_ -= static_cast<std::size_t>(num);
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
  OFCondition status_ = EC_Normal;
};

// DCMTK's stream over bytes in memory (DcmInputBufferStream) gives no factory, so DCMTK loads
// every value as it parses, allocating first what the value's header claims. This stream gives
// one, as DCMTK's file stream does: DCMTK then skips a value longer than the maximum read length
// and refuses it when fewer bytes are left than it claims (DcmElement::read), before anything
// is allocated. Values skipped are loaded later through the factory, from the same bytes.
// A deflated data set (PS3.5 A.5: raw deflate, which DCMTK's inflater reads with a factory
// impossible, a position in its output being none in the file) is inflated here when DCMTK asks
// for the inflater, at most kMaxInflatedBytes, and then read as the bytes are.
class MemoryInputStream : public DcmInputStream {
 public:
  static constexpr std::size_t kMaxInflatedBytes = std::size_t{1} << 30;

  // `owner` keeps `bytes` alive when they are inflated ones (null for the caller's bytes).
  MemoryInputStream(std::string_view bytes, std::size_t at, std::shared_ptr<const std::string> owner = nullptr)
      : DcmInputStream(&producer_), producer_(bytes.substr(at)), bytes_(bytes), at_(at), owner_(std::move(owner)) {}
  DcmInputStreamFactory* newFactory() const override;
  OFCondition installCompressionFilter(E_StreamCompression type) override;

 private:
  SpanProducer producer_;
  std::string_view bytes_;  // what producer_ reads, from at_
  std::size_t at_;
  std::shared_ptr<const std::string> owner_;
};

class MemoryInputStreamFactory : public DcmInputStreamFactory {
 public:
  MemoryInputStreamFactory(std::string_view bytes, std::size_t at, std::shared_ptr<const std::string> owner)
      : bytes_(bytes), at_(at), owner_(std::move(owner)) {}
  DcmInputStream* create() const override { return new MemoryInputStream(bytes_, at_, owner_); }
  DcmInputStreamFactory* clone() const override { return new MemoryInputStreamFactory(bytes_, at_, owner_); }
  // DCMTK names two kinds, both of files; this one reads the file's bytes in memory.
  DcmInputStreamFactoryType ident() const override { return DFT_DcmInputFileStreamFactory; }

 private:
  std::string_view bytes_;
  std::size_t at_;
  std::shared_ptr<const std::string> owner_;
};

DcmInputStreamFactory* MemoryInputStream::newFactory() const {
  // Behind DCMTK's own filter (never installed by this stream for zlib), a position in the
  // stream would be none in the bytes: no factory, as DCMTK's file stream does.
  if (currentProducer() != &producer_) return nullptr;
  return new MemoryInputStreamFactory(bytes_, at_ + producer_.pos(), owner_);
}

OFCondition MemoryInputStream::installCompressionFilter(E_StreamCompression type) {
  if (type != ESC_zlib || owner_ != nullptr) return DcmInputStream::installCompressionFilter(type);
  std::string_view packed = bytes_.substr(at_ + producer_.pos());
  auto inflated = std::make_shared<std::string>();
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return EC_MemoryExhausted;
  int rc = Z_OK;
  bool too_large = false;
  try {
    std::array<char, 1 << 16> chunk;
    while (rc == Z_OK) {
      if (z.avail_in == 0 && !packed.empty()) {  // in pieces zlib's counters hold
        const std::size_t n = std::min<std::size_t>(packed.size(), std::size_t{1} << 30);
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
        z.avail_in = static_cast<uInt>(n);
        packed.remove_prefix(n);
      }
      z.next_out = reinterpret_cast<Bytef*>(chunk.data());
      z.avail_out = static_cast<uInt>(chunk.size());
      rc = inflate(&z, Z_NO_FLUSH);
      const std::size_t n = chunk.size() - z.avail_out;
      if (inflated->size() + n > kMaxInflatedBytes) {
        too_large = true;
        break;
      }
      inflated->append(chunk.data(), n);
    }
  } catch (const std::bad_alloc&) {
    inflateEnd(&z);
    return EC_MemoryExhausted;
  }
  const std::string zlib_message = z.msg != nullptr ? z.msg : "corrupt data";
  inflateEnd(&z);
  if (too_large) return makeOFCondition(OFM_dcmdata, 901, OF_error, "the deflated data set inflates to more than 1 GiB");
  // Z_BUF_ERROR with every byte given: the stream is cut. What came before it is kept, and reads
  // as a truncated file where an element is cut, as through DCMTK's inflater. A corrupt stream
  // is an error, as there.
  if (rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    return makeOFCondition(OFM_dcmdata, 902, OF_error, ("ZLib Error: " + zlib_message).c_str());
  }
  owner_ = inflated;
  bytes_ = *inflated;
  at_ = 0;
  producer_.Reset(bytes_);
  return EC_Normal;
}

}  // namespace

Status ParseInMemory(std::string_view bytes, DcmFileFormat& file, E_GrpLenEncoding group_lengths) {
  MemoryInputStream stream(bytes, 0);
  file.transferInit();
  OFCondition cond = file.read(stream, EXS_Unknown, group_lengths, DCM_MaxReadLength);
  file.transferEnd();
  // Loaded now, so the dataset outlives `bytes`; each length was checked against them above.
  if (cond.good()) cond = file.loadAllDataIntoMemory();
  if (cond.bad()) file.clear();  // nothing left pointing into `bytes`
  if (cond == EC_StreamNotifyClient) {
    return Error(ErrorCode::kInvalidArgument, "truncated DICOM file (an element claims more bytes than remain)");
  }
  if (cond.bad()) return Error(ErrorCode::kInvalidArgument, std::string("not a readable DICOM file (") + cond.text() + ")");
  if (file.getDataset() == nullptr || file.getDataset()->card() == 0) {
    return Error(ErrorCode::kInvalidArgument, "not a DICOM file: no data elements");
  }
  return Status::Ok();
}

Status ReadDicom(std::span<const std::uint8_t> bytes, DcmFileFormat& out) {
  RegisterDecoders();
  if (bytes.empty()) return Error(ErrorCode::kInvalidArgument, "empty input (zero bytes)");
  const std::string_view view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (view.size() >= 132 && view.substr(128, 4) == "DICM") {
    CALIPER_RETURN_IF_ERROR(CheckElementLengths(view));
  }
  return ParseInMemory(view, out, EGL_noChange);
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
