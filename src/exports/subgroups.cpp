#include "exports/subgroups.h"

#include <cmath>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "caliper/core/rules.h"
#include "caliper/quality/agreement.h"

namespace caliper::exports {
namespace {

using nlohmann::ordered_json;

constexpr const char* kMissing = "(missing)";

std::string ValueOf(const SnapshotItem& it, const std::string& attribute) {
  if (attribute == "modality") return it.item.modality.empty() ? kMissing : it.item.modality;
  const auto cohort = nlohmann::json::parse(it.item.cohort_json.empty() ? "{}" : it.item.cohort_json, nullptr, false);
  if (!cohort.is_object() || !cohort.contains(attribute) || cohort[attribute].is_null()) return kMissing;
  const auto& v = cohort[attribute];
  const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  return text.empty() ? kMissing : text;
}

std::set<std::string> FinalClasses(const SnapshotItem& it) {
  std::set<std::string> out;
  for (const auto& a : it.final_labels) out.insert(a.label_class);
  if (!out.empty() || it.readings.empty()) return out;
  // Not adjudicated: the classes every reading agrees on.
  std::map<std::string, std::size_t> votes;
  for (const auto& r : it.readings) {
    std::set<std::string> mine;
    for (const auto& a : r.labels) mine.insert(a.label_class);
    for (const auto& c : mine) ++votes[c];
  }
  for (const auto& [c, n] : votes) {
    if (n == it.readings.size()) out.insert(c);
  }
  return out;
}

// Krippendorff's alpha (nominal) on the reading label sets of `items` with two or more
// readings; nullopt when fewer than `min_items` such items or undefined.
std::optional<double> Alpha(const std::vector<const SnapshotItem*>& items, std::int64_t min_items) {
  std::vector<quality::Rating> ratings;
  std::int64_t n = 0;
  for (const auto* it : items) {
    if (it->readings.size() < 2) continue;
    ++n;
    std::set<std::string> seen_readers;
    for (const auto& r : it->readings) {
      if (!seen_readers.insert(r.reader).second) continue;
      std::set<std::string> mine;
      for (const auto& a : r.labels) mine.insert(a.label_class);
      std::string label;
      for (const auto& c : mine) label += (label.empty() ? "" : "+") + c;
      ratings.push_back({it->item.id, r.reader, label.empty() ? "(none)" : label});
    }
  }
  if (n < min_items || ratings.empty()) return std::nullopt;
  auto set = quality::RatingSet::FromRatings(ratings);
  if (!set.ok()) return std::nullopt;
  auto alpha = quality::ComputeAgreement(*set, quality::AgreementSpec{});
  if (!alpha.ok() || !std::isfinite(alpha->value)) return std::nullopt;
  return std::round(alpha->value * 1e6) / 1e6;
}

struct Rates {
  std::int64_t reviews = 0, rejections = 0, multi_read = 0, adjudicated = 0;
};

Rates RatesOf(const std::vector<const SnapshotItem*>& items) {
  Rates r;
  for (const auto* it : items) {
    for (const auto& reading : it->readings) {
      for (const auto& v : reading.reviews) {
        ++r.reviews;
        if (v.decision == core::ReviewDecision::kReject) ++r.rejections;
      }
    }
    if (it->readings.size() >= 2) {
      ++r.multi_read;
      if (!it->final_labels.empty()) ++r.adjudicated;
    }
  }
  return r;
}

ordered_json Share(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return nullptr;
  return std::round(static_cast<double>(part) / static_cast<double>(whole) * 1e6) / 1e6;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Fixed(double v, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string Cell(const ordered_json& v, bool percent) {
  if (v.is_null()) return "&ndash;";
  return percent ? Fixed(100 * v.get<double>(), 1) + "%" : Fixed(v.get<double>(), 3);
}

// A horizontal bar chart of the subgroups' shares, in SVG.
std::string Bars(const ordered_json& groups) {
  const int row = 22, label_w = 170, bar_w = 360;
  const int height = row * static_cast<int>(groups.size()) + 8;
  std::string svg = "<svg role=\"img\" aria-label=\"share of items per subgroup\" width=\"" +
                    std::to_string(label_w + bar_w + 70) + "\" height=\"" + std::to_string(height) + "\">";
  int y = 4;
  for (const auto& g : groups) {
    const double share = g["share"].is_null() ? 0.0 : g["share"].get<double>();
    const bool flagged = g["flags"].size() > 0;
    svg += "<text x=\"" + std::to_string(label_w - 6) + "\" y=\"" + std::to_string(y + 15) +
           "\" text-anchor=\"end\">" + Escape(g["value"].get<std::string>()) + "</text>";
    svg += "<rect x=\"" + std::to_string(label_w) + "\" y=\"" + std::to_string(y + 3) + "\" width=\"" +
           Fixed(share * bar_w, 1) + "\" height=\"16\" fill=\"" + (flagged ? "#b45309" : "#1d4ed8") + "\"/>";
    svg += "<text x=\"" + Fixed(label_w + share * bar_w + 4, 1) + "\" y=\"" + std::to_string(y + 15) + "\">" +
           Fixed(100 * share, 1) + "%</text>";
    y += row;
  }
  return svg + "</svg>";
}

std::string Html(const SnapshotInput& input, const ordered_json& report) {
  std::string h =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Subgroup report: " +
      Escape(input.project_name) + " v" + std::to_string(input.version) +
      "</title><style>body{font:15px/1.45 system-ui,sans-serif;color:#111;max-width:1000px;margin:2em auto;padding:0 1em}"
      "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #999;padding:3px 8px;text-align:right}"
      "th:first-child,td:first-child{text-align:left}.flag{color:#92400e;font-weight:600}svg text{font-size:13px;fill:#111}"
      "</style></head><body>";
  h += "<h1>Subgroup report</h1><p>Dataset <b>" + Escape(input.dataset_id) + "</b> version " +
       std::to_string(input.version) + " of project " + Escape(input.project_name) + ", created " +
       Escape(input.created_at) + ". " + std::to_string(report["items"].get<std::int64_t>()) + " items from " +
       std::to_string(report["patients"].get<std::int64_t>()) +
       " patients. Agreement is Krippendorff's alpha (nominal) over items with two or more readings.</p>";
  h += "<h2>Missing demographic data</h2><ul>";
  for (const auto& s : report["missing_data_statement"]) h += "<li>" + Escape(s.get<std::string>()) + "</li>";
  h += "</ul>";
  for (const auto& a : report["attributes"]) {
    h += "<h2>" + Escape(a["attribute"].get<std::string>()) + "</h2>" + Bars(a["subgroups"]);
    h += "<table><thead><tr><th scope=\"col\">subgroup</th><th scope=\"col\">items</th><th scope=\"col\">patients</th>"
         "<th scope=\"col\">share</th><th scope=\"col\">agreement</th><th scope=\"col\">rejection rate</th>"
         "<th scope=\"col\">adjudication rate</th><th scope=\"col\">flags</th></tr></thead><tbody>";
    for (const auto& g : a["subgroups"]) {
      std::string flags;
      for (const auto& f : g["flags"]) flags += (flags.empty() ? "" : ", ") + f.get<std::string>();
      h += "<tr><td>" + Escape(g["value"].get<std::string>()) + "</td><td>" + std::to_string(g["items"].get<std::int64_t>()) +
           "</td><td>" + std::to_string(g["patients"].get<std::int64_t>()) + "</td><td>" + Cell(g["share"], true) +
           "</td><td>" + Cell(g["agreement"], false) + "</td><td>" + Cell(g["rejection_rate"], true) + "</td><td>" +
           Cell(g["adjudication_rate"], true) + "</td><td class=\"flag\">" + Escape(flags) + "</td></tr>";
    }
    h += "</tbody></table>";
    h += "<table><caption>Label prevalence (share of the subgroup's items with the class as final label)</caption>"
         "<thead><tr><th scope=\"col\">subgroup</th>";
    for (const auto& c : report["classes"]) h += "<th scope=\"col\">" + Escape(c.get<std::string>()) + "</th>";
    h += "</tr></thead><tbody>";
    for (const auto& g : a["subgroups"]) {
      h += "<tr><td>" + Escape(g["value"].get<std::string>()) + "</td>";
      for (const auto& c : report["classes"]) h += "<td>" + Cell(g["prevalence"][c.get<std::string>()], true) + "</td>";
      h += "</tr>";
    }
    h += "</tbody></table>";
  }
  return h + "</body></html>\n";
}

}  // namespace

const std::vector<std::string>& SubgroupAttributes() {
  static const std::vector<std::string> kAttributes = {"age_band", "sex", "race", "ethnicity", "site", "care_setting",
                                                        "modality", "manufacturer", "model", "protocol"};
  return kAttributes;
}

Result<SubgroupReport> BuildSubgroupReport(const SnapshotInput& input,
                                           const std::map<std::string, std::string>& split_of) {
  const SubgroupSpec& spec = input.subgroups;
  std::vector<const SnapshotItem*> all;
  std::set<std::string> classes, patients;
  for (const auto& it : input.items) {
    all.push_back(&it);
    patients.insert(it.item.patient_key);
    for (const auto& c : FinalClasses(it)) classes.insert(c);
  }
  const auto n_items = static_cast<std::int64_t>(all.size());
  const auto overall_alpha = Alpha(all, spec.min_items_for_agreement);
  ordered_json attributes = ordered_json::array();
  ordered_json statement = ordered_json::array();
  for (const auto& attribute : SubgroupAttributes()) {
    std::map<std::string, std::vector<const SnapshotItem*>> groups;
    for (const auto* it : all) groups[ValueOf(*it, attribute)].push_back(it);
    const auto missing = groups.count(kMissing) ? static_cast<std::int64_t>(groups[kMissing].size()) : 0;
    if (missing > 0) {
      statement.push_back(attribute + ": missing for " + std::to_string(missing) + " of " + std::to_string(n_items) +
                          " items (" + Fixed(100.0 * static_cast<double>(missing) / static_cast<double>(n_items), 1) +
                          "%)");
    }
    ordered_json rows = ordered_json::array();
    for (const auto& [value, members] : groups) {
      std::set<std::string> group_patients;
      std::map<std::string, std::int64_t> with_class;
      std::map<std::string, std::int64_t> per_split;
      for (const auto* it : members) {
        group_patients.insert(it->item.patient_key);
        for (const auto& c : FinalClasses(*it)) ++with_class[c];
        ++per_split[split_of.at(it->item.patient_key)];
      }
      const auto n = static_cast<std::int64_t>(members.size());
      ordered_json prevalence = ordered_json::object();
      for (const auto& c : classes) prevalence[c] = Share(with_class[c], n);
      const Rates rates = RatesOf(members);
      const auto alpha = Alpha(members, spec.min_items_for_agreement);
      ordered_json flags = ordered_json::array();
      const double share = static_cast<double>(n) / static_cast<double>(n_items);
      if (value != kMissing && share < spec.min_share) flags.push_back("under-represented");
      if (alpha && overall_alpha && std::abs(*alpha - *overall_alpha) > spec.agreement_margin) {
        flags.push_back(*alpha < *overall_alpha ? "agreement lower" : "agreement higher");
      }
      rows.push_back(ordered_json{
          {"value", value},
          {"items", n},
          {"patients", group_patients.size()},
          {"share", Share(n, n_items)},
          {"splits", ordered_json{{"train", per_split["train"]}, {"validation", per_split["validation"]},
                                  {"test", per_split["test"]}}},
          {"prevalence", prevalence},
          {"agreement", alpha ? ordered_json(*alpha) : ordered_json(nullptr)},
          {"rejection_rate", Share(rates.rejections, rates.reviews)},
          {"adjudication_rate", Share(rates.adjudicated, rates.multi_read)},
          {"flags", flags}});
    }
    attributes.push_back(ordered_json{{"attribute", attribute}, {"missing", missing}, {"subgroups", rows}});
  }
  if (statement.empty()) statement.push_back("No demographic attribute is missing for any item.");
  const Rates overall = RatesOf(all);
  ordered_json report{
      {"dataset_id", input.dataset_id},
      {"version", input.version},
      {"items", n_items},
      {"patients", patients.size()},
      {"classes", classes},
      {"thresholds", ordered_json{{"min_share", spec.min_share},
                                  {"agreement_margin", spec.agreement_margin},
                                  {"min_items_for_agreement", spec.min_items_for_agreement}}},
      {"overall", ordered_json{{"agreement", overall_alpha ? ordered_json(*overall_alpha) : ordered_json(nullptr)},
                               {"rejection_rate", Share(overall.rejections, overall.reviews)},
                               {"adjudication_rate", Share(overall.adjudicated, overall.multi_read)}}},
      {"missing_data_statement", statement},
      {"attributes", attributes}};
  SubgroupReport out;
  out.json_text = report.dump(2) + "\n";
  out.html = Html(input, report);
  return out;
}

}  // namespace caliper::exports
