#include "app/evidence.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "caliper/quality/mask_metrics.h"

namespace caliper::app {
namespace {

using nlohmann::json;

// Masks larger than this are refused (512 x 512 x 1000): the dense buffer must fit in memory.
constexpr std::int64_t kMaxMaskVoxels = 512LL * 512LL * 1000LL;

Result<json> ParseObject(const std::string& text, const char* shape) {
  json j = json::parse(text.empty() ? "{}" : text, nullptr, false);
  if (!j.is_object()) {
    return Error(ErrorCode::kInvalidArgument, std::string("evidence.data of a ") + shape + " must be an object");
  }
  return j;
}

bool IsInt(const json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

}  // namespace

Result<MaskEvidence> ParseMaskEvidence(const std::string& evidence_json) {
  CALIPER_ASSIGN_OR_RETURN(json j, ParseObject(evidence_json, "voxels evidence"));
  const json& dims = j.contains("dims") ? j["dims"] : json();
  if (!dims.is_array() || dims.size() != 3 || !std::all_of(dims.begin(), dims.end(), IsInt)) {
    return Error(ErrorCode::kInvalidArgument, "evidence.data.dims must be three integers [x, y, z]");
  }
  MaskEvidence m;
  for (int i = 0; i < 3; ++i) m.grid.dims[i] = dims[i].get<std::int64_t>();
  if (j.contains("spacing_mm")) {
    const json& sp = j["spacing_mm"];
    if (!sp.is_array() || sp.size() != 3 || !std::all_of(sp.begin(), sp.end(), [](const json& v) { return v.is_number(); })) {
      return Error(ErrorCode::kInvalidArgument, "evidence.data.spacing_mm must be three numbers");
    }
    for (int i = 0; i < 3; ++i) m.grid.spacing_mm[i] = sp[i].get<double>();
  }
  for (auto d : m.grid.dims) {
    if (d < 1 || d > kMaxMaskVoxels) return Error(ErrorCode::kInvalidArgument, "evidence.data.dims must be positive");
  }
  const std::int64_t n = m.grid.voxel_count();
  if (n > kMaxMaskVoxels) return Error(ErrorCode::kInvalidArgument, "evidence.data.dims: mask too large");
  m.voxels.assign(static_cast<std::size_t>(n), 0);
  const json& runs = j.contains("runs") ? j["runs"] : json::array();
  if (!runs.is_array()) return Error(ErrorCode::kInvalidArgument, "evidence.data.runs must be an array");
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const json& run = runs[r];
    if (!run.is_array() || run.size() != 2 || !IsInt(run[0]) || !IsInt(run[1])) {
      return Error(ErrorCode::kInvalidArgument, "evidence.data.runs[" + std::to_string(r) + "] must be [start, length]");
    }
    const auto start = run[0].get<std::int64_t>();
    const auto length = run[1].get<std::int64_t>();
    if (start < 0 || length < 1 || start > n - length) {
      return Error(ErrorCode::kInvalidArgument, "evidence.data.runs[" + std::to_string(r) + "] lies outside the grid");
    }
    for (std::int64_t v = start; v < start + length; ++v) {
      if (m.voxels[static_cast<std::size_t>(v)] != 0) {
        return Error(ErrorCode::kInvalidArgument, "evidence.data.runs[" + std::to_string(r) + "] overlaps another run");
      }
      m.voxels[static_cast<std::size_t>(v)] = 1;
    }
  }
  CALIPER_RETURN_IF_ERROR(quality::ValidateMask(quality::MaskView{m.grid, m.voxels}));
  return m;
}

Result<SpanEvidence> ParseSpanEvidence(const std::string& evidence_json) {
  CALIPER_ASSIGN_OR_RETURN(json j, ParseObject(evidence_json, "span evidence"));
  if (!j.contains("start") || !j.contains("end") || !IsInt(j["start"]) || !IsInt(j["end"])) {
    return Error(ErrorCode::kInvalidArgument, "evidence.data of a span needs integer start and end");
  }
  SpanEvidence s{j["start"].get<std::int64_t>(), j["end"].get<std::int64_t>()};
  if (s.start < 0 || s.end <= s.start) {
    return Error(ErrorCode::kInvalidArgument, "evidence.data of a span needs 0 <= start < end");
  }
  return s;
}

Result<double> EvidenceDice(const std::string& a_json, const std::string& b_json) {
  CALIPER_ASSIGN_OR_RETURN(MaskEvidence a, ParseMaskEvidence(a_json));
  CALIPER_ASSIGN_OR_RETURN(MaskEvidence b, ParseMaskEvidence(b_json));
  CALIPER_ASSIGN_OR_RETURN(quality::OverlapResult overlap,
                           quality::MaskOverlap(quality::MaskView{a.grid, a.voxels}, quality::MaskView{b.grid, b.voxels}));
  return overlap.dice;
}

double SpanOverlap(const SpanEvidence& a, const SpanEvidence& b) {
  const std::int64_t inter = std::max<std::int64_t>(0, std::min(a.end, b.end) - std::max(a.start, b.start));
  const std::int64_t uni = std::max(a.end, b.end) - std::min(a.start, b.start);
  return uni > 0 ? static_cast<double>(inter) / static_cast<double>(uni) : 0.0;
}

double CorrectionSize(const core::Prelabel& suggestion, const core::Annotation& label,
                      const std::optional<quality::MaskView>& stored) {
  if (suggestion.label_class != label.label_class || suggestion.code != label.code ||
      suggestion.code_system != label.code_system) {
    return 1.0;
  }
  if (suggestion.evidence_kind == "voxels" && label.evidence_kind == "mask" && stored) {
    auto model = ParseMaskEvidence(suggestion.evidence_json);
    if (!model.ok() || model->grid.dims != stored->grid.dims) return 1.0;
    auto overlap = quality::MaskOverlap(quality::MaskView{stored->grid, model->voxels}, *stored);
    return overlap.ok() ? std::clamp(1.0 - overlap->dice, 0.0, 1.0) : 1.0;
  }
  if (suggestion.evidence_kind == label.evidence_kind && label.evidence_kind == "voxels") {
    auto dice = EvidenceDice(suggestion.evidence_json, label.evidence_json);
    return dice.ok() ? std::clamp(1.0 - *dice, 0.0, 1.0) : 1.0;
  }
  if (suggestion.evidence_kind == label.evidence_kind && label.evidence_kind == "span") {
    auto a = ParseSpanEvidence(suggestion.evidence_json);
    auto b = ParseSpanEvidence(label.evidence_json);
    return a.ok() && b.ok() ? 1.0 - SpanOverlap(*a, *b) : 1.0;
  }
  const json a = json::parse(suggestion.evidence_json.empty() ? "{}" : suggestion.evidence_json, nullptr, false);
  const json b = json::parse(label.evidence_json.empty() ? "{}" : label.evidence_json, nullptr, false);
  return suggestion.evidence_kind == label.evidence_kind && a == b ? 0.0 : 1.0;
}

}  // namespace caliper::app
