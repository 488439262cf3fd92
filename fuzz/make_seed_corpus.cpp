// Writes the fuzzing seed corpus: `count` synthetic notes (caliper::synth, made up, no patient
// data) into `out_dir`, one file per note named after its id. Usage: caliper_fuzz_seeds DIR [N]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "caliper/synth/synthetic.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [COUNT]\n", argv[0]);
    return 2;
  }
  const int count = argc > 2 ? std::atoi(argv[2]) : 60;
  for (const auto& note : caliper::synth::MakeClinicalNotes(count, 4)) {
    std::ofstream out(std::string(argv[1]) + "/" + note.id + ".txt", std::ios::binary);
    out << note.text;
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", note.id.c_str());
      return 1;
    }
  }
  return 0;
}
