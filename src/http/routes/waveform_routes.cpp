// Waveforms (docs/waveforms.md): records in as multipart/form-data, the record's description,
// windows of samples in mV, the reference annotations imported with it, each reader's interval
// and beat labels and the agreement between readers.

#include "http/route.h"

namespace caliper::http {
namespace {

std::vector<std::string> CommaList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

json GroupJson(const waveform::Waveform& w) {
  json leads = json::array();
  for (const auto& l : w.leads) leads.push_back({{"name", l.name}, {"units", "mV"}});
  return {{"label", w.group_label}, {"sampling_rate_hz", w.sampling_rate_hz}, {"samples", w.samples},
          {"duration_s", w.DurationSeconds()}, {"leads", leads}};
}

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json IntervalAgreementJson(const app::IntervalAgreementReport& report) {
  json readers = json::array();
  for (const auto& r : report.readers) {
    readers.push_back({{"reader", r.author}, {"version", r.version}, {"intervals", r.intervals}, {"beats", r.beats}});
  }
  json pairs = json::array();
  double interval_f1 = 0, beat_f1 = 0;
  for (const auto& p : report.pairs) {
    const quality::IntervalAgreement& a = p.agreement;
    json classes = json::array();
    for (const auto& c : a.per_class) {
      classes.push_back({{"class", c.label}, {"a", c.a}, {"b", c.b}, {"matched", c.matched}, {"f1", c.f1}});
    }
    pairs.push_back({{"reader_a", p.reader_a}, {"reader_b", p.reader_b},
                     {"interval_f1", a.interval_f1}, {"a_intervals", a.a_intervals}, {"b_intervals", a.b_intervals},
                     {"matched_intervals", a.matched_intervals},
                     {"mean_onset_error_ms", Optional(a.mean_onset_error_ms)},
                     {"mean_offset_error_ms", Optional(a.mean_offset_error_ms)},
                     {"max_onset_error_ms", Optional(a.max_onset_error_ms)},
                     {"max_offset_error_ms", Optional(a.max_offset_error_ms)}, {"per_class", classes},
                     {"beat_f1", a.beat_f1}, {"a_beats", a.a_beats}, {"b_beats", a.b_beats},
                     {"matched_beats", a.matched_beats}, {"mean_beat_error_ms", Optional(a.mean_beat_error_ms)}});
    interval_f1 += a.interval_f1;
    beat_f1 += a.beat_f1;
  }
  const double n = static_cast<double>(report.pairs.size());
  return {{"iou_threshold", report.options.iou_threshold},
          {"beat_tolerance_ms", report.options.beat_tolerance_s * 1000},
          {"readers", readers},
          {"pairs", pairs},
          {"mean_interval_f1", report.pairs.empty() ? json(nullptr) : json(interval_f1 / n)},
          {"mean_beat_f1", report.pairs.empty() ? json(nullptr) : json(beat_f1 / n)}};
}

}  // namespace

std::vector<Route> WaveformRoutes() {
  using security::Permission;
  return {
      {"POST", "/api/v1/projects/{project_id}/waveforms", Permission::kItemCreate,
       "Store waveform records: multipart/form-data, one file part per file (any part name; the file name "
       "matters): a WFDB record's .hea with the signal files it names and its .atr, an EDF/EDF+ .edf, or a DICOM "
       "waveform .dcm. One waveforms item per record; identifiers are stripped (DICOM: PS3.15 de-identification "
       "first) and only the waveform model is kept. The answer is the per-record report (stored, or error with its "
       "reason; files no record uses are errors): 200 when every record was stored, 202 when some were not.",
       BodyKind::kFormFiles, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         waveform::FileSet files;
         for (const auto& [part, file] : call.req.files) {
           const std::string name = file.filename.empty() ? part : file.filename;
           if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos) {
             return Error(ErrorCode::kInvalidArgument, "file names must not hold a directory: " + name);
           }
           if (!files.emplace(name, file.content).second) {
             return Error(ErrorCode::kInvalidArgument, "the file " + name + " was sent twice");
           }
         }
         if (files.empty()) return Error(ErrorCode::kInvalidArgument, "the request holds no file");
         CALIPER_ASSIGN_OR_RETURN(auto results, app.IngestWaveforms(call.ctx, call.Param("project_id"),
                                                                    waveform::GroupRecordFiles(std::move(files))));
         bool all_in = true;
         for (const auto& r : results) all_in = all_in && r.outcome == "stored";
         Reply r;
         r.status = all_in ? 200 : 202;
         r.body = app::WaveformIngestReportJson(results);
         return r;
       }},
      {"GET", "/api/v1/items/{item_id}/waveform", Permission::kItemRead,
       "The item's waveform: {sampling_rate_hz, samples, duration_s, start_offset_s, leads: [{name, units: \"mV\"}], "
       "source_format, group_label, groups: [further groups such as the ECG's MEDIAN BEAT, same fields], "
       "annotations (count), warnings}. Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto w, app.ReadWaveform(call.ctx, call.Param("item_id")));
         json body = GroupJson(w);
         body.erase("label");
         body["group_label"] = w.group_label;
         body["source_format"] = w.source_format;
         body["start_offset_s"] = w.start_offset_s;
         body["annotations"] = w.annotations.size();
         body["warnings"] = w.warnings;
         json groups = json::array();
         for (const auto& g : w.extra_groups) groups.push_back(GroupJson(g));
         body["groups"] = groups;
         return JsonReply(body);
       }},
      {"GET", "/api/v1/items/{item_id}/waveform/samples", Permission::kItemRead,
       "A window of samples in mV: ?from_s=0&to_s=10 (seconds from the first sample; to_s defaults to from_s + "
       "10 and is clipped to the record; a window outside the record is a 400), ?leads=I,II (default all), "
       "?group=MEDIAN BEAT for another group. At most 2 000 000 values. Answers {sampling_rate_hz, start_sample, "
       "leads: [{name, values}]}. Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::WaveformWindowRequest request;
         CALIPER_ASSIGN_OR_RETURN(request.from_s, QueryNumber(call.req, "from_s"));
         CALIPER_ASSIGN_OR_RETURN(request.to_s, QueryNumber(call.req, "to_s"));
         if (call.req.has_param("leads")) request.leads = CommaList(call.req.get_param_value("leads"));
         if (call.req.has_param("group")) request.group = call.req.get_param_value("group");
         CALIPER_ASSIGN_OR_RETURN(auto window, app.ReadWaveformWindow(call.ctx, call.Param("item_id"), request));
         json leads = json::array();
         for (std::size_t l = 0; l < window.names.size(); ++l) {
           leads.push_back({{"name", window.names[l]}, {"values", window.values_mv[l]}});
         }
         return JsonReply({{"sampling_rate_hz", window.sampling_rate_hz},
                           {"start_sample", window.start_sample},
                           {"leads", leads}});
       }},
      {"GET", "/api/v1/items/{item_id}/waveform/annotations", Permission::kItemRead,
       "The reference annotations imported with the record (e.g. a WFDB .atr), shown to readers as pre-labels: "
       "[{sample, time_s, symbol, label, aux}] ordered by sample (time_s from the first sample). Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto w, app.ReadWaveform(call.ctx, call.Param("item_id"), "waveform.annotations_read"));
         json out = json::array();
         for (const auto& a : w.annotations) {
           out.push_back({{"sample", a.sample}, {"time_s", w.TimeOf(a.sample)}, {"symbol", a.symbol},
                          {"label", a.label}, {"aux", a.aux}});
         }
         return JsonReply(out);
       }},
      {"PUT", "/api/v1/items/{item_id}/intervals", Permission::kAnnotationWrite,
       "Store your interval and beat labels on a waveforms item as a new version (markup kind \"intervals\"): "
       "{intervals: [{onset_s, offset_s, class, confidence}], beats: [{time_s, class, confidence}]}, seconds from "
       "the first sample, 0 <= onset_s < offset_s <= duration, classes of the current guideline that apply to "
       "waveforms, confidence in [0, 1] or null. Answers {version}. Each reader's labels are their own. Audited.",
       BodyKind::kJson,
       {{"intervals", FieldType::kObjectArray, false, "[{onset_s, offset_s, class, confidence}]"},
        {"beats", FieldType::kObjectArray, false, "[{time_s, class, confidence}]"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto m, app.PutIntervals(call.ctx, call.Param("item_id"), call.body.dump()));
         return JsonReply({{"version", m.version}, {"id", m.id}, {"created_at", FormatRfc3339(m.created_at)}});
       }},
      {"GET", "/api/v1/items/{item_id}/intervals", Permission::kAnnotationRead,
       "Your latest interval and beat labels on the item: {version, intervals, beats} (version 0 and empty lists "
       "when you have none). Only ever your own (blinding). Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto m, app.ReadOwnMarkup(call.ctx, call.Param("item_id"), storage::MarkupKind::kIntervals));
         json body = m.document.empty() ? json::object() : json::parse(m.document, nullptr, false);
         if (!body.is_object()) return Error(ErrorCode::kIntegrity, "the stored intervals are not JSON");
         body["version"] = m.version;
         if (!body.contains("intervals")) body["intervals"] = json::array();
         if (!body.contains("beats")) body["beats"] = json::array();
         return JsonReply(body);
       }},
      {"GET", "/api/v1/items/{item_id}/intervals/agreement", Permission::kQualityRead,
       "Agreement between every pair of readers' latest intervals on the item: overlap F1 (same class, temporal "
       "IoU >= iou_threshold, one-to-one), onset and offset error of matched intervals in ms, per class; beats "
       "matched within beat_tolerance_ms (ANSI/AAMI EC57's 150 ms) with their F1 and timing error (docs/waveforms.md). "
       "Audited.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto report, app.IntervalAgreementOf(call.ctx, call.Param("item_id")));
         return JsonReply(IntervalAgreementJson(report));
       }},
  };
}

}  // namespace caliper::http
