// `caliper deid text`: Safe Harbor de-identification of clinical notes as a filter, without a
// server (docs/deid-text.md). Reads JSONL on standard input, one {"id","text","patient"?} per
// line, and writes one {"id","text","phi":[{"start","end","type"}]} per line; offsets are code
// points into the input text. A bad line is reported on standard error with its number and
// skipped (nothing of it is written); the exit code is then 1.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "caliper/deid/text_deid.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;

struct DeidTextOptions {
  std::string mode = "tag";
  std::string key_file;
  std::string clinicians_file;
};

// The project key: --key-file, else $CALIPER_DEID_KEY, else a random key for this run only
// (surrogates are then consistent within the run, and never reproducible).
Result<std::string> LoadKey(const DeidTextOptions& o) {
  if (!o.key_file.empty()) return ReadWholeFile(o.key_file);
  if (const char* env = std::getenv("CALIPER_DEID_KEY"); env && *env) return std::string(env);
  std::random_device device;
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(device() & 0xFF));
  std::cerr << "caliper: no --key-file or CALIPER_DEID_KEY: surrogates are consistent within "
               "this run only\n";
  return key;
}

Result<std::vector<std::string>> LoadClinicians(const std::string& path) {
  std::vector<std::string> names;
  if (path.empty()) return names;
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

// One input line to one output line, or the reason it is refused.
Result<std::string> ProcessLine(deid::TextDeidentifier& deid, const std::string& line) {
  const json in = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return Error(ErrorCode::kMalformedJson, "not valid JSON (or not UTF-8)");
  if (!in.is_object()) return Error(ErrorCode::kInvalidArgument, "a line must be a JSON object");
  const auto id = in.find("id");
  const auto text = in.find("text");
  const auto patient = in.find("patient");
  if (id == in.end() || !id->is_string()) return Error(ErrorCode::kInvalidArgument, "\"id\" must be a string");
  if (text == in.end() || !text->is_string()) return Error(ErrorCode::kInvalidArgument, "\"text\" must be a string");
  if (patient != in.end() && !patient->is_string() && !patient->is_null()) {
    return Error(ErrorCode::kInvalidArgument, "\"patient\" must be a string");
  }
  const std::string patient_key =
      patient != in.end() && patient->is_string() ? patient->get<std::string>() : "";
  auto result = deid.Deidentify(text->get_ref<const std::string&>(), patient_key);
  if (!result.ok()) return result.status();
  // Written in the contract's field order (id, text, phi; start, end, type), as
  // nlohmann::ordered_json would dump it, whose strings it escapes; the spans are numbers and
  // type names, written directly (an ordered_json object per span took a fifth of the time).
  std::string out = "{\"id\":";
  out += id->dump();
  out += ",\"text\":";
  out += json(std::move(result->text)).dump();
  out += ",\"phi\":[";
  for (std::size_t i = 0; i < result->phi.size(); ++i) {
    const deid::PhiSpan& s = result->phi[i];
    out += i == 0 ? "{\"start\":" : ",{\"start\":";
    out += std::to_string(s.start);
    out += ",\"end\":";
    out += std::to_string(s.end);
    out += ",\"type\":\"";
    out += deid::PhiTypeName(s.type);
    out += "\"}";
  }
  out += "]}";
  return out;
}

int RunDeidText(const DeidTextOptions& o) {
  const auto mode = deid::ParseReplacementMode(o.mode);
  if (!mode) return Fail(Error(ErrorCode::kInvalidArgument, "--mode must be surrogate or tag"));
  deid::TextDeidOptions options;
  options.mode = *mode;
  if (*mode == deid::ReplacementMode::kSurrogate) {
    auto key = LoadKey(o);
    if (!key.ok()) return Fail(key.status());
    options.secret_key = std::move(key).value();
  }
  auto clinicians = LoadClinicians(o.clinicians_file);
  if (!clinicians.ok()) return Fail(clinicians.status());
  options.clinician_names = std::move(clinicians).value();
  auto deid = deid::TextDeidentifier::Create(std::move(options));
  if (!deid.ok()) return Fail(deid.status());

  std::ios::sync_with_stdio(false);
  int bad = 0;
  std::size_t number = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto out = ProcessLine(**deid, line);
    if (!out.ok()) {
      ++bad;
      std::cerr << "caliper: line " << number << ": " << out.status().ToString() << "\n";
      continue;
    }
    std::cout << *out << '\n';
  }
  std::cout.flush();
  return bad == 0 ? 0 : 1;
}

}  // namespace

void AddDeidCommands(CLI::App& root, int& exit_code) {
  auto* deid = root.add_subcommand("deid", "De-identify data without a server");
  deid->require_subcommand(1);
  auto options = std::make_shared<DeidTextOptions>();  // shared: outlives this function with the callback
  auto* text = deid->add_subcommand(
      "text", "JSONL {id,text,patient?} on stdin -> {id,text,phi:[{start,end,type}]} on stdout");
  text->add_option("--mode", options->mode, "surrogate or tag (default tag)");
  text->add_option("--key-file", options->key_file,
                   "project secret for surrogates (else $CALIPER_DEID_KEY, else random per run)");
  text->add_option("--clinicians", options->clinicians_file,
                   "file of clinician names (one per line), always removed");
  text->callback([options, &exit_code] { exit_code = RunDeidText(*options); });
}

}  // namespace caliper::cli
