// libFuzzer harness for the DICOM parse + de-identification path
// (caliper::dicom::DicomDeidentifier::Deidentify) on arbitrary bytes, with every option on and
// a blanking rule for CT so the pixel path runs too. Besides ASan/UBSan findings it checks
// the contract of include/caliper/dicom/deid.h and aborts when it is broken:
//   - bad input is an error value (never a crash, never an empty success);
//   - a success is a Part 10 file, marked as de-identified, that itself de-identifies again
//     (what we write, we can read).
// Run: FUZZER=dicom_deid fuzz/run.sh [SECONDS]; seeds come from the CT phantom generator.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "caliper/dicom/deid.h"
#include "caliper/security/crypto.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "contract broken: %s\n", what);
  std::abort();
}

const caliper::dicom::DicomDeidentifier& Deidentifier() {
  static const auto deid = [] {
    caliper::dicom::DeidOptions o;
    o.retain_modified_dates = o.clean_descriptors = o.retain_safe_private = true;
    o.safe_private.push_back({"CALIPER SYNTH", 0x0009, 0x02});
    o.blanking.push_back({"CT", "", "", {{0, 0, 4, 4}}});
    o.max_input_bytes = 1 << 20;
    caliper::security::Key key;
    key.fill(0x5a);
    auto d = caliper::dicom::DicomDeidentifier::Create(
        std::move(o), [key](std::string_view m) { return caliper::security::KeyedBlake2b(key, m); });
    if (!d.ok()) Fail("Create failed");
    return std::move(d).value();
  }();
  return *deid;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& deid = Deidentifier();
  auto r = deid.Deidentify(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) {
    if (r.status().message().empty()) Fail("error without a message");
    return 0;
  }
  if (r->bytes.size() < 132 || r->bytes.compare(128, 4, "DICM") != 0) Fail("output is not Part 10");
  if (r->bytes.find("YES") == std::string::npos) Fail("Patient Identity Removed missing");
  auto again = deid.Deidentify(r->bytes);
  if (!again.ok()) Fail("the output does not de-identify again");
  return 0;
}
