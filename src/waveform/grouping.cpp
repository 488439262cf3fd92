#include "caliper/waveform/waveform.h"

#include <set>

namespace caliper::waveform {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  }
  return true;
}

bool LooksDicom(const std::string& bytes) { return bytes.size() >= 132 && bytes.compare(128, 4, "DICM") == 0; }

}  // namespace

Grouping GroupRecordFiles(FileSet files) {
  Grouping g;
  std::set<std::string> used;
  for (const auto& [name, bytes] : files) {
    if (EndsWith(name, ".hea")) {
      RecordInput r{name, "wfdb", {{name, bytes}}};
      used.insert(name);
      if (auto signal_files = WfdbSignalFiles(bytes); signal_files.ok()) {
        for (const std::string& f : *signal_files) {
          if (auto it = files.find(f); it != files.end()) {
            r.files[f] = it->second;
            used.insert(f);
          }
        }
      }
      const std::string atr = name.substr(0, name.size() - 4) + ".atr";
      if (auto it = files.find(atr); it != files.end()) {
        r.files[atr] = it->second;
        used.insert(atr);
      }
      g.records.push_back(std::move(r));
    } else if (EndsWith(name, ".edf")) {
      g.records.push_back({name, "edf", {{name, bytes}}});
      used.insert(name);
    } else if (EndsWith(name, ".dcm") || LooksDicom(bytes)) {
      g.records.push_back({name, "dicom", {{name, bytes}}});
      used.insert(name);
    }
  }
  for (const auto& [name, bytes] : files) {
    if (used.count(name) == 0) {
      g.left_over.emplace_back(name, Error(ErrorCode::kInvalidArgument,
                                           "not part of any record (no .hea names it, and it is not .edf or DICOM)"));
    }
  }
  return g;
}

}  // namespace caliper::waveform
