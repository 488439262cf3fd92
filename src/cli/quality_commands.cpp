// `caliper agree` and `caliper fuse`: the quality statistics on files, without a server
// (docs/quality.md). Results are JSON on standard output; bad input is a message on standard
// error and exit code 1.

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "caliper/ingest/nifti_io.h"
#include "caliper/quality/agreement.h"
#include "caliper/quality/dawid_skene.h"
#include "caliper/quality/mask_metrics.h"
#include "caliper/quality/staple.h"
#include "cli/cli_support.h"

namespace caliper::cli {
namespace {

using nlohmann::json;
using quality::RatingSet;

struct AgreeOptions {
  std::string metric;
  std::string level;
  std::string weights;
  std::string input;
  std::string a, b;
  double tolerance_mm = 1.0;
  int bootstrap = 1000;
  std::uint64_t seed = quality::BootstrapOptions{}.seed;
};

struct FuseOptions {
  std::string method;
  std::string input;
  std::vector<std::string> masks;
  std::string out;
  bool multi_label = false;
};

Result<RatingSet> LoadRatings(const std::string& path) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "--input ratings.csv is required");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto ratings = quality::ParseRatingsCsv(text.str());
  if (!ratings.ok()) return ratings.status().WithContext(path);
  return RatingSet::FromRatings(*ratings);
}

// JSON has no infinity: an undefined distance is null.
json Number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

int AgreeOnRatings(const AgreeOptions& o, quality::AgreementMetric metric) {
  if (!o.a.empty() || !o.b.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "--a/--b are for mask metrics; use --input"));
  }
  quality::AgreementSpec spec;
  spec.metric = metric;
  if (!o.level.empty()) {
    auto level = quality::ParseMeasurementLevel(o.level);
    if (!level.ok()) return Fail(level.status());
    spec.level = *level;
  }
  if (!o.weights.empty()) {
    auto weights = quality::ParseAgreementWeights(o.weights);
    if (!weights.ok()) return Fail(weights.status());
    spec.weights = *weights;
  }
  auto set = LoadRatings(o.input);
  if (!set.ok()) return Fail(set.status());
  auto result = quality::ComputeAgreement(*set, spec);
  if (!result.ok()) return Fail(result.status());
  json ci = nullptr;
  if (o.bootstrap > 0) {
    quality::BootstrapOptions b;
    b.replicates = o.bootstrap;
    b.seed = o.seed;
    auto interval = quality::BootstrapAgreement(*set, spec, b);
    if (interval.ok()) {
      ci = json::array({interval->lo, interval->hi});
    } else {
      std::cerr << "caliper: no confidence interval: " << interval.status().message() << "\n";
    }
  }
  PrintJson({{"metric", o.metric},
             {"value", result->value},
             {"ci", ci},
             {"n_items", result->n_items},
             {"n_raters", result->n_raters}});
  return 0;
}

// A binary mask from any NIfTI volume: foreground where the value is >= 0.5, so a label map's
// nonzero voxels and a probability map's (e.g. STAPLE's consensus) likely voxels.
Result<ingest::NiftiLabelMap> ReadMask(const std::string& path, const char* flag) {
  if (path.empty()) {
    return Error(ErrorCode::kInvalidArgument, std::string(flag) + " MASK.nii.gz is required");
  }
  CALIPER_ASSIGN_OR_RETURN(ingest::NiftiVolume volume, ingest::ReadNiftiVolume(path));
  ingest::NiftiLabelMap mask;
  mask.geometry = volume.geometry;
  mask.labels.resize(volume.values.size());
  for (std::size_t i = 0; i < volume.values.size(); ++i) mask.labels[i] = volume.values[i] >= 0.5f;
  return mask;
}

quality::MaskView View(const ingest::NiftiLabelMap& map) {
  return {quality::Grid{map.geometry.dims, map.geometry.spacing_mm}, map.labels};
}

