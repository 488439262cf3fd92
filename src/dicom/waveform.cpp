#include "caliper/dicom/waveform.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cmath>
#include <span>

#include "dicom/codecs.h"
#include "dicom/dataset_util.h"

namespace caliper::dicom {
namespace {

using waveform::Lead;
using waveform::Waveform;

Status Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }

DcmItem* FirstItem(DcmItem& parent, const DcmTagKey& sequence) {
  DcmItem* item = nullptr;
  if (parent.findAndGetSequenceItem(sequence, item, 0).bad()) return nullptr;
  return item;
}

double DoubleOr(DcmItem& item, const DcmTagKey& key, double fallback) {
  auto v = GetDoubles(item, key);
  return v && !v->empty() ? v->front() : fallback;
}

// "Lead I (Einthoven)" -> "I", "Lead aVR" -> "aVR"; other names unchanged.
std::string LeadName(DcmItem& channel, std::size_t index) {
  std::string name = GetString(channel, DCM_ChannelLabel);
  if (name.empty()) {
    if (DcmItem* source = FirstItem(channel, DCM_ChannelSourceSequence)) name = GetString(*source, DCM_CodeMeaning);
  }
  if (name.rfind("Lead ", 0) == 0) name.erase(0, 5);
  if (auto open = name.find(" ("); open != std::string::npos && name.back() == ')') name.resize(open);
  if (name.empty()) name = "channel " + std::to_string(index + 1);
  return name;
}

Result<Waveform> ReadGroup(DcmItem& group, std::size_t index) {
  const std::string where = "waveform group " + std::to_string(index + 1);
  const auto channels = GetInt(group, DCM_NumberOfWaveformChannels);
  const auto samples = GetInt(group, DCM_NumberOfWaveformSamples);
  const auto bits = GetInt(group, DCM_WaveformBitsAllocated);
  const std::string interpretation = GetString(group, DCM_WaveformSampleInterpretation);
  const double rate = DoubleOr(group, DCM_SamplingFrequency, 0);
  if (!channels || *channels <= 0 || !samples || *samples <= 0) return Invalid(where + " has no channels or samples");
  if (!std::isfinite(rate) || rate <= 0) return Invalid(where + " has no sampling frequency");
  if (!bits || (*bits != 8 && *bits != 16)) return Error(ErrorCode::kUnsupported, where + ": only 8- and 16-bit samples are read");
  const bool is_signed = interpretation == "SS" || interpretation == "SB";
  if (!(interpretation == (*bits == 16 ? "SS" : "SB") || interpretation == (*bits == 16 ? "US" : "UB"))) {
    return Error(ErrorCode::kUnsupported, where + ": sample interpretation " + interpretation + " is not read");
  }
  const auto nc = static_cast<std::size_t>(*channels);
  const auto ns = static_cast<std::size_t>(*samples);
  if (ns > (std::size_t{1} << 31) / nc) return Invalid(where + " is too long");
  const std::size_t values = nc * ns;
  std::vector<std::int32_t> raw(values);
  if (*bits == 16) {
    const Uint16* data = nullptr;
    unsigned long count = 0;
    if (group.findAndGetUint16Array(DCM_WaveformData, data, &count).bad() || data == nullptr || count < values) {
      return Invalid(where + ": Waveform Data is missing or shorter than channels x samples");
    }
    for (std::size_t i = 0; i < values; ++i) raw[i] = is_signed ? static_cast<Sint16>(data[i]) : data[i];
  } else {
    const Uint8* data = nullptr;
    unsigned long count = 0;
    if (group.findAndGetUint8Array(DCM_WaveformData, data, &count).bad() || data == nullptr || count < values) {
      return Invalid(where + ": Waveform Data is missing or shorter than channels x samples");
    }
    for (std::size_t i = 0; i < values; ++i) raw[i] = is_signed ? static_cast<Sint8>(data[i]) : data[i];
  }
  DcmSequenceOfItems* defs = nullptr;
  if (group.findAndGetSequence(DCM_ChannelDefinitionSequence, defs).bad() || defs == nullptr || defs->card() != nc) {
    return Invalid(where + ": the Channel Definition Sequence does not describe every channel");
  }
  Waveform w;
  w.source_format = "dicom";
  w.sampling_rate_hz = rate;
  w.samples = static_cast<std::int64_t>(ns);
  w.start_offset_s = DoubleOr(group, DCM_MultiplexGroupTimeOffset, 0) / 1000.0;
  w.group_label = GetString(group, DCM_MultiplexGroupLabel);
  for (std::size_t c = 0; c < nc; ++c) {
    DcmItem& ch = *defs->getItem(static_cast<unsigned long>(c));
    Lead lead;
    lead.name = LeadName(ch, c);
    DcmItem* units_item = FirstItem(ch, DCM_ChannelSensitivityUnitsSequence);
    const std::string units = units_item != nullptr ? GetString(*units_item, DCM_CodeValue) : "";
    if (units.empty()) return Error(ErrorCode::kUnsupported, where + ": channel " + lead.name + " names no sensitivity units");
    auto mv = waveform::MillivoltsPerUnit(units);
    if (!mv.ok()) return mv.status().WithContext(where + ", channel " + lead.name);
    const double sensitivity = DoubleOr(ch, DCM_ChannelSensitivity, 1.0);
    const double correction = DoubleOr(ch, DCM_ChannelSensitivityCorrectionFactor, 1.0);
    const double baseline = DoubleOr(ch, DCM_ChannelBaseline, 0.0);
    lead.mv_per_unit = sensitivity * correction * *mv;
    lead.offset_mv = baseline * lead.mv_per_unit;
    lead.digital.resize(ns);
    for (std::size_t s = 0; s < ns; ++s) lead.digital[s] = raw[s * nc + c];  // channels interleave per sample
    w.leads.push_back(std::move(lead));
  }
  return w;
}

}  // namespace

bool IsWaveformSopClass(std::string_view sop_class_uid) {
  return sop_class_uid.rfind("1.2.840.10008.5.1.4.1.1.9.", 0) == 0;
}

Result<Waveform> ReadDicomWaveform(std::string_view part10) {
  DcmFileFormat file;
  CALIPER_RETURN_IF_ERROR(
      ReadDicom(std::span(reinterpret_cast<const std::uint8_t*>(part10.data()), part10.size()), file));
  DcmDataset& ds = *file.getDataset();
  DcmSequenceOfItems* groups = nullptr;
  if (ds.findAndGetSequence(DCM_WaveformSequence, groups).bad() || groups == nullptr || groups->card() == 0) {
    return Invalid("the file holds no Waveform Sequence");
  }
  std::vector<Waveform> read;
  std::size_t main = 0;
  bool found_rhythm = false;
  for (unsigned long g = 0; g < groups->card(); ++g) {
    CALIPER_ASSIGN_OR_RETURN(Waveform w, ReadGroup(*groups->getItem(g), g));
    if (!found_rhythm && w.group_label == "RHYTHM") {
      main = read.size();
      found_rhythm = true;
    }
    read.push_back(std::move(w));
  }
  Waveform out = std::move(read[main]);
  for (std::size_t g = 0; g < read.size(); ++g) {
    if (g != main) out.extra_groups.push_back(std::move(read[g]));
  }
  CALIPER_RETURN_IF_ERROR(waveform::Validate(out));
  return out;
}

}  // namespace caliper::dicom
