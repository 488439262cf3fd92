#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "caliper/waveform/waveform.h"

namespace caliper::waveform {
namespace {

// Two known signals at 250 Hz for 4 s, held as exact microvolt integers: a 1 mV, 1 Hz sine and
// a ramp from -2 mV to +2 mV.
Waveform Known() {
  Waveform w;
  w.source_format = "synthetic";
  w.sampling_rate_hz = 250;
  w.samples = 1000;
  Lead sine{"ECG I", {}, 1e-3, 0};
  Lead ramp{"ECG II", {}, 1e-3, 0};
  for (int i = 0; i < 1000; ++i) {
    sine.digital.push_back(static_cast<int>(std::lround(1000 * std::sin(2 * std::numbers::pi * i / 250.0))));
    ramp.digital.push_back(-2000 + i * 4);
  }
  w.leads = {sine, ramp};
  return w;
}

constexpr const char* kPatient = "MCH-0234567 F 02-MAY-1951 Haagse_Harry";
constexpr const char* kRecording = "Startdate 02-MAR-2002 PSG-1234/2002 NN Telemetry03";

TEST(EdfTest, RoundTripsKnownSignalsAndDropsIdentification) {
  const Waveform known = Known();
  auto bytes = WriteEdf(known, {kPatient, kRecording, "02.03.02", "14.30.07"});
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes->substr(0, 8), "0       ");
  auto w = ReadEdf(*bytes);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->source_format, "edf+");
  EXPECT_EQ(w->sampling_rate_hz, 250);
  EXPECT_EQ(w->samples, 1000);
  ASSERT_EQ(w->leads.size(), 2u);
  EXPECT_EQ(w->leads[0].name, "ECG I");
  EXPECT_EQ(w->leads[1].name, "ECG II");
  for (std::size_t l = 0; l < 2; ++l) {
    // 16-bit quantisation over the physical range: within one step (range / 65535).
    const double step = (l == 0 ? 2.0 : 3.996) / 65535.0;
    for (std::size_t i = 0; i < 1000; i += 37) {
      EXPECT_NEAR(w->leads[l].Millivolts(i), known.leads[l].Millivolts(i), step) << l << " " << i;
    }
  }
  EXPECT_NEAR(w->leads[0].Millivolts(62), 1000 * std::sin(2 * std::numbers::pi * 62 / 250.0) / 1000, 1e-4);
  EXPECT_EQ(w->sex, "F");
  EXPECT_EQ(w->age_band, "50-54");  // born 02-MAY-1951, recorded 02-MAR-2002: 50
  ASSERT_EQ(w->warnings.size(), 1u);  // the annotation signal
  const std::string stored = EncodeStored(*w);
  for (const char* phi : {"MCH-", "Haagse", "MAY", "PSG-", "Telemetry", "14.30"}) {
    EXPECT_EQ(stored.find(phi), std::string::npos) << phi;
  }
}

TEST(EdfTest, LeavesOutSignalsItCannotShowAndRefusesBadFiles) {
  auto bytes = WriteEdf(Known(), {});
  ASSERT_TRUE(bytes.ok());
  std::string b = *bytes;
  // Signal 2's physical dimension (after 256 + 3*16 + 3*80 bytes; 8 per signal) becomes mmHg.
  b.replace(256 + 3 * 16 + 3 * 80 + 8, 8, "mmHg    ");
  auto w = ReadEdf(b);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->leads.size(), 1u);
  EXPECT_EQ(w->warnings.size(), 2u);

  EXPECT_EQ(ReadEdf(bytes->substr(0, 200)).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadEdf(bytes->substr(0, bytes->size() - 10)).status().code(), ErrorCode::kInvalidArgument);
  std::string d = *bytes;
  d.replace(192, 5, "EDF+D");
  EXPECT_EQ(ReadEdf(d).status().code(), ErrorCode::kUnsupported);
  std::string v = *bytes;
  v[0] = '1';
  EXPECT_EQ(ReadEdf(v).status().code(), ErrorCode::kInvalidArgument);
  Waveform odd = Known();
  odd.samples = 999;
  for (Lead& l : odd.leads) l.digital.pop_back();
  EXPECT_EQ(WriteEdf(odd, {}).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace caliper::waveform
