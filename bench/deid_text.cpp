// Text de-identification throughput (docs/deid-text.md): synthetic notes concatenated into one
// large note (default 50 MB), detected and replaced in tag and surrogate mode, one thread.
// Prints MB/s and the peak resident memory. Usage: caliper_bench_deid [megabytes]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "caliper/deid/text_deid.h"
#include "caliper/synth/synthetic.h"

int main(int argc, char** argv) {
  using namespace caliper;
  const double megabytes = argc > 1 ? std::atof(argv[1]) : 50.0;
  std::string big;
  std::uint64_t seed = 1;
  while (big.size() < megabytes * 1e6) {
    for (const synth::SyntheticNote& n : synth::MakeClinicalNotes(300, seed++)) big += n.text + "\n";
  }
  big.resize(static_cast<std::size_t>(megabytes * 1e6));
  while (!big.empty() && (static_cast<unsigned char>(big.back()) & 0x80)) big.pop_back();
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
    auto r = (*d)->Deidentify(big, "patient");
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("%-9s %.1f MB note: %.2f s, %.1f MB/s, %zu PHI spans\n",
                mode == deid::ReplacementMode::kTag ? "tag" : "surrogate", big.size() / 1e6, s,
                big.size() / 1e6 / s, r->phi.size());
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak resident memory: %.0f MB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
