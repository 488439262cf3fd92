#include <gtest/gtest.h>

#include <string>

#include "caliper/waveform/waveform.h"
#include "waveform/test_support.h"

namespace caliper::waveform {
namespace {

using testing::CrossCheck;
using testing::ReadAll;
using testing::SampleFolder;

std::string Word(int code, int data) {
  const unsigned w = static_cast<unsigned>(code << 10 | data);
  return {static_cast<char>(w & 0xFF), static_cast<char>(w >> 8)};
}

// Packs 12-bit samples two to three bytes (format 212).
std::string Pack212(const std::vector<int>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); i += 2) {
    const unsigned a = static_cast<unsigned>(v[i]) & 0xFFF;
    const unsigned b = i + 1 < v.size() ? static_cast<unsigned>(v[i + 1]) & 0xFFF : 0;
    out.push_back(static_cast<char>(a & 0xFF));
    out.push_back(static_cast<char>(((a >> 8) & 0x0F) | ((b >> 4) & 0xF0)));
    out.push_back(static_cast<char>(b & 0xFF));
  }
  return out;
}

TEST(WfdbTest, DecodesEveryAnnotationModifier) {
  // Times are differences: + at 18 with aux "(N", N at 77 (subtype 2), SKIP of 100000, V at 100077 + 5 on channel 1
  // with num 3, a comment whose free text is dropped, then the end word.
  std::string atr = Word(28, 18) + Word(63, 3) + std::string("(N\0\0", 4) + Word(1, 59) + Word(61, 2);  // 18 + 59 = 77
  atr += Word(59, 0) + std::string("\x01\x00\xA0\x86", 4);  // 0x000186A0 = 100000, high word first
  atr += Word(5, 5) + Word(62, 1) + Word(60, 3) + Word(22, 1) + Word(63, 4) + "Mr X" + Word(0, 0);
  auto a = DecodeMitAnnotations(atr);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 4u);
  EXPECT_EQ((*a)[0].sample, 18);
  EXPECT_EQ((*a)[0].symbol, "+");
  EXPECT_EQ((*a)[0].aux, "(N");
  EXPECT_EQ((*a)[1].sample, 77);
  EXPECT_EQ((*a)[1].label, "Normal beat");
  EXPECT_EQ((*a)[1].subtype, 2);
  EXPECT_EQ((*a)[2].sample, 100082);
  EXPECT_EQ((*a)[2].symbol, "V");
  EXPECT_EQ((*a)[2].channel, 1);
  EXPECT_EQ((*a)[2].num, 3);
  EXPECT_EQ((*a)[3].symbol, "\"");
  EXPECT_EQ((*a)[3].channel, 1);  // CHN and NUM carry over until changed
  EXPECT_EQ((*a)[3].num, 3);
  EXPECT_EQ((*a)[3].aux, "");      // free text of a comment is not kept

  EXPECT_FALSE(DecodeMitAnnotations(Word(59, 0) + "\x01").ok());
  EXPECT_FALSE(DecodeMitAnnotations(Word(63, 9) + "abc").ok());
  EXPECT_FALSE(DecodeMitAnnotations(Word(1, 5) + "\x01").ok());
}

