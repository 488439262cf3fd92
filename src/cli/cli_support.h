#pragma once

// Shared plumbing of the `caliper` command: options every deployment command takes, opening
// the App, and printing results for people (tables) or scripts (--json).

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "caliper/app/app.h"
#include "caliper/common/config.h"

namespace caliper::cli {

struct CommonOptions {
  std::string data_dir = "./caliper-data";
  std::string config_file;              // default <data>/caliper.toml
  std::vector<std::string> settings;    // --set key=value
  bool json = false;
};

// Adds --data, --config, --set and --json to `cmd`.
void AddCommonOptions(CLI::App& cmd, CommonOptions& options);
Result<Config> LoadConfig(const CommonOptions& options);
Result<std::unique_ptr<app::App>> OpenApp(const CommonOptions& options);

// The project with this id or name (kNotFound otherwise).
Result<core::Project> FindProject(app::App& app, const std::string& id_or_name);

// The context of user `username` (the commands' --as), after checking that they hold
// `permission` in the project (as the API checks it; `action` names the attempt in a denial's
// audit event). kInvalidArgument when no user is named.
Result<app::RequestContext> ActAs(app::App& app, const std::string& username, const std::string& project_id,
                                  security::Permission permission, const std::string& action);

// The largest input file (or zip entry) the commands read whole.
inline constexpr std::size_t kMaxFileBytes = std::size_t{2} << 30;

// The whole file (kIo naming it when unreadable; kPayloadTooLarge over kMaxFileBytes).
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

// Prints `status` to stderr ("caliper: <code>: <message>") and returns the exit code 1.
int Fail(const Status& status);
void PrintJson(const nlohmann::json& value);

// Runs `caliper serve` on an opened App until SIGTERM/SIGINT; returns the exit code.
int Serve(app::App& app, const std::string& listen, const std::string& banner);

// `caliper demo`: initialises the data directory when new, loads the demo project, serves.
int RunDemo(const CommonOptions& options, const std::string& listen);

// `caliper agree` and `caliper fuse` (quality_commands.cpp): statistics on files, no server.
// Their callbacks store the command's exit code in `exit_code`.
void AddQualityCommands(CLI::App& root, int& exit_code);

// `caliper deid text` (deid_commands.cpp): Safe Harbor de-identification of JSONL notes on
// stdin, no server. Its callback stores the command's exit code in `exit_code`.
void AddDeidCommands(CLI::App& root, int& exit_code);

// `caliper deid dicom` (dicom_commands.cpp), added under the `deid` command: PS3.15
// de-identification of a folder of DICOM files with a JSONL report, no server.
void AddDicomDeidCommand(CLI::App& deid, int& exit_code);

// `caliper ingest notes|labs|dicom|nifti` (ingest_commands.cpp): notes, labs and imaging into a
// project, de-identified before storage. Its callback stores the command's exit code in
// `exit_code`.
void AddIngestCommands(CLI::App& root, CommonOptions& common, int& exit_code);

// `caliper export request|approve|deny|list|token|download|write|verify` (export_commands.cpp).
void AddExportCommands(CLI::App& root, CommonOptions& common, int& exit_code);

// `caliper quarantine list|show|release|blank|discard` (quarantine_commands.cpp): a data
// steward's pixel review of quarantined DICOM instances, acting as --as.
void AddQuarantineCommands(CLI::App& root, CommonOptions& common, int& exit_code);

// The workflow commands a manager scripts (workflow_commands.cpp, docs/workflow.md):
// `caliper prelabels upload`, ... Their callbacks store the exit code in `exit_code`.
void AddWorkflowCommands(CLI::App& root, int& exit_code);

}  // namespace caliper::cli
