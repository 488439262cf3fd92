// WFDB records: header (PhysioNet "header(5)"), signal formats 16 and 212 ("signal(5)") and
// MIT annotation files ("annot(5)"), read from bytes in memory.
#include "caliper/waveform/waveform.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include "caliper/core/phi.h"

namespace caliper::waveform {
namespace {

Status Invalid(std::string message) { return Error(ErrorCode::kInvalidArgument, std::move(message)); }

std::vector<std::string> Tokens(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string t;
  while (in >> t) out.push_back(t);
  return out;
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  if (s.empty()) return false;
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      out = static_cast<T>(std::stod(std::string(s), &used));
      return used == s.size() && std::isfinite(static_cast<double>(out));
    } catch (...) {
      return false;
    }
  } else {
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, out);
    return ec == std::errc() && p == end;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SafeFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\\') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

struct SignalSpec {
  std::string file;
  int format = 0;
  std::int64_t byte_offset = 0;
  double gain = 200;  // ADC units per physical unit
  double baseline = 0;
  std::string units = "mV";
  int adc_zero = 0;
  std::optional<int> checksum;
  std::string description;
};

struct Header {
  std::string record;
  double rate = 250;
  std::optional<std::int64_t> samples;
  std::vector<SignalSpec> signals;
  std::vector<std::string> comments;
};

// "name format[xN][:skew][+offset] gain[(baseline)][/units] adcres adczero initval checksum
// blocksize description..." (header(5)).
Result<SignalSpec> ParseSignalLine(std::string_view line, int index) {
  const auto t = Tokens(line);
  const std::string where = "signal " + std::to_string(index + 1) + " of the header";
  if (t.size() < 2) return Invalid(where + " names no file and format");
  SignalSpec s;
  s.file = t[0];
  if (s.file == "~") return Error(ErrorCode::kUnsupported, where + " has no signal file");
  if (!SafeFileName(s.file)) return Invalid(where + " names an unusable file \"" + s.file + "\"");
  std::string fmt = t[1];
  if (auto plus = fmt.find('+'); plus != std::string::npos) {
    if (!ParseNumber(std::string_view(fmt).substr(plus + 1), s.byte_offset) || s.byte_offset < 0) {
      return Invalid(where + ": bad byte offset in \"" + t[1] + "\"");
    }
    fmt.resize(plus);
  }
  if (auto colon = fmt.find(':'); colon != std::string::npos) {
    int skew = 0;
    if (!ParseNumber(std::string_view(fmt).substr(colon + 1), skew)) return Invalid(where + ": bad skew");
    if (skew != 0) return Error(ErrorCode::kUnsupported, where + ": skewed signals are not supported");
    fmt.resize(colon);
  }
  if (auto x = fmt.find('x'); x != std::string::npos) {
    int per_frame = 0;
    if (!ParseNumber(std::string_view(fmt).substr(x + 1), per_frame)) return Invalid(where + ": bad samples per frame");
    if (per_frame != 1) {
      return Error(ErrorCode::kUnsupported, where + ": several samples per frame are not supported");
    }
    fmt.resize(x);
  }
  if (!ParseNumber(fmt, s.format)) return Invalid(where + ": bad format \"" + t[1] + "\"");
  if (s.format != 16 && s.format != 212) {
    return Error(ErrorCode::kUnsupported, where + ": signal format " + fmt + " is not supported (16 and 212 are)");
  }
  bool baseline_given = false;
  if (t.size() > 2) {
    std::string g = t[2];
    if (auto slash = g.find('/'); slash != std::string::npos) {
      s.units = g.substr(slash + 1);
      g.resize(slash);
    }
    if (auto open = g.find('('); open != std::string::npos) {
      if (g.back() != ')' || !ParseNumber(std::string_view(g).substr(open + 1, g.size() - open - 2), s.baseline)) {
        return Invalid(where + ": bad baseline in \"" + t[2] + "\"");
      }
      baseline_given = true;
      g.resize(open);
    }
    if (!ParseNumber(g, s.gain) || s.gain < 0) return Invalid(where + ": bad gain \"" + t[2] + "\"");
    if (s.gain == 0) s.gain = 200;  // WFDB: 0 means uncalibrated, taken as the default 200
  }
  // t[3] is the ADC resolution (bits), not needed to decode.
  if (t.size() > 4 && !ParseNumber(t[4], s.adc_zero)) return Invalid(where + ": bad ADC zero");
  if (!baseline_given) s.baseline = s.adc_zero;
  if (t.size() > 6) {
    int checksum = 0;
    if (!ParseNumber(t[6], checksum)) return Invalid(where + ": bad checksum");
    s.checksum = checksum;
  }
  if (t.size() > 8) {
    // The description is the rest of the line after the eighth field.
    std::size_t pos = 0;
    for (int field = 0; field < 8; ++field) {
      pos = line.find_first_not_of(" \t", pos);
      pos = line.find_first_of(" \t", pos);
    }
    pos = line.find_first_not_of(" \t", pos);
    std::string d(line.substr(pos));
    while (!d.empty() && std::isspace(static_cast<unsigned char>(d.back()))) d.pop_back();
    s.description = d;
  }
  if (s.description.empty()) s.description = "signal " + std::to_string(index + 1);
  return s;
}

Result<Header> ParseHeader(std::string_view text) {
  Header h;
  bool have_record = false;
  int expected = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
      if (end == text.size()) break;
      continue;
    }
    if (line[first] == '#') {
      h.comments.emplace_back(line.substr(first + 1));
    } else if (!have_record) {
      const auto t = Tokens(line);
      if (t.size() < 2) return Invalid("the record line names no record and signal count");
      h.record = t[0];
      if (h.record.find('/') != std::string::npos) {
        return Error(ErrorCode::kUnsupported, "multi-segment WFDB records are not supported");
      }
      if (!SafeFileName(h.record)) return Invalid("the record name is unusable");
      int nsig = 0;
      if (!ParseNumber(t[1], nsig) || nsig <= 0 || nsig > 4096) return Invalid("bad signal count \"" + t[1] + "\"");
      if (t.size() > 2) {
        std::string_view fs = t[2];
        fs = fs.substr(0, std::min(fs.find('/'), fs.find('(')));
        if (!ParseNumber(fs, h.rate) || h.rate <= 0) return Invalid("bad sampling frequency \"" + t[2] + "\"");
      }
      if (t.size() > 3) {
        std::int64_t n = 0;
        if (!ParseNumber(t[3], n) || n < 0) return Invalid("bad sample count \"" + t[3] + "\"");
        if (n > 0) h.samples = n;
      }
      // t[4] and t[5] (base time and date) are deliberately not read: they date the recording.
      expected = nsig;
      have_record = true;
    } else if (static_cast<int>(h.signals.size()) < expected) {
      CALIPER_ASSIGN_OR_RETURN(SignalSpec s, ParseSignalLine(line, static_cast<int>(h.signals.size())));
      h.signals.push_back(std::move(s));
    }
    if (end == text.size()) break;
  }
  if (!have_record) return Invalid("the header has no record line");
  if (static_cast<int>(h.signals.size()) != expected) {
    return Invalid("the header announces " + std::to_string(expected) + " signals but describes " +
                   std::to_string(h.signals.size()));
  }
  return h;
}