TEST(WfdbTest, ReadsFormat212And16WithCalibration) {
  const std::string header =
      "# 73 F 1 2 x\n"
      "rec 3 100 4 12:00:00 01/02/2003\n"
      "rec.dat 212 200(10)/mV 12 0 0 -1828 0 lead A\n"
      "rec.dat 212 100 12 5 0 114 0 B\n"
      "rec_c.dat 16+2 1000/uV 16 0 0 11000 0 C\n"
      "# diagnosis: something; 12/12/2012\n";
  FileSet files{{"rec.hea", header},
                {"rec.dat", Pack212({10, 5, 210, -2043, -2048, 2047, 0, 105})},
                {"rec_c.dat", std::string("\xFF\xFF", 2) + std::string("\x01\x00\xFF\xFF\x10\x27\xE8\x03", 8)}};
  auto w = ReadWfdb(files, "rec.hea");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->source_format, "wfdb");
  EXPECT_EQ(w->sampling_rate_hz, 100);
  EXPECT_EQ(w->samples, 4);
  ASSERT_EQ(w->leads.size(), 3u);
  EXPECT_EQ(w->leads[0].name, "lead A");
  EXPECT_DOUBLE_EQ(w->leads[0].Millivolts(0), 0.0);    // (10 - 10) / 200
  EXPECT_DOUBLE_EQ(w->leads[0].Millivolts(1), 1.0);    // (210 - 10) / 200
  EXPECT_DOUBLE_EQ(w->leads[0].Millivolts(2), -10.29);  // (-2048 - 10) / 200
  EXPECT_DOUBLE_EQ(w->leads[1].Millivolts(0), 0.0);     // baseline = ADC zero 5
  EXPECT_DOUBLE_EQ(w->leads[1].Millivolts(1), -20.48);  // (-2043 - 5) / 100
  EXPECT_DOUBLE_EQ(w->leads[1].Millivolts(2), 20.42);
  EXPECT_DOUBLE_EQ(w->leads[1].Millivolts(3), 1.0);
  EXPECT_DOUBLE_EQ(w->leads[2].Millivolts(2), 0.01);  // 10000 / (1000 per uV) = 10 uV
  EXPECT_DOUBLE_EQ(w->leads[2].Millivolts(1), -0.000001);
  EXPECT_EQ(w->age_band, "70-74");
  EXPECT_EQ(w->sex, "F");
}

