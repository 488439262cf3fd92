#include "caliper/ingest/outcomes.h"

#include <map>
#include <string>

#include "caliper/common/clock.h"
#include "ingest/csv.h"

namespace caliper::ingest {

Result<std::vector<OutcomeRecord>> ReadOutcomesCsv(std::istream& in) {
  CsvParser csv(in, 64 * 1024);
  std::vector<std::string> header;
  bool too_long = false;
  if (csv.AtEnd()) return Error(ErrorCode::kInvalidArgument, "the outcomes file is empty (it needs a header)");
  CALIPER_RETURN_IF_ERROR(csv.ReadRecord(header, too_long));
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);
  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < header.size(); ++i) column[Lower(Trim(header[i]))] = i;
  std::string missing;
  for (const char* name : {"item_id", "patient_key", "evidence_type", "class", "result", "time"}) {
    if (!column.count(name)) missing += std::string(missing.empty() ? " " : ", ") + name;
  }
  if (!missing.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the outcomes CSV header lacks the columns:" + missing);
  }
  std::vector<OutcomeRecord> out;
  std::vector<std::string> f;
  while (!csv.AtEnd()) {
    OutcomeRecord r;
    r.line = csv.NextLine();
    if (Status s = csv.ReadRecord(f, too_long); !s.ok()) {
      r.status = s;
      out.push_back(std::move(r));
      break;  // an unterminated quote: the rest cannot be read
    }
    if (f.size() == 1 && Trim(f[0]).empty()) continue;
    if (too_long || f.size() != header.size()) {
      r.status = Error(ErrorCode::kInvalidArgument, "line " + std::to_string(r.line) + " has " +
                                                        std::to_string(f.size()) + " fields; the header has " +
                                                        std::to_string(header.size()));
      out.push_back(std::move(r));
      continue;
    }
    auto field = [&](const char* name) {
      auto it = column.find(name);
      return it == column.end() ? std::string() : Trim(f[it->second]);
    };
    core::Outcome& o = r.outcome;
    o.item_id = field("item_id");
    o.patient_key = field("patient_key");
    o.evidence_type = field("evidence_type");
    o.label_class = field("class");
    o.value = field("value");
    const std::string result = field("result");
    auto time = ParseRfc3339(field("time"));
    if (result != "confirms" && result != "refutes") {
      r.status = Error(ErrorCode::kInvalidArgument, "line " + std::to_string(r.line) +
                                                        ": result must be confirms or refutes");
    } else if (!time.ok()) {
      r.status = Error(ErrorCode::kInvalidArgument, "line " + std::to_string(r.line) + ": time: " +
                                                        time.status().message());
    } else {
      o.confirms = result == "confirms";
      o.observed_at = *time;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace caliper::ingest
