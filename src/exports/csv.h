#pragma once

// One CSV field (RFC 4180): quoted, with doubled quotes, when it holds a comma, quote or line
// break. Internal to the exports part.

#include <string>

namespace caliper::exports {

inline std::string Csv(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace caliper::exports
