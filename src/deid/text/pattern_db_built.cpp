// The pattern databases as the build compiled them (caliper_pattern_db_gen), carried in the
// binary's read-only data: the assembler includes the generated file byte for byte
// (CALIPER_PATTERN_DB names it; src/deid/CMakeLists.txt makes this file depend on it).

#include <string_view>

#include "deid/text/patterns.h"

#ifndef CALIPER_PATTERN_DB
#error "CALIPER_PATTERN_DB must name the generated pattern databases"
#endif

asm(".section .rodata\n"
    ".balign 16\n"
    "caliper_pattern_db_begin:\n"
    ".incbin \"" CALIPER_PATTERN_DB "\"\n"
    "caliper_pattern_db_end:\n"
    ".previous\n");

extern "C" const char caliper_pattern_db_begin[];
extern "C" const char caliper_pattern_db_end[];

namespace caliper::deid::text {

std::string_view BuiltPatternDatabases() {
  return {caliper_pattern_db_begin, static_cast<std::size_t>(caliper_pattern_db_end - caliper_pattern_db_begin)};
}

}  // namespace caliper::deid::text