// Age and sex from the header comments, in the two conventions PhysioNet databases use:
// "age: 81" / "sex: female" lines (PTB) or a first line "<age> <M|F> ..." (MIT-BIH). Nothing
// else of the comments is kept (they hold diagnoses, medication and dates).
void CohortFromComments(const std::vector<std::string>& comments, Waveform& w) {
  int age = -1;
  for (const std::string& c : comments) {
    const std::string l = Lower(c);
    const auto t = Tokens(l);
    if (t.size() >= 2 && t[0] == "age:") {
      int a = 0;
      if (ParseNumber(t[1], a)) age = a;
    } else if (t.size() >= 2 && t[0] == "sex:") {
      if (t[1] == "female" || t[1] == "f") w.sex = "F";
      if (t[1] == "male" || t[1] == "m") w.sex = "M";
    } else if (t.size() >= 2 && (t[1] == "m" || t[1] == "f") && age < 0 && w.sex.empty()) {
      int a = 0;
      if (ParseNumber(t[0], a)) {
        age = a;
        w.sex = t[1] == "f" ? "F" : "M";
      }
    }
  }
  if (age >= 0 && age < 150) w.age_band = core::AgeBand(age);
}

// The samples of one signal file: `count` values per frame (the signals stored in it, in
// header order), `frames` frames, after `byte_offset` bytes.
Result<std::vector<std::int32_t>> DecodeSignalFile(std::string_view bytes, int format, std::int64_t byte_offset,
                                                   std::size_t values, const std::string& name) {
  if (byte_offset > static_cast<std::int64_t>(bytes.size())) return Invalid(name + " is shorter than its byte offset");
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + byte_offset;
  const std::size_t size = bytes.size() - static_cast<std::size_t>(byte_offset);
  std::vector<std::int32_t> out(values);
  if (format == 16) {
    if (size / 2 < values) return Invalid(name + " holds fewer samples than the header announces");
    for (std::size_t i = 0; i < values; ++i) {
      out[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
    }
  } else {  // 212: two 12-bit two's-complement samples in three bytes
    if (size / 3 * 2 + (size % 3 >= 2 ? 1 : 0) < values) {
      return Invalid(name + " holds fewer samples than the header announces");
    }
    auto twelve = [](unsigned v) { return static_cast<std::int32_t>(v & 0x800 ? static_cast<int>(v) - 0x1000 : static_cast<int>(v)); };
    for (std::size_t i = 0; i < values; ++i) {
      const unsigned char* b = p + i / 2 * 3;
      out[i] = i % 2 == 0 ? twelve(b[0] | ((b[1] & 0x0Fu) << 8)) : twelve(b[2] | ((b[1] & 0xF0u) << 4));
    }
  }
  return out;
}

std::string Base(std::string_view header_name) {
  std::string_view b = header_name;
  if (b.size() > 4 && b.substr(b.size() - 4) == ".hea") b.remove_suffix(4);
  return std::string(b);
}

}  // namespace

