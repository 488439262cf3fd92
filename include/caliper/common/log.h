#pragma once

#include <string_view>

namespace caliper::log {

// Thin logging front door over spdlog, so no other part includes it. Messages are
// operational facts only: never PHI, request bodies, passwords, tokens or keys. Callers log
// ids, counts and error codes. Thread-safe.
void SetLevel(std::string_view level);  // trace|debug|info|warn|error; unknown -> info
void Info(std::string_view message);
void Warn(std::string_view message);
void Error(std::string_view message);
void Debug(std::string_view message);

}  // namespace caliper::log
