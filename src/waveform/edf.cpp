// EDF (Kemp et al., Electroencephalogr. Clin. Neurophysiol. 1992) and EDF+ (Kemp & Olivan,
// Clin. Neurophysiol. 2003; edfplus.info/specs): a 256-byte ASCII header, 256 bytes per signal,
// then data records of 16-bit little-endian samples, signal after signal.
#include "caliper/waveform/waveform.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "caliper/core/phi.h"

namespace caliper::waveform {
namespace {

Status Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }

std::string Trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(' ');
  return std::string(s.substr(b, e - b + 1));
}

bool ParseDouble(const std::string& s, double& out) {
  if (s.empty()) return false;
  try {
    std::size_t used = 0;
    out = std::stod(s, &used);
    return used == s.size() && std::isfinite(out);
  } catch (...) {
    return false;
  }
}

bool ParseInt(const std::string& s, long long& out) {
  if (s.empty()) return false;
  try {
    std::size_t used = 0;
    out = std::stoll(s, &used);
    return used == s.size();
  } catch (...) {
    return false;
  }
}

// "02-MAY-1951" (EDF+ dates) as years, months, days; nullopt when it does not parse.
std::optional<std::array<int, 3>> EdfPlusDate(const std::string& s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                               "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  if (s.size() != 11 || s[2] != '-' || s[6] != '-') return std::nullopt;
  long long day = 0, year = 0;
  if (!ParseInt(s.substr(0, 2), day) || !ParseInt(s.substr(7, 4), year)) return std::nullopt;
  std::string mon = s.substr(3, 3);
  for (char& c : mon) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    if (kMonths[m] == mon) return std::array<int, 3>{static_cast<int>(year), static_cast<int>(m) + 1, static_cast<int>(day)};
  }
  return std::nullopt;
}

std::vector<std::string> Fields(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t b = s.find_first_not_of(' ', pos);
    if (b == std::string::npos) break;
    std::size_t e = s.find(' ', b);
    if (e == std::string::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    pos = e;
  }
  return out;
}

// EDF+ "patient" subfields: code, sex, birth date, name; "recording": "Startdate dd-MMM-yyyy ...".
// Only sex and the age at recording (as a band) leave this function.
void CohortFromEdfPlus(const std::string& patient, const std::string& recording, Waveform& w) {
  const auto p = Fields(patient);
  if (p.size() >= 2 && (p[1] == "F" || p[1] == "M")) w.sex = p[1];
  const auto r = Fields(recording);
  if (p.size() >= 3 && r.size() >= 2 && r[0] == "Startdate") {
    const auto birth = EdfPlusDate(p[2]);
    const auto start = EdfPlusDate(r[1]);
    if (birth && start) {
      int age = (*start)[0] - (*birth)[0];
      if ((*start)[1] < (*birth)[1] || ((*start)[1] == (*birth)[1] && (*start)[2] < (*birth)[2])) --age;
      if (age >= 0 && age < 150) w.age_band = core::AgeBand(age);
    }
  }
}

std::string Pad(std::string s, std::size_t width) {
  s.resize(width, ' ');
  return s;
}

std::string Number(double v, std::size_t width) {
  char buf[64];
  for (int precision = 8; precision >= 0; --precision) {
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    std::string s(buf);
    if (s.find('.') != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    if (s.size() <= width) return Pad(s, width);
  }
  return Pad(std::to_string(static_cast<long long>(v)), width);
}

}  // namespace

