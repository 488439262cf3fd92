#pragma once

// What the benchmark programs share: stopping with a clear message, named after the program
// that failed, and timing.

#include <errno.h>  // program_invocation_short_name (glibc)

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>

#include "caliper/common/status.h"

namespace caliper::bench {

// Prints "PROGRAM: what" to standard error and exits with `code` (2: setup or usage, 1: the
// measured step failed).
[[noreturn]] inline void Die(const std::string& what, int code = 2) {
  std::cerr << program_invocation_short_name << ": " << what << "\n";
  std::exit(code);
}

inline void Check(const Status& status, const std::string& what, int code = 2) {
  if (!status.ok()) Die(what + ": " + status.ToString(), code);
}

template <typename T>
T Must(Result<T> result, const std::string& what, int code = 2) {
  Check(result.status(), what, code);
  return std::move(result).value();
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace caliper::bench