int AgreeOnMasks(const AgreeOptions& o) {
  if (!o.input.empty()) {
    return Fail(Error(ErrorCode::kInvalidArgument, "--input is for ratings; use --a and --b"));
  }
  auto a = ReadMask(o.a, "--a");
  if (!a.ok()) return Fail(a.status());
  auto b = ReadMask(o.b, "--b");
  if (!b.ok()) return Fail(b.status());
  json out = {{"metric", o.metric}};
  if (o.metric == "dice" || o.metric == "iou") {
    auto r = quality::MaskOverlap(View(*a), View(*b));
    if (!r.ok()) return Fail(r.status());
    out["value"] = o.metric == "dice" ? r->dice : r->iou;
    out["a_voxels"] = r->a_voxels;
    out["b_voxels"] = r->b_voxels;
    out["intersection_voxels"] = r->intersection;
  } else {
    auto r = quality::SurfaceDistances(View(*a), View(*b), o.tolerance_mm);
    if (!r.ok()) return Fail(r.status());
    if (o.metric == "nsd") {
      out["value"] = r->nsd;
      out["tolerance_mm"] = r->tolerance_mm;
    } else {
      out["value"] = Number(o.metric == "hd"     ? r->hausdorff_mm
                            : o.metric == "hd95" ? r->hd95_mm
                                                 : r->assd_mm);
      out["unit"] = "mm";
      if (out["value"].is_null()) out["note"] = "one mask is empty: the distance is infinite";
    }
    out["a_surface_voxels"] = r->a_surface_voxels;
    out["b_surface_voxels"] = r->b_surface_voxels;
  }
  PrintJson(out);
  return 0;
}

int RunAgree(const AgreeOptions& o) {
  static const std::vector<std::string> kMaskMetrics = {"dice", "iou", "hd", "hd95", "assd", "nsd"};
  if (std::find(kMaskMetrics.begin(), kMaskMetrics.end(), o.metric) != kMaskMetrics.end()) {
    return AgreeOnMasks(o);
  }
  auto metric = quality::ParseAgreementMetric(o.metric);
  if (!metric.ok()) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      "unknown metric '" + o.metric +
                          "' (cohen, fleiss, krippendorff, gwet, percent, dice, iou, hd, hd95, "
                          "assd, nsd)"));
  }
  return AgreeOnRatings(o, *metric);
}

int RunDawidSkene(const FuseOptions& o) {
  auto set = LoadRatings(o.input);
  if (!set.ok()) return Fail(set.status());
  auto fit = quality::DawidSkene(*set);
  if (!fit.ok()) return Fail(fit.status());
  const auto& labels = set->category_labels();
  const std::size_t k = labels.size();
  json priors = json::object(), confusion = json::object(), posteriors = json::object(),
       vote = json::object();
  for (std::size_t j = 0; j < k; ++j) priors[labels[j]] = fit->priors[j];
  for (std::size_t r = 0; r < set->n_raters(); ++r) {
    json by_truth = json::object();
    for (std::size_t j = 0; j < k; ++j) {
      json row = json::object();
      for (std::size_t l = 0; l < k; ++l) row[labels[l]] = fit->confusion[r][j * k + l];
      by_truth[labels[j]] = row;
    }
    confusion[set->RaterName(r)] = by_truth;
  }
  auto majority = quality::MajorityVote(*set);
  for (std::size_t i = 0; i < set->n_items(); ++i) {
    json p = json::object();
    for (std::size_t j = 0; j < k; ++j) p[labels[j]] = fit->posteriors[i * k + j];
    posteriors[set->ItemName(i)] = p;
    if (majority.winner[i] < k) {
      vote[set->ItemName(i)] = {{"label", labels[majority.winner[i]]},
                                {"share", majority.share[i]},
                                {"tied", static_cast<bool>(majority.tied[i])}};
    }
  }
  PrintJson({{"method", "dawid-skene"},
             {"priors", priors},
             {"confusion", confusion},
             {"posteriors", posteriors},
             {"log_likelihood", fit->log_likelihood},
             {"iterations", fit->iterations},
             {"converged", fit->converged},
             {"majority_vote", vote}});
  return 0;
}

