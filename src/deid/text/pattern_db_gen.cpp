// caliper_pattern_db_gen OUT: compiles the text de-identification's pattern databases and writes
// them serialised to OUT, for the build to put into the binary (pattern_db_built.cpp). Run by
// the build; docs/deid-text.md, "Pattern databases".

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "deid/text/patterns.h"

namespace caliper::deid::text {
// The generator compiles: it carries no databases of its own.
std::string_view BuiltPatternDatabases() { return {}; }
}  // namespace caliper::deid::text

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: caliper_pattern_db_gen OUT\n";
    return 2;
  }
  const auto blob = caliper::deid::text::CompilePatternDatabases();
  if (!blob.ok()) {
    std::cerr << "caliper_pattern_db_gen: " << blob.status().ToString() << "\n";
    return 1;
  }
  // Written beside OUT and renamed, so that a failed run leaves no half file for the build.
  const std::filesystem::path out = argv[1], partial = out.string() + ".partial";
  {
    std::ofstream f(partial, std::ios::binary | std::ios::trunc);
    f.write(blob->data(), static_cast<std::streamsize>(blob->size()));
    if (!f.flush()) {
      std::cerr << "caliper_pattern_db_gen: cannot write " << partial << "\n";
      return 1;
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, out, ec);
  if (ec) {
    std::cerr << "caliper_pattern_db_gen: cannot rename to " << out << ": " << ec.message() << "\n";
    return 1;
  }
  return 0;
}