Result<Waveform> ReadEdf(std::string_view bytes) {
  if (bytes.size() < 256) return Invalid("the file is shorter than an EDF header");
  auto field = [&](std::size_t at, std::size_t len) { return Trim(bytes.substr(at, len)); };
  if (field(0, 8) != "0") return Invalid("not an EDF file (version field is not 0)");
  const std::string reserved = field(192, 44);
  const bool plus = reserved.rfind("EDF+", 0) == 0;
  if (reserved.rfind("EDF+D", 0) == 0) return Error(ErrorCode::kUnsupported, "discontinuous EDF+ (EDF+D) is not supported");
  long long header_bytes = 0, records = 0, ns = 0;
  double duration = 0;
  if (!ParseInt(field(184, 8), header_bytes)) return Invalid("bad header size");
  if (!ParseInt(field(236, 8), records)) return Invalid("bad number of data records");
  if (!ParseDouble(field(244, 8), duration) || duration <= 0) return Invalid("bad data record duration");
  if (!ParseInt(field(252, 4), ns) || ns <= 0 || ns > 4096) return Invalid("bad number of signals");
  if (header_bytes != 256 + ns * 256 || static_cast<long long>(bytes.size()) < header_bytes) {
    return Invalid("the header size disagrees with the number of signals or the file is truncated");
  }
  struct Signal {
    std::string label, units;
    double pmin = 0, pmax = 0;
    long long dmin = 0, dmax = 0, spr = 0;
  };
  const auto n = static_cast<std::size_t>(ns);
  std::vector<Signal> sig(n);
  std::size_t at = 256;
  auto column = [&](std::size_t width, auto&& set) -> Status {
    for (std::size_t s = 0; s < n; ++s) CALIPER_RETURN_IF_ERROR(set(sig[s], field(at + s * width, width), s));
    at += n * width;
    return Status::Ok();
  };
  auto bad = [](std::string what, std::size_t s) { return Invalid("bad " + what + " of signal " + std::to_string(s + 1)); };
  CALIPER_RETURN_IF_ERROR(column(16, [](Signal& g, std::string v, std::size_t) { g.label = std::move(v); return Status::Ok(); }));
  at += n * 80;  // transducer type
  CALIPER_RETURN_IF_ERROR(column(8, [](Signal& g, std::string v, std::size_t) { g.units = std::move(v); return Status::Ok(); }));
  CALIPER_RETURN_IF_ERROR(column(8, [&](Signal& g, std::string v, std::size_t s) {
    return ParseDouble(v, g.pmin) ? Status::Ok() : bad("physical minimum", s); }));
  CALIPER_RETURN_IF_ERROR(column(8, [&](Signal& g, std::string v, std::size_t s) {
    return ParseDouble(v, g.pmax) ? Status::Ok() : bad("physical maximum", s); }));
  CALIPER_RETURN_IF_ERROR(column(8, [&](Signal& g, std::string v, std::size_t s) {
    return ParseInt(v, g.dmin) ? Status::Ok() : bad("digital minimum", s); }));
  CALIPER_RETURN_IF_ERROR(column(8, [&](Signal& g, std::string v, std::size_t s) {
    return ParseInt(v, g.dmax) ? Status::Ok() : bad("digital maximum", s); }));
  at += n * 80;  // prefiltering
  CALIPER_RETURN_IF_ERROR(column(8, [&](Signal& g, std::string v, std::size_t s) {
    return ParseInt(v, g.spr) && g.spr > 0 && g.spr < (1 << 24) ? Status::Ok() : bad("samples per data record", s); }));

  long long record_samples = 0;
  for (const Signal& g : sig) record_samples += g.spr;
  const long long record_bytes = record_samples * 2;
  const long long data_bytes = static_cast<long long>(bytes.size()) - header_bytes;
  if (records < 0) records = data_bytes / record_bytes;  // -1: unknown while recording
  if (records <= 0) return Invalid("the file holds no data record");
  if (records > data_bytes / record_bytes) return Invalid("the file is shorter than its data records");

  Waveform w;
  w.source_format = plus ? "edf+" : "edf";
  if (plus) CohortFromEdfPlus(field(8, 80), field(88, 80), w);
  // Fields 8..184 (patient, recording, start date and time) are not kept.
  long long rate_spr = 0;
  for (const Signal& g : sig) {
    if (g.label != "EDF Annotations" && MillivoltsPerUnit(g.units).ok()) rate_spr = std::max(rate_spr, g.spr);
  }
  if (rate_spr == 0) return Invalid("the file holds no voltage signal");
  w.sampling_rate_hz = static_cast<double>(rate_spr) / duration;
  w.samples = records * rate_spr;
  if (w.samples > (1LL << 31)) return Invalid("the record is too long");
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data()) + header_bytes;
  long long offset_in_record = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const Signal& g = sig[s];
    const long long first = offset_in_record;
    offset_in_record += g.spr;
    if (plus && g.label == "EDF Annotations") {
      w.warnings.push_back("the EDF+ annotation signal is not kept");
      continue;
    }
    auto mv = MillivoltsPerUnit(g.units);
    if (!mv.ok()) {
      w.warnings.push_back("signal " + g.label + " is left out: " + mv.status().message());
      continue;
    }
    if (g.spr != rate_spr) {
      w.warnings.push_back("signal " + g.label + " is left out: it is sampled at another rate");
      continue;
    }
    if (g.dmax <= g.dmin || g.pmax == g.pmin) return bad("calibration", s);
    Lead lead;
    lead.name = g.label.empty() ? "signal " + std::to_string(s + 1) : g.label;
    const double scale = (g.pmax - g.pmin) / static_cast<double>(g.dmax - g.dmin);
    lead.mv_per_unit = *mv * scale;
    lead.offset_mv = *mv * (g.pmin - static_cast<double>(g.dmin) * scale);
    lead.digital.reserve(static_cast<std::size_t>(w.samples));
    for (long long r = 0; r < records; ++r) {
      const unsigned char* p = data + (r * record_samples + first) * 2;
      for (long long k = 0; k < g.spr; ++k) {
        lead.digital.push_back(static_cast<std::int16_t>(static_cast<std::uint16_t>(p[2 * k] | (p[2 * k + 1] << 8))));
      }
    }
    w.leads.push_back(std::move(lead));
  }
  CALIPER_RETURN_IF_ERROR(Validate(w));
  return w;
}