int RunStaple(const FuseOptions& o) {
  if (o.masks.size() < 2) {
    return Fail(Error(ErrorCode::kInvalidArgument, "--masks needs at least two NIfTI masks"));
  }
  std::vector<ingest::NiftiLabelMap> maps;
  std::vector<quality::MaskView> views;
  maps.reserve(o.masks.size());
  for (const auto& path : o.masks) {
    auto map = ingest::ReadNiftiLabelMap(path);
    if (!map.ok()) return Fail(map.status());
    maps.push_back(std::move(*map));
    views.push_back(View(maps.back()));
  }
  for (std::size_t r = 1; r < views.size(); ++r) {
    if (Status s = quality::CheckSameGrid(views[0].grid, views[r].grid); !s.ok()) {
      return Fail(s.WithContext(o.masks[0] + " vs " + o.masks[r]));
    }
  }
  json raters = json::array();
  json out;
  if (!o.multi_label) {
    auto fit = quality::StapleBinary(views);
    if (!fit.ok()) return Fail(fit.status());
    for (std::size_t r = 0; r < views.size(); ++r) {
      raters.push_back({{"mask", o.masks[r]},
                        {"sensitivity", fit->sensitivity[r]},
                        {"specificity", fit->specificity[r]}});
    }
    out = {{"method", "staple"},
           {"raters", raters},
           {"prior", fit->prior},
           {"iterations", fit->iterations},
           {"converged", fit->converged}};
    if (!o.out.empty()) {
      if (Status s = ingest::WriteNiftiFloat32(o.out, maps[0].geometry, fit->consensus); !s.ok()) {
        return Fail(s);
      }
    }
  } else {
    auto fit = quality::StapleMultiLabel(views);
    if (!fit.ok()) return Fail(fit.status());
    const std::size_t k = fit->labels.size();
    for (std::size_t r = 0; r < views.size(); ++r) {
      json matrix = json::object();
      for (std::size_t s = 0; s < k; ++s) {
        json row = json::object();
        for (std::size_t t = 0; t < k; ++t) {
          row[std::to_string(fit->labels[t])] = fit->confusion[r][s * k + t];
        }
        matrix[std::to_string(fit->labels[s])] = row;
      }
      raters.push_back({{"mask", o.masks[r]}, {"confusion", matrix}});
    }
    out = {{"method", "staple"},         {"multi_label", true}, {"labels", fit->labels},
           {"priors", fit->priors},      {"raters", raters},    {"iterations", fit->iterations},
           {"converged", fit->converged}};
    if (!o.out.empty()) {
      if (Status s = ingest::WriteNiftiUint8(o.out, maps[0].geometry, fit->consensus); !s.ok()) {
        return Fail(s);
      }
    }
  }
  if (!o.out.empty()) out["out"] = o.out;
  PrintJson(out);
  return 0;
}

int RunFuse(const FuseOptions& o) {
  if (o.method == "dawid-skene") {
    if (!o.masks.empty()) {
      return Fail(Error(ErrorCode::kInvalidArgument, "--masks is for --method staple"));
    }
    return RunDawidSkene(o);
  }
  if (o.method == "staple") {
    if (!o.input.empty()) {
      return Fail(Error(ErrorCode::kInvalidArgument, "--input is for --method dawid-skene"));
    }
    return RunStaple(o);
  }
  return Fail(Error(ErrorCode::kInvalidArgument,
                    "unknown method '" + o.method + "' (dawid-skene, staple)"));
}

}  // namespace

void AddQualityCommands(CLI::App& root, int& exit_code) {
  // Options live as long as the CLI::App that refers to them.
  static AgreeOptions agree;
  static FuseOptions fuse;

  auto* agree_cmd = root.add_subcommand(
      "agree", "Agreement between raters (ratings CSV) or between two masks (NIfTI); prints JSON");
  agree_cmd
      ->add_option("--metric", agree.metric,
                   "cohen, fleiss, krippendorff, gwet, percent | dice, iou, hd, hd95, assd, nsd")
      ->required();
  agree_cmd->add_option("--level", agree.level,
                        "Krippendorff: nominal (default), ordinal, interval, ratio");
  agree_cmd->add_option("--weights", agree.weights,
                        "cohen, fleiss, gwet, percent: none (default), linear, quadratic");
  agree_cmd->add_option("--input", agree.input, "Ratings CSV with the header item,rater,value");
  agree_cmd->add_option("--a", agree.a, "First mask (NIfTI)");
  agree_cmd->add_option("--b", agree.b, "Second mask (NIfTI)");
  agree_cmd->add_option("--tolerance-mm", agree.tolerance_mm, "NSD tolerance in mm")
      ->capture_default_str();
  agree_cmd
      ->add_option("--bootstrap", agree.bootstrap, "Bootstrap replicates for the 95% CI (0: none)")
      ->capture_default_str();
  agree_cmd->add_option("--seed", agree.seed, "Bootstrap seed")->capture_default_str();
  agree_cmd->callback([&exit_code] { exit_code = RunAgree(agree); });

  auto* fuse_cmd = root.add_subcommand(
      "fuse",
      "Probabilistic label fusion: Dawid-Skene (ratings CSV) or STAPLE (masks); prints JSON");
  fuse_cmd->add_option("--method", fuse.method, "dawid-skene or staple")->required();
  fuse_cmd->add_option("--input", fuse.input, "Ratings CSV with the header item,rater,value");
  fuse_cmd->add_option("--masks", fuse.masks, "STAPLE: the raters' masks (NIfTI)");
  fuse_cmd->add_option("--out", fuse.out,
                       "STAPLE: write the consensus (probability of foreground, float32; "
                       "with --multi-label the most probable label, uint8)");
  fuse_cmd->add_flag("--multi-label", fuse.multi_label,
                     "STAPLE over label values instead of foreground/background");
  fuse_cmd->callback([&exit_code] { exit_code = RunFuse(fuse); });
}

}  // namespace caliper::cli
