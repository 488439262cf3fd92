#include "caliper/waveform/waveform.h"

#include <array>
#include <cmath>
#include <string>

namespace caliper::waveform {
namespace {

// ecgcodes.h of the WFDB library (PhysioNet, "Annotation definitions"), codes 0..41; the
// rest up to ACMAX (49) are unused.
constexpr std::array<AnnotationCode, 42> kCodes = {{
    {"", ""},
    {"N", "Normal beat"},
    {"L", "Left bundle branch block beat"},
    {"R", "Right bundle branch block beat"},
    {"a", "Aberrated atrial premature beat"},
    {"V", "Premature ventricular contraction"},
    {"F", "Fusion of ventricular and normal beat"},
    {"J", "Nodal (junctional) premature beat"},
    {"A", "Atrial premature beat"},
    {"S", "Supraventricular premature or ectopic beat"},
    {"E", "Ventricular escape beat"},
    {"j", "Nodal (junctional) escape beat"},
    {"/", "Paced beat"},
    {"Q", "Unclassifiable beat"},
    {"~", "Change in signal quality"},
    {"", ""},
    {"|", "Isolated QRS-like artifact"},
    {"", ""},
    {"s", "ST segment change"},
    {"T", "T-wave change"},
    {"*", "Systole"},
    {"D", "Diastole"},
    {"\"", "Comment annotation"},
    {"=", "Measurement annotation"},
    {"p", "P-wave peak"},
    {"B", "Left or right bundle branch block beat"},
    {"^", "Non-conducted pacer spike"},
    {"t", "T-wave peak"},
    {"+", "Rhythm change"},
    {"u", "U-wave peak"},
    {"?", "Learning"},
    {"!", "Ventricular flutter wave"},
    {"[", "Start of ventricular flutter/fibrillation"},
    {"]", "End of ventricular flutter/fibrillation"},
    {"e", "Atrial escape beat"},
    {"n", "Supraventricular escape beat"},
    {"@", "Link to external data"},
    {"x", "Non-conducted P-wave (blocked APC)"},
    {"f", "Fusion of paced and normal beat"},
    {"(", "Waveform onset"},
    {")", "Waveform end"},
    {"r", "R-on-T premature ventricular contraction"},
}};

Status Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }

}  // namespace

std::optional<AnnotationCode> WfdbAnnotationCode(int code) {
  if (code <= 0 || code >= static_cast<int>(kCodes.size())) return std::nullopt;
  const AnnotationCode& c = kCodes[static_cast<std::size_t>(code)];
  if (c.symbol.empty()) return std::nullopt;
  return c;
}

Result<double> MillivoltsPerUnit(std::string_view units) {
  if (units == "mV") return 1.0;
  if (units == "uV" || units == "\xC2\xB5V" || units == "\xCE\xBCV") return 1e-3;
  if (units == "nV") return 1e-6;
  if (units == "V") return 1e3;
  return Error(ErrorCode::kUnsupported, "units \"" + std::string(units) + "\" are not a voltage");
}

Status Validate(const Waveform& w) {
  if (!std::isfinite(w.sampling_rate_hz) || w.sampling_rate_hz <= 0) {
    return Invalid("the sampling rate must be a positive number");
  }
  if (!std::isfinite(w.start_offset_s)) return Invalid("the start offset must be finite");
  if (w.samples <= 0) return Invalid("the record holds no samples");
  if (w.leads.empty()) return Invalid("the record holds no lead");
  for (const Lead& lead : w.leads) {
    if (lead.name.empty()) return Invalid("a lead has no name");
    if (static_cast<std::int64_t>(lead.digital.size()) != w.samples) {
      return Invalid("lead " + lead.name + " holds " + std::to_string(lead.digital.size()) + " samples, not " +
                     std::to_string(w.samples));
    }
    if (!std::isfinite(lead.mv_per_unit) || lead.mv_per_unit == 0 || !std::isfinite(lead.offset_mv)) {
      return Invalid("lead " + lead.name + " has no usable calibration");
    }
  }
  std::int64_t previous = 0;
  for (const Annotation& a : w.annotations) {
    if (a.sample < 0 || a.sample >= w.samples) {
      return Invalid("annotation at sample " + std::to_string(a.sample) + " lies outside the record");
    }
    if (a.sample < previous) return Invalid("annotations are not ordered by sample");
    previous = a.sample;
  }
  for (const Waveform& g : w.extra_groups) {
    if (!g.annotations.empty() || !g.extra_groups.empty()) return Invalid("an extra group holds annotations");
    CALIPER_RETURN_IF_ERROR(Validate(g));
  }
  return Status::Ok();
}

}  // namespace caliper::waveform
