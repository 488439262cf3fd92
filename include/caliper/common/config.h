#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "caliper/common/status.h"

namespace caliper {

// One configurable setting. The table of all of them (src/common/config.cpp) is the single
// source for defaults, for `caliper config` and for docs/configuration.md (a test keeps the
// doc in step with the table).
struct SettingSpec {
  std::string_view key;          // "section.name", as written in caliper.toml
  std::string_view default_value;
  std::string_view description;
};

std::span<const SettingSpec> AllSettings();

// "http.max_body_bytes" -> "CALIPER_HTTP_MAX_BODY_BYTES"
std::string EnvVarFor(std::string_view key);

// Effective configuration. Precedence, lowest to highest: built-in defaults, the TOML file,
// environment variables (CALIPER_SECTION_NAME), explicit overrides (command-line flags).
// Unknown keys anywhere are an error, so a typo never silently falls back to a default.
// Immutable after Load; safe to share between threads.
class Config {
 public:
  // Defaults only.
  Config();

  // `toml_path` may be empty (no file) or name a file that does not exist (ignored only when
  // `must_exist` is false). `overrides` are key=value pairs from flags.
  static Result<Config> Load(const std::string& toml_path, bool must_exist,
                             const std::map<std::string, std::string>& overrides);

  Status Set(std::string_view key, std::string value);

  const std::string& GetString(std::string_view key) const;
  Result<std::int64_t> GetInt(std::string_view key) const;
  Result<bool> GetBool(std::string_view key) const;
  // Where each value came from: "default", "file", "env" or "flag".
  const std::string& SourceOf(std::string_view key) const;

 private:
  struct Entry {
    std::string value;
    std::string source;
  };
  std::map<std::string, Entry, std::less<>> values_;
};

}  // namespace caliper