Result<std::vector<std::string>> WfdbSignalFiles(std::string_view header) {
  CALIPER_ASSIGN_OR_RETURN(Header h, ParseHeader(header));
  std::vector<std::string> files;
  for (const SignalSpec& s : h.signals) {
    if (std::find(files.begin(), files.end(), s.file) == files.end()) files.push_back(s.file);
  }
  return files;
}

Result<std::vector<Annotation>> DecodeMitAnnotations(std::string_view bytes) {
  // annot(5): 16-bit little-endian words; the top 6 bits are a code, the low 10 bits data.
  constexpr int kSkip = 59, kNum = 60, kSub = 61, kChn = 62, kAux = 63;
  constexpr int kNote = 22, kLink = 36;
  std::vector<Annotation> out;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t i = 0;
  std::int64_t time = 0;
  int num = 0, chan = 0;
  Annotation* current = nullptr;  // the annotation the modifiers that follow belong to
  int current_code = 0;
  auto word = [&](std::size_t at) { return static_cast<unsigned>(p[at] | (p[at + 1] << 8)); };
  while (i + 2 <= n) {
    const unsigned w = word(i);
    i += 2;
    const int code = static_cast<int>(w >> 10);
    const int data = static_cast<int>(w & 0x3FF);
    if (code == 0 && data == 0) return out;  // end of file
    switch (code) {
      case kSkip: {
        if (i + 4 > n) return Invalid("the annotation file ends inside a SKIP");
        // A PDP-11 long: the high 16-bit word first, each word little-endian.
        const std::uint32_t v = (word(i) << 16) | word(i + 2);
        time += static_cast<std::int32_t>(v);
        i += 4;
        break;
      }
      case kNum:
        num = data > 511 ? data - 1024 : data;
        if (current != nullptr) current->num = num;
        break;
      case kSub:
        if (current != nullptr) current->subtype = data;
        break;
      case kChn:
        chan = data;
        if (current != nullptr) current->channel = chan;
        break;
      case kAux: {
        const std::size_t len = static_cast<std::size_t>(data);
        if (i + len > n) return Invalid("the annotation file ends inside an AUX string");
        if (current != nullptr && current_code != kNote && current_code != kLink) {
          std::string aux(reinterpret_cast<const char*>(p + i), len);
          if (auto nul = aux.find('\0'); nul != std::string::npos) aux.resize(nul);
          current->aux = std::move(aux);
        }
        i += len + (len % 2);
        break;
      }
      default: {
        time += data;
        if (time < 0) return Invalid("an annotation lies before the record");
        current = nullptr;
        current_code = code;
        Annotation a;
        a.sample = time;
        a.num = num;
        a.channel = chan;
        if (auto c = WfdbAnnotationCode(code)) {
          a.symbol = std::string(c->symbol);
          a.label = std::string(c->description);
        } else if (code == 0) {
          break;  // NOTQRS: time only
        } else {
          a.symbol = "[" + std::to_string(code) + "]";
          a.label = "Annotation code " + std::to_string(code);
        }
        out.push_back(std::move(a));
        current = &out.back();
        break;
      }
    }
  }
  if (i != n) return Invalid("the annotation file ends inside a word");
  return out;
}

