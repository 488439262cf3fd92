#include "caliper/common/log.h"

#include <spdlog/spdlog.h>

#include <string>

namespace caliper::log {

void SetLevel(std::string_view level) {
  spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  spdlog::set_level(lvl == spdlog::level::off ? spdlog::level::info : lvl);
}
void Info(std::string_view message) { spdlog::info("{}", message); }
void Warn(std::string_view message) { spdlog::warn("{}", message); }
void Error(std::string_view message) { spdlog::error("{}", message); }
void Debug(std::string_view message) { spdlog::debug("{}", message); }

}  // namespace caliper::log
