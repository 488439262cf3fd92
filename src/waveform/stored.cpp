// The stored form of a waveform item (docs/waveforms.md): "CALWAVE1", u32 little-endian JSON
// length, the JSON description, then per group (the record, then each extra group) and per lead
// its samples as zigzag LEB128 varints of successive differences (the first against 0). ECG
// samples change little from one to the next, so most take one byte.
#include "caliper/waveform/waveform.h"

#include <nlohmann/json.hpp>

namespace caliper::waveform {
namespace {

using nlohmann::json;

constexpr std::string_view kMagic = "CALWAVE1";

json Describe(const Waveform& w) {
  json leads = json::array();
  for (const Lead& l : w.leads) {
    leads.push_back({{"name", l.name}, {"mv_per_unit", l.mv_per_unit}, {"offset_mv", l.offset_mv}});
  }
  json annotations = json::array();
  for (const Annotation& a : w.annotations) {
    annotations.push_back({{"sample", a.sample}, {"symbol", a.symbol}, {"label", a.label}, {"aux", a.aux},
                           {"subtype", a.subtype}, {"channel", a.channel}, {"num", a.num}});
  }
  json groups = json::array();
  for (const Waveform& g : w.extra_groups) groups.push_back(Describe(g));
  return {{"source_format", w.source_format}, {"sampling_rate_hz", w.sampling_rate_hz}, {"samples", w.samples},
          {"start_offset_s", w.start_offset_s}, {"leads", leads}, {"annotations", annotations},
          {"age_band", w.age_band}, {"sex", w.sex}, {"group_label", w.group_label},
          {"warnings", w.warnings}, {"extra_groups", groups}};
}

void Undescribe(const json& j, Waveform& w) {
  w.source_format = j.at("source_format").get<std::string>();
  w.sampling_rate_hz = j.at("sampling_rate_hz").get<double>();
  w.samples = j.at("samples").get<std::int64_t>();
  w.start_offset_s = j.at("start_offset_s").get<double>();
  for (const json& l : j.at("leads")) {
    Lead lead;
    lead.name = l.at("name").get<std::string>();
    lead.mv_per_unit = l.at("mv_per_unit").get<double>();
    lead.offset_mv = l.at("offset_mv").get<double>();
    w.leads.push_back(std::move(lead));
  }
  for (const json& a : j.at("annotations")) {
    w.annotations.push_back({a.at("sample").get<std::int64_t>(), a.at("symbol").get<std::string>(),
                             a.at("label").get<std::string>(), a.at("aux").get<std::string>(),
                             a.at("subtype").get<int>(), a.at("channel").get<int>(), a.at("num").get<int>()});
  }
  w.age_band = j.at("age_band").get<std::string>();
  w.sex = j.at("sex").get<std::string>();
  w.group_label = j.at("group_label").get<std::string>();
  w.warnings = j.at("warnings").get<std::vector<std::string>>();
  for (const json& g : j.at("extra_groups")) {
    Waveform group;
    Undescribe(g, group);
    w.extra_groups.push_back(std::move(group));
  }
}

void PutSamples(const Waveform& w, std::string& out) {
  for (const Lead& l : w.leads) {
    std::int64_t previous = 0;
    for (std::int32_t v : l.digital) {
      const std::int64_t d = static_cast<std::int64_t>(v) - previous;
      previous = v;
      auto z = static_cast<std::uint64_t>((d << 1) ^ (d >> 63));
      while (z >= 0x80) {
        out.push_back(static_cast<char>((z & 0x7F) | 0x80));
        z >>= 7;
      }
      out.push_back(static_cast<char>(z));
    }
  }
  for (const Waveform& g : w.extra_groups) PutSamples(g, out);
}

Status GetSamples(Waveform& w, std::string_view bytes, std::size_t& at) {
  const Status corrupt(ErrorCode::kIntegrity, "the stored waveform's samples are corrupt");
  if (w.samples < 0 || w.samples > (std::int64_t{1} << 31)) return corrupt;
  for (Lead& l : w.leads) {
    l.digital.resize(static_cast<std::size_t>(w.samples));
    std::int64_t previous = 0;
    for (std::int32_t& v : l.digital) {
      std::uint64_t z = 0;
      for (int shift = 0;; shift += 7) {
        if (at >= bytes.size() || shift > 35) return corrupt;
        const auto b = static_cast<unsigned char>(bytes[at++]);
        z |= static_cast<std::uint64_t>(b & 0x7F) << shift;
        if ((b & 0x80) == 0) break;
      }
      const auto d = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
      previous += d;
      if (previous < INT32_MIN || previous > INT32_MAX) return corrupt;
      v = static_cast<std::int32_t>(previous);
    }
  }
  for (Waveform& g : w.extra_groups) CALIPER_RETURN_IF_ERROR(GetSamples(g, bytes, at));
  return Status::Ok();
}

}  // namespace

std::string EncodeStored(const Waveform& w) {
  const std::string description = Describe(w).dump();
  std::string out(kMagic);
  const auto n = static_cast<std::uint32_t>(description.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out += description;
  PutSamples(w, out);
  return out;
}

Result<Waveform> DecodeStored(std::string_view bytes) {
  const Status not_stored(ErrorCode::kIntegrity, "the item content is not a stored waveform");
  if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic) return not_stored;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[kMagic.size() + i])) << (8 * i);
  std::size_t at = kMagic.size() + 4;
  if (bytes.size() - at < n) return not_stored;
  Waveform w;
  try {
    Undescribe(json::parse(bytes.substr(at, n)), w);
  } catch (const json::exception&) {
    return not_stored;
  }
  at += n;
  CALIPER_RETURN_IF_ERROR(GetSamples(w, bytes, at));
  if (at != bytes.size()) return not_stored;
  Status valid = Validate(w);
  if (!valid.ok()) return Error(ErrorCode::kIntegrity, "the stored waveform is inconsistent: " + valid.message());
  return w;
}

}  // namespace caliper::waveform