Result<Waveform> ReadWfdb(const FileSet& files, std::string_view header_name) {
  auto header_it = files.find(std::string(header_name));
  if (header_it == files.end()) return Invalid("the record's header " + std::string(header_name) + " is missing");
  CALIPER_ASSIGN_OR_RETURN(Header h, ParseHeader(header_it->second));
  Waveform w;
  w.source_format = "wfdb";
  w.sampling_rate_hz = h.rate;
  CohortFromComments(h.comments, w);

  // Group the signals by file, in header order: the samples of a file's signals interleave.
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::size_t>> by_file;
  for (std::size_t s = 0; s < h.signals.size(); ++s) {
    const SignalSpec& spec = h.signals[s];
    std::vector<std::size_t>& group = by_file[spec.file];
    if (group.empty()) {
      order.push_back(spec.file);
    } else if (h.signals[group.front()].format != spec.format || h.signals[group.front()].byte_offset != spec.byte_offset) {
      return Invalid("signals stored in " + spec.file + " disagree on format or byte offset");
    }
    group.push_back(s);
  }
  std::vector<std::vector<std::int32_t>> digital(h.signals.size());
  std::optional<std::int64_t> samples = h.samples;
  for (const std::string& file : order) {
    auto it = files.find(file);
    if (it == files.end()) return Invalid("the signal file " + file + " is missing");
    const std::vector<std::size_t>& sigs = by_file[file];
    const SignalSpec& spec = h.signals[sigs.front()];
    const std::size_t per_frame = sigs.size();
    const std::size_t avail = it->second.size() - std::min<std::size_t>(it->second.size(), static_cast<std::size_t>(spec.byte_offset));
    const std::size_t values_available = spec.format == 16 ? avail / 2 : avail / 3 * 2;
    if (!samples) samples = static_cast<std::int64_t>(values_available / per_frame);
    const auto frames = static_cast<std::size_t>(*samples);
    if (frames > (std::size_t{1} << 31) / per_frame) return Invalid("the record is too long");
    CALIPER_ASSIGN_OR_RETURN(auto values, DecodeSignalFile(it->second, spec.format, spec.byte_offset, frames * per_frame, file));
    for (std::size_t k = 0; k < per_frame; ++k) {
      std::vector<std::int32_t>& d = digital[sigs[k]];
      d.resize(frames);
      for (std::size_t f = 0; f < frames; ++f) d[f] = values[f * per_frame + k];
    }
  }
  w.samples = samples.value_or(0);
  for (std::size_t s = 0; s < h.signals.size(); ++s) {
    const SignalSpec& spec = h.signals[s];
    if (spec.checksum) {
      std::int64_t sum = 0;
      for (std::int32_t v : digital[s]) sum += v;
      const auto folded = static_cast<std::int16_t>(static_cast<std::uint16_t>(sum & 0xFFFF));
      if (folded != static_cast<std::int16_t>(*spec.checksum)) {
        return Invalid("signal " + spec.description + " fails its header checksum (" + std::to_string(folded) +
                       " instead of " + std::to_string(*spec.checksum) + ")");
      }
    }
    CALIPER_ASSIGN_OR_RETURN(double mv, MillivoltsPerUnit(spec.units));
    Lead lead;
    lead.name = spec.description;
    lead.mv_per_unit = mv / spec.gain;
    lead.offset_mv = -spec.baseline * mv / spec.gain;
    lead.digital = std::move(digital[s]);
    w.leads.push_back(std::move(lead));
  }
  auto atr = files.find(h.record + ".atr");
  if (atr == files.end()) atr = files.find(Base(header_name) + ".atr");
  if (atr != files.end()) {
    auto annotations = DecodeMitAnnotations(atr->second);
    if (!annotations.ok()) return annotations.status().WithContext(atr->first);
    w.annotations = std::move(annotations).value();
    std::stable_sort(w.annotations.begin(), w.annotations.end(),
                     [](const Annotation& a, const Annotation& b) { return a.sample < b.sample; });
  }
  CALIPER_RETURN_IF_ERROR(Validate(w));
  return w;
}

}  // namespace caliper::waveform
