// Text de-identification (docs/deid-text.md): recall and precision per PHI type on the standard
// and the harder synthetic evaluation sets, then throughput: notes concatenated into one large
// note (default 50 MB; the standard set's notes, the harder set's, and the public ACI-Bench
// notes when CALIPER_SAMPLE_DATA is set), detected and replaced in tag and surrogate mode on one thread. Prints MB/s by wall time and by the
// thread's CPU time (per core), and the peak resident memory.
// Then the same on the held-out notes written by hand (src/deid/text/testdata/held_out_notes.txt).
// Usage: caliper_bench_deid [megabytes [standard|harder|public]]: with a corpus named, only its
// throughput is measured (no evaluation), for profiling one corpus at a time.
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "caliper/deid/text_deid.h"
#include "caliper/ingest/notes.h"
#include "caliper/synth/synthetic.h"
#include "deid/text/evaluation.h"

namespace {

using namespace caliper;

std::string Corpus(double megabytes, bool hard) {
  std::string big;
  std::uint64_t seed = 1;
  while (big.size() < megabytes * 1e6) {
    const auto notes = hard ? synth::MakeHardClinicalNotes(300, seed++) : synth::MakeClinicalNotes(300, seed++);
    for (const synth::SyntheticNote& n : notes) big += n.text + "\n";
  }
  return big;
}

// The public clinician-written visit notes and dialogues of ACI-Bench (docs/deid-text.md), from
// CALIPER_SAMPLE_DATA, repeated: text as clinicians write it, with far fewer identifiers than
// the synthetic sets (which carry one every 40-60 bytes). "" when the sample is absent.
std::string PublicCorpus(double megabytes) {
  const char* root = std::getenv("CALIPER_SAMPLE_DATA");
  if (root == nullptr) return "";
  std::ifstream in(std::string(root) + "/notes/aci-bench/valid.csv", std::ios::binary);
  if (!in) return "";
  std::string one;
  for (const char* column : {"note", "dialogue"}) {
    in.clear();
    in.seekg(0);
    ingest::NoteReaderOptions options;
    options.csv_text_column = column;
    options.csv_id_column = "encounter_id";
    auto reader = ingest::NoteReader::Create(ingest::NoteFormat::kCsv, in, options);
    ingest::NoteRecord r;
    while (reader->Next(r)) {
      if (r.status.ok()) one += r.text + "\n";
    }
  }
  std::string big;
  while (!one.empty() && big.size() < megabytes * 1e6) big += one;
  return big;
}

// Cuts `big` to `megabytes`, at a character boundary.
void Trim(std::string& big, double megabytes) {
  if (big.size() > megabytes * 1e6) big.resize(static_cast<std::size_t>(megabytes * 1e6));
  while (!big.empty() && (static_cast<unsigned char>(big.back()) & 0x80)) big.pop_back();
}

// CPU time of this thread: the per-core figure, which other load on the machine does not skew.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const double megabytes = argc > 1 ? std::atof(argv[1]) : 50.0;
  const std::string only = argc > 2 ? argv[2] : "";
  if (!only.empty() && only != "standard" && only != "harder" && only != "public") {
    std::fprintf(stderr, "unknown corpus '%s': standard, harder or public\n", only.c_str());
    return 2;
  }
  if (only.empty()) {
    auto d = deid::TextDeidentifier::Create({});
    if (!d.ok()) {
      std::fprintf(stderr, "%s\n", d.status().ToString().c_str());
      return 1;
    }
    std::vector<synth::SyntheticNote> standard;
    for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
      for (auto& n : synth::MakeClinicalNotes(150, seed)) standard.push_back(std::move(n));
    }
    for (const auto& [title, notes] :
         {std::pair{"standard synthetic notes (600)", standard},
          std::pair{"harder synthetic notes (600)", synth::MakeHardClinicalNotes(600, 11)}}) {
      auto report = deid::text::Evaluate(**d, notes);
      if (!report.ok()) {
        std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
        return 1;
      }
      deid::text::PrintReport(*report, title);
      std::printf("\n");
    }
    // Notes written by hand, not from the generator, and not used to tune the rules.
    auto held_out =
        deid::text::ReadMarkedNotesFile(std::string(CALIPER_SOURCE_DIR) + "/src/deid/text/testdata/held_out_notes.txt");
    auto report = held_out.ok() ? deid::text::EvaluateByBatch(
                                      **d, *held_out,
                                      "held-out hand-written notes (" + std::to_string(held_out->size()) + ")")
                                : Result<deid::text::EvaluationReport>(held_out.status());
    if (!report.ok()) {
      std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
      return 1;
    }
    std::printf("\n");
  }
  for (const char* corpus : {"standard", "harder", "public"}) {
    if (!only.empty() && only != corpus) continue;
    std::string big = corpus[0] == 'p' ? PublicCorpus(megabytes) : Corpus(megabytes, corpus[0] == 'h');
    if (big.empty()) {
      std::printf("%-8s (ACI-Bench notes): CALIPER_SAMPLE_DATA is not set or lacks notes/aci-bench; not run\n", corpus);
      continue;
    }
    Trim(big, megabytes);
    for (auto mode : {deid::ReplacementMode::kTag, deid::ReplacementMode::kSurrogate}) {
      deid::TextDeidOptions o;
      o.mode = mode;
      o.secret_key = "benchmark-key-0123456789abcdef";
      auto d = deid::TextDeidentifier::Create(o);
      if (!d.ok()) {
        std::fprintf(stderr, "%s\n", d.status().ToString().c_str());
        return 1;
      }
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = ThreadCpuSeconds();
      auto r = (*d)->Deidentify(big, "patient");
      const double cpu = ThreadCpuSeconds() - cpu0;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
        return 1;
      }
      std::printf("%-8s %-9s %.1f MB note: %.2f s wall, %.1f MB/s; %.2f s CPU, %.1f MB/s per core; %zu PHI spans\n",
                  corpus, mode == deid::ReplacementMode::kTag ? "tag" : "surrogate", big.size() / 1e6, s,
                  big.size() / 1e6 / s, cpu, big.size() / 1e6 / cpu, r->phi.size());
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak resident memory: %.0f MB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
