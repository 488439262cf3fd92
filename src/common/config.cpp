#include "caliper/common/config.h"

#include <toml++/toml.h>

#include <array>
#include <cstdlib>
#include <filesystem>

namespace caliper {
namespace {

constexpr std::array kSettings = {
    SettingSpec{"server.listen", "127.0.0.1:8443",
                "HOST:PORT the server listens on. Plain HTTP is refused on anything but loopback."},
    SettingSpec{"server.tls", "true",
                "Serve HTTPS with tls.cert_file/tls.key_file. `false` is accepted only on loopback."},
    SettingSpec{"server.threads", "1024",
                "Most worker threads. cpp-httplib holds one thread per open keep-alive "
                "connection, so this is how many connections are served at once; threads start "
                "on demand and end after 60 s idle."},
    SettingSpec{"server.keep_alive_seconds", "30", "Idle time before a keep-alive connection closes."},
    SettingSpec{"server.keep_alive_max_requests", "1000", "Requests served on one connection before it closes."},
    SettingSpec{"server.max_body_bytes", "1048576", "Largest JSON request body accepted (413 above it)."},
    SettingSpec{"server.max_upload_bytes", "536870912", "Largest upload body accepted on upload routes (413 above it)."},
    SettingSpec{"tls.cert_file", "", "PEM certificate; default <data>/tls/cert.pem (made by `caliper init`)."},
    SettingSpec{"tls.key_file", "", "PEM private key; default <data>/tls/key.pem (made by `caliper init`)."},
    SettingSpec{"keys.master_key_file", "", "Master key file (0600); default <data>/keys/master.key."},
    SettingSpec{"keys.master_key_env", "CALIPER_MASTER_KEY",
                "Environment variable that, when set, holds the master key (64 hex digits) instead of the file."},
    SettingSpec{"session.idle_timeout_minutes", "15", "A session with no request for this long ends."},
    SettingSpec{"session.absolute_timeout_minutes", "720", "A session ends this long after sign-in, active or not."},
    SettingSpec{"session.idle_warning_seconds", "60", "How long before the idle timeout the web UI warns."},
    SettingSpec{"login.max_failures", "5", "Failed sign-ins in login.failure_window_minutes that lock the account."},
    SettingSpec{"login.failure_window_minutes", "15", "Window in which failed sign-ins are counted."},
    SettingSpec{"login.lockout_minutes", "15", "How long a locked account stays locked."},
    SettingSpec{"login.max_attempts_per_address_per_minute", "30", "Sign-in attempts one source address may make per minute (429 above)."},
    SettingSpec{"password.min_length", "12", "Shortest password accepted."},
    SettingSpec{"password.hash_ops", "interactive", "Argon2id cost: interactive, moderate or sensitive (libsodium limits)."},
    SettingSpec{"audit.checkpoint_every", "1", "Sign an audit checkpoint after this many events."},
    SettingSpec{"ingest.max_note_bytes", "67108864",
                "Longest clinical note accepted on ingest, in bytes (longer notes are refused one by one; memory stays bounded)."},
    SettingSpec{"export.allowed_dirs", "",
                "Server directories (absolute, separated by ':') an approved export may be written to; "
                "empty = none, downloads only."},
    SettingSpec{"export.token_minutes", "60", "Longest lifetime of a one-time export download token."},
    SettingSpec{"export.build_lease_minutes", "10",
                "Minutes after which an export still being built counts as cut off (the process stopped "
                "mid-build), so that it may be built again; a running build renews its lease every fifth "
                "of this."},
    SettingSpec{"web.root", "",
                "Folder of the built web app served at every non-API path; empty = web/dist of the "
                "source checkout `caliper` was built from (built by `npm run build` in web/)."},
    SettingSpec{"wsi.tile_cache_bytes", "268435456",
                "Bytes of decrypted slide tiles kept in memory for the viewer (least recently used out; 0 = none)."},
    SettingSpec{"wsi.viewer_session_minutes", "60",
                "How long a slide viewer session lasts; tiles are served only inside a live one (1 to 1440)."},
    SettingSpec{"quality.sweep_seconds", "3600",
                "How often `caliper serve` runs the quality sweep over every project (soft labels and QA "
                "findings stored; docs/quality.md); 0 = never (submits still store their item's findings)."},
    SettingSpec{"dicom_scp.listen", "",
                "HOST:PORT (IPv4) where `caliper serve` runs the DICOM C-STORE receiver, e.g. "
                "127.0.0.1:11112; empty = no receiver. Senders must be on a project's list of DICOM "
                "sources (docs/imaging.md, \"C-STORE receiver\")."},
    SettingSpec{"dicom_scp.ae_title", "CALIPER", "The receiver's AE title: associations calling another are rejected."},
    SettingSpec{"dicom_scp.max_pdu_bytes", "131072", "Largest PDU the receiver accepts (4096 to 131072)."},
    SettingSpec{"dicom_scp.idle_timeout_seconds", "60",
                "An association silent this long is aborted; also the time a new connection has to "
                "ask for its association (1 to 3600)."},
    SettingSpec{"dicom_scp.max_associations", "8",
                "Associations served at once (1 to 256); more are rejected as transient (local limit exceeded)."},
    SettingSpec{"dicom_scp.max_instance_bytes", "1073741824",
                "Largest instance received; a larger one is refused with status 0xA700 (1 KiB to 4 GiB)."},
    SettingSpec{"log.level", "info", "trace, debug, info, warn, error. Logs never hold PHI or request bodies."},
};

}  // namespace

std::span<const SettingSpec> AllSettings() { return kSettings; }

std::string EnvVarFor(std::string_view key) {
  std::string out = "CALIPER_";
  for (char c : key) {
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

Config::Config() {
  for (const auto& s : kSettings) values_[std::string(s.key)] = {std::string(s.default_value), "default"};
}

Status Config::Set(std::string_view key, std::string value) {
  auto it = values_.find(key);
  if (it == values_.end()) {
    return Error(ErrorCode::kInvalidArgument,
                 "unknown setting '" + std::string(key) + "' (see `caliper config`)");
  }
  it->second = {std::move(value), "flag"};
  return Status::Ok();
}

Result<Config> Config::Load(const std::string& toml_path, bool must_exist,
                            const std::map<std::string, std::string>& overrides) {
  Config config;
  if (!toml_path.empty() && (must_exist || std::filesystem::exists(toml_path))) {
    toml::table table;
    try {
      table = toml::parse_file(toml_path);
    } catch (const toml::parse_error& e) {
      return Error(ErrorCode::kInvalidArgument,
                   "config file " + toml_path + ": " + std::string(e.description()) + " at line " +
                       std::to_string(e.source().begin.line));
    }
    for (const auto& [section, node] : table) {
      const auto* inner = node.as_table();
      if (inner == nullptr) {
        return Error(ErrorCode::kInvalidArgument, "config file " + toml_path + ": '" +
                                                      std::string(section.str()) +
                                                      "' must be a [section]");
      }
      for (const auto& [name, value] : *inner) {
        std::string key = std::string(section.str()) + "." + std::string(name.str());
        std::string text;
        if (auto s = value.value<std::string>()) {
          text = *s;
        } else if (auto i = value.value<std::int64_t>()) {
          text = std::to_string(*i);
        } else if (auto b = value.value<bool>()) {
          text = *b ? "true" : "false";
        } else {
          return Error(ErrorCode::kInvalidArgument,
                       "config file " + toml_path + ": '" + key + "' must be a string, integer or boolean");
        }
        CALIPER_RETURN_IF_ERROR(config.Set(key, std::move(text)).WithContext("config file " + toml_path));
        config.values_[key].source = "file";
      }
    }
  }
  for (auto& [key, entry] : config.values_) {
    if (const char* env = std::getenv(EnvVarFor(key).c_str())) entry = {env, "env"};
  }
  for (const auto& [key, value] : overrides) CALIPER_RETURN_IF_ERROR(config.Set(key, value));
  return config;
}

const std::string& Config::GetString(std::string_view key) const {
  static const std::string kEmpty;
  auto it = values_.find(key);
  return it == values_.end() ? kEmpty : it->second.value;
}

Result<std::int64_t> Config::GetInt(std::string_view key) const {
  const std::string& text = GetString(key);
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size()) return static_cast<std::int64_t>(v);
  } catch (const std::exception&) {
  }
  return Error(ErrorCode::kInvalidArgument,
               "setting '" + std::string(key) + "' must be an integer, not '" + text + "'");
}

Result<bool> Config::GetBool(std::string_view key) const {
  const std::string& text = GetString(key);
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  return Error(ErrorCode::kInvalidArgument,
               "setting '" + std::string(key) + "' must be true or false, not '" + text + "'");
}

const std::string& Config::SourceOf(std::string_view key) const {
  static const std::string kUnknown = "unknown";
  auto it = values_.find(key);
  return it == values_.end() ? kUnknown : it->second.source;
}

}  // namespace caliper
