#pragma once

#include <string_view>
#include <vector>

namespace caliper::storage::sqlite {

// One numbered migration, embedded from src/storage/migrations/sqlite/NNNN_name.sql.
struct Migration {
  int number;
  std::string_view name;
  std::string_view sql;
};

// All migrations in ascending number order (generated at build time).
const std::vector<Migration>& Migrations();

}  // namespace caliper::storage::sqlite