Result<std::string> WriteEdf(const Waveform& w, const EdfIdentity& identity) {
  CALIPER_RETURN_IF_ERROR(Validate(w));
  const double spr_d = w.sampling_rate_hz;
  const auto spr = static_cast<long long>(std::llround(spr_d));
  if (std::abs(spr_d - static_cast<double>(spr)) > 1e-9 || w.samples % spr != 0) {
    return Invalid("the rate must be whole samples per second and the record whole seconds");
  }
  const long long records = w.samples / spr;
  constexpr long long kAnnotationSpr = 32;  // 64 bytes of time-keeping TAL per record
  const std::size_t ns = w.leads.size() + 1;
  std::string h;
  h += Pad("0", 8) + Pad(identity.patient, 80) + Pad(identity.recording, 80) + Pad(identity.start_date, 8) +
       Pad(identity.start_time, 8) + Pad(std::to_string(256 + ns * 256), 8) + Pad("EDF+C", 44) +
       Pad(std::to_string(records), 8) + Pad("1", 8) + Pad(std::to_string(ns), 4);
  std::vector<double> lo, hi;
  for (const Lead& lead : w.leads) {
    double a = lead.Millivolts(0), b = a;
    for (std::size_t i = 0; i < lead.digital.size(); ++i) {
      a = std::min(a, lead.Millivolts(i));
      b = std::max(b, lead.Millivolts(i));
    }
    if (b - a < 1e-6) b = a + 1e-3;
    lo.push_back(a);
    hi.push_back(b);
  }
  auto each = [&](auto&& lead_value, const std::string& annotation_value, std::size_t width) {
    for (std::size_t s = 0; s < w.leads.size(); ++s) h += Pad(lead_value(s), width);
    h += Pad(annotation_value, width);
  };
  each([&](std::size_t s) { return w.leads[s].name; }, "EDF Annotations", 16);
  each([](std::size_t) { return std::string("AgAgCl electrode"); }, "", 80);
  each([](std::size_t) { return std::string("mV"); }, "", 8);
  each([&](std::size_t s) { return Number(lo[s], 8); }, "-1", 8);
  each([&](std::size_t s) { return Number(hi[s], 8); }, "1", 8);
  each([](std::size_t) { return std::string("-32768"); }, "-32768", 8);
  each([](std::size_t) { return std::string("32767"); }, "32767", 8);
  each([](std::size_t) { return std::string("HP:0.05Hz LP:150Hz"); }, "", 80);
  each([&](std::size_t) { return std::to_string(spr); }, std::to_string(kAnnotationSpr), 8);
  each([](std::size_t) { return std::string(); }, "", 32);
  // The header's numbers were written with at most 8 characters: re-read them so the samples
  // are quantised with exactly the calibration a reader will see.
  std::string out = std::move(h);
  auto put16 = [&](long long v) {
    const auto u = static_cast<std::uint16_t>(static_cast<std::int16_t>(v));
    out.push_back(static_cast<char>(u & 0xFF));
    out.push_back(static_cast<char>(u >> 8));
  };
  for (long long r = 0; r < records; ++r) {
    for (std::size_t s = 0; s < w.leads.size(); ++s) {
      double pmin = 0, pmax = 0;
      (void)ParseDouble(Trim(Number(lo[s], 8)), pmin);
      (void)ParseDouble(Trim(Number(hi[s], 8)), pmax);
      const double scale = (pmax - pmin) / 65535.0;
      for (long long k = 0; k < spr; ++k) {
        const double v = w.leads[s].Millivolts(static_cast<std::size_t>(r * spr + k));
        put16(std::clamp<long long>(std::llround((v - pmin) / scale) - 32768, -32768, 32767));
      }
    }
    std::string tal = "+" + std::to_string(r) + "\x14\x14";
    tal.resize(kAnnotationSpr * 2, '\0');
    out += tal;
  }
  return out;
}

}  // namespace caliper::waveform