TEST(WfdbTest, RefusesWhatItCannotRead) {
  auto read = [](std::string header, std::string dat = std::string(30, '\0')) {
    return ReadWfdb(FileSet{{"r.hea", header}, {"r.dat", dat}}, "r.hea").status();
  };
  EXPECT_EQ(read("r 1 100 4\nr.dat 80 200 8 0 0 0 0 x\n").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(read("r/2 1 100 4\n").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(read("r 1 100 4\nr.dat 16x2 200 16 0 0 0 0 x\n").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(read("r 1 100 4\nr.dat 16 200/mmHg 16 0 0 0 0 x\n").code(), ErrorCode::kUnsupported);
  EXPECT_EQ(read("r 1 100 4\n../etc/passwd 16 200 16 0 0 0 0 x\n").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(read("r 2 100 4\nr.dat 16 200 16 0 0 0 0 x\n").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(read("r 1 100 400\nr.dat 16 200 16 0 0 0 0 x\n").code(), ErrorCode::kInvalidArgument);  // short
  EXPECT_EQ(read("r 1 100 4\nr.dat 16 200 16 0 0 7 0 x\n").code(), ErrorCode::kInvalidArgument);  // checksum
  EXPECT_EQ(read("r 1 100 4\nr.dat 16 200 16 0 0 0 0 x\n").code(), ErrorCode::kOk);
  EXPECT_EQ(read("r 1 100 4\nmissing.dat 16 200 16 0 0 0 0 x\n").code(), ErrorCode::kInvalidArgument);
  auto files = WfdbSignalFiles("r 2 100 4\na.dat 16 200 16 0 0 0 0 x\na.dat 16\n");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, std::vector<std::string>{"a.dat"});
}

FileSet RecordFiles(const std::string& folder, const std::string& record, const std::vector<std::string>& extra) {
  FileSet files;
  files[record + ".hea"] = ReadAll(folder + "/" + record + ".hea");
  for (const std::string& e : extra) files[e] = ReadAll(folder + "/" + e);
  return files;
}

// Reads `record` from the sample folder and the cross-check's read of it; checks that every lead's
// name, the sample count and the values at the cross-check's samples agree.
struct Read {
  Result<Waveform> waveform;
  nlohmann::json reference;
};
std::optional<Read> ReadAndCrossCheck(const std::string& record, const std::vector<std::string>& files) {
  auto folder = SampleFolder("waveform/wfdb/" + record + ".hea");
  if (!folder) return std::nullopt;
  Read r{ReadWfdb(RecordFiles(*folder, record, files), record + ".hea"), {}};
  auto ref = CrossCheck(CALIPER_SOURCE_DIR, "wfdb " + *folder + " " + record);
  if (!r.waveform.ok() || !ref) {
    ADD_FAILURE() << r.waveform.status().ToString();
    return std::nullopt;
  }
  r.reference = *ref;
  const Waveform& w = *r.waveform;
  EXPECT_EQ(w.samples, r.reference["samples"].get<std::int64_t>());
  EXPECT_EQ(w.leads.size(), r.reference["leads"].size());
  for (std::size_t l = 0; l < std::min(w.leads.size(), r.reference["leads"].size()); ++l) {
    EXPECT_EQ(w.leads[l].name, r.reference["leads"][l]["name"]);
    for (const auto& [index, mv] : r.reference["leads"][l]["mv"].items()) {
      EXPECT_NEAR(w.leads[l].Millivolts(std::stoul(index)), mv.get<double>(), 1e-9) << l << " " << index;
    }
  }
  return r;
}

// MIT-BIH record 100: 2 leads at 360 Hz, 650 000 samples, and its reference beat labels. Every
// figure is compared with tests/waveform/crosscheck.py's own read of the same files.
TEST(WfdbTest, MitBihRecord100AgreesWithIndependentRead) {
  auto read = ReadAndCrossCheck("100", {"100.dat", "100.atr"});
  if (!read) GTEST_SKIP() << "CALIPER_SAMPLE_DATA is not set";
  const Waveform* w = &*read->waveform;
  const nlohmann::json* ref = &read->reference;
  EXPECT_EQ(w->sampling_rate_hz, 360);
  EXPECT_EQ(w->samples, 650000);
  ASSERT_EQ(w->leads.size(), 2u);
  EXPECT_EQ(w->leads[0].name, "MLII");
  EXPECT_EQ(w->age_band, "65-69");  // "# 69 M ..."
  EXPECT_EQ(w->sex, "M");
  ASSERT_EQ(static_cast<int>(w->annotations.size()), (*ref)["annotation_count"].get<int>());
  std::map<std::string, int> counts;
  for (const Annotation& a : w->annotations) ++counts[a.symbol];
  for (const auto& [symbol, n] : (*ref)["beats"].items()) EXPECT_EQ(counts[symbol], n.get<int>()) << symbol;
  for (std::size_t i = 0; i < (*ref)["first_annotations"].size(); ++i) {
    EXPECT_EQ(w->annotations[i].sample, (*ref)["first_annotations"][i][0].get<std::int64_t>());
    EXPECT_EQ(w->annotations[i].symbol, (*ref)["first_annotations"][i][1].get<std::string>());
  }
  // The published counts of record 100 (MIT-BIH Arrhythmia Database directory): 2239 normal
  // beats, 33 atrial premature beats, 1 PVC; the first beat label at 77 / 360 s.
  EXPECT_EQ(counts["N"], 2239);
  EXPECT_EQ(counts["A"], 33);
  EXPECT_EQ(counts["V"], 1);
  EXPECT_EQ(w->annotations[0].aux, "(N");
  EXPECT_NEAR(w->TimeOf(w->annotations[1].sample), 77.0 / 360.0, 1e-12);
}

// PTB record s0010_re: 15 leads at 1000 Hz over two format-16 files; only age band and sex of its
// long clinical comments are kept.
TEST(WfdbTest, PtbRecordS0010AgreesWithIndependentRead) {
  auto read = ReadAndCrossCheck("s0010_re", {"s0010_re.dat", "s0010_re.xyz"});
  if (!read) GTEST_SKIP() << "CALIPER_SAMPLE_DATA is not set";
  const Waveform* w = &*read->waveform;
  EXPECT_EQ(w->sampling_rate_hz, 1000);
  EXPECT_EQ(w->samples, 38400);
  ASSERT_EQ(w->leads.size(), 15u);
  EXPECT_EQ(w->leads[12].name, "vx");
  EXPECT_EQ(w->age_band, "80-84");
  EXPECT_EQ(w->sex, "F");
  EXPECT_TRUE(w->annotations.empty());
  const std::string stored = EncodeStored(*w);
  for (const char* phi : {"infero", "Myocardial", "1990", "Gamma-TPA", "16-Oct"}) {
    EXPECT_EQ(stored.find(phi), std::string::npos) << phi;
  }
}

}  // namespace
}  // namespace caliper::waveform
