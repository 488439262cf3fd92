// The labelling workflow: guidelines, workflow settings, tasks, review and adjudication
// (docs/workflow.md).

#include <algorithm>

#include "caliper/core/rules.h"
#include "http/route.h"

namespace caliper::http {
namespace {

Reply GuidelineReply(const core::GuidelineVersion& g, int status = 200) {
  Reply r = JsonReply(GuidelineJson(g), status);
  r.headers.emplace_back("ETag", ETagOf(g.revision));
  return r;
}

Reply NoContent() {
  Reply r;
  r.status = 204;
  return r;
}

json Optional(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json FeedbackJson(const core::GuidelineFeedback& f) {
  return json{{"id", f.id},
              {"item_id", f.item_id},
              {"class", f.label_class},
              {"guideline_version_id", f.guideline_version_id},
              {"kind", core::ToString(f.kind)},
              {"note", f.note},
              {"author", f.author},
              {"created_at", FormatRfc3339(f.created_at)}};
}

json ImpactJson(const app::GuidelineImpact& impact) {
  json labels = json::array();
  for (const auto& l : impact.labels) {
    labels.push_back(json{{"annotation_id", l.annotation.id}, {"item_id", l.annotation.item_id},
                          {"class", l.annotation.label_class}, {"author", l.annotation.author},
                          {"task_id", l.annotation.task_id}, {"change", l.change}});
  }
  return json{{"from", {{"id", impact.diff.from.id}, {"version", impact.diff.from.version}}},
              {"to", {{"id", impact.diff.to.id}, {"version", impact.diff.to.version}}},
              {"labels", labels}};
}

Result<json> ReadingsJson(app::App& app, const app::ItemReadings& view) {
  json data = json::array();
  for (const auto& r : view.readings) {
    json reviews = json::array();
    CALIPER_ASSIGN_OR_RETURN(json labels, AnnotationsJsonWithTruth(app, r.annotations));
    for (const auto& v : r.reviews) reviews.push_back(ReviewJson(v));
    data.push_back(json{{"task", TaskJson(r.task)}, {"reader", r.task.assignee}, {"annotations", labels},
                        {"reviews", reviews}});
  }
  json classes = json::array();
  for (const auto& c : view.classes) {
    classes.push_back(json{{"label_class", c.label_class},
                           {"readings", c.readings},
                           {"naming", c.naming},
                           {"posterior", Optional(c.posterior)},
                           {"grade_distance", Optional(c.grade_distance)},
                           {"min_dice", Optional(c.min_dice)},
                           {"min_span_f1", Optional(c.min_span_f1)},
                           {"min_confidence", Optional(c.min_confidence)}});
  }
  json triggers = json::array();
  for (const auto& g : view.triggers) {
    triggers.push_back(json{{"label_class", g.label_class}, {"reason", g.reason}, {"detail", g.detail},
                            {"created_at", FormatRfc3339(g.created_at)}});
  }
  return json{{"data", data}, {"classes", classes}, {"triggers", triggers}};
}

json HistoryJson(const std::vector<app::AnnotationHistoryEntry>& entries) {
  json data = json::array();
  for (const auto& e : entries) {
    data.push_back(json{{"revision", e.annotation.revision}, {"change", e.change}, {"by", e.by},
                        {"at", FormatRfc3339(e.at)}, {"reason", e.reason}, {"annotation", AnnotationJson(e.annotation)}});
  }
  return json{{"data", data}};
}

std::vector<std::string> RejectReasonNames() {
  std::vector<std::string> out;
  for (const core::RejectReason r : core::AllRejectReasons()) out.emplace_back(core::ToString(r));
  return out;
}

std::string RejectReasonList() {
  std::string out;
  for (const auto& name : RejectReasonNames()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

const std::vector<Field>& SchemaFields() {
  static const std::vector<Field> kFields = {
      {"schema", FieldType::kObject, true, "the label schema (docs/label-schema.schema.json)"}};
  return kFields;
}

}  // namespace

std::vector<Route> WorkflowRoutes() {
  using security::Permission;
  return {
      // ---- guidelines ----
      {"POST", "/api/v1/projects/{project_id}/guidelines", Permission::kGuidelineEdit,
       "Start a guideline draft (one per project). The schema is validated against "
       "docs/label-schema.schema.json; errors name the class and field.",
       BodyKind::kJson, SchemaFields(),
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto g, app.CreateGuidelineDraft(call.ctx, call.Param("project_id"),
                                                                   call.body["schema"].dump()));
         return GuidelineReply(g, 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/guidelines", Permission::kProjectRead,
       "The project's guideline versions (drafts and published).", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto rows, app.ListGuidelines(call.ctx, call.Param("project_id"), page));
         return JsonReply(PageJson(rows, GuidelineJson));
       }},
      {"GET", "/api/v1/projects/{project_id}/guidelines/{guideline_id}", Permission::kProjectRead,
       "One guideline version, with its ETag.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto g, app.GetGuideline(call.ctx, call.Param("project_id"),
                                                           call.Param("guideline_id")));
         return GuidelineReply(g);
       }},
      {"PUT", "/api/v1/projects/{project_id}/guidelines/{guideline_id}", Permission::kGuidelineEdit,
       "Edit a guideline version. A draft changes in place (If-Match with its ETag; 412 when stale). A "
       "published version never changes: the edit becomes a new draft based on it (201).",
       BodyKind::kJson, SchemaFields(),
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto existing, app.GetGuideline(call.ctx, call.Param("project_id"),
                                                                  call.Param("guideline_id")));
         std::int64_t expected = existing.revision;
         if (existing.status == core::GuidelineStatus::kDraft) {
           CALIPER_ASSIGN_OR_RETURN(expected, IfMatchRevision(call.req));
         }
         CALIPER_ASSIGN_OR_RETURN(auto edit, app.EditGuideline(call.ctx, existing.project_id, existing.id, expected,
                                                               call.body["schema"].dump()));
         return GuidelineReply(edit.version, edit.created ? 201 : 200);
       }},
      {"POST", "/api/v1/projects/{project_id}/guidelines/{guideline_id}/publish", Permission::kGuidelineEdit,
       "Publish a draft (If-Match with its ETag): it is numbered and becomes immutable, and new labels "
       "are pinned to it.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto existing, app.GetGuideline(call.ctx, call.Param("project_id"),
                                                                  call.Param("guideline_id")));
         if (existing.status == core::GuidelineStatus::kPublished) {
           return Error(ErrorCode::kConflict, "version " + std::to_string(existing.version) + " is published already");
         }
         CALIPER_ASSIGN_OR_RETURN(std::int64_t expected, IfMatchRevision(call.req));
         CALIPER_ASSIGN_OR_RETURN(auto g, app.PublishGuideline(call.ctx, existing.project_id, existing.id, expected));
         return GuidelineReply(g);
       }},
      {"GET", "/api/v1/projects/{project_id}/guidelines/{guideline_id}/diff/{base_guideline_id}",
       Permission::kProjectRead,
       "What changed per class from the base version to this one: classes added, removed, and changed "
       "(with the fields that differ).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto diff, app.DiffGuidelines(call.ctx, call.Param("project_id"),
                                                                call.Param("base_guideline_id"),
                                                                call.Param("guideline_id")));
         return JsonReply(GuidelineDiffJson(diff));
       }},

      {"GET", "/api/v1/projects/{project_id}/guidelines/{guideline_id}/impact", Permission::kGuidelineEdit,
       "The impact report of this version: the labels made under ?from= (default: the version this one is "
       "based on) whose class was removed or changed since, for re-annotation.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string from = call.req.has_param("from") ? call.req.get_param_value("from") : "";
         CALIPER_ASSIGN_OR_RETURN(auto impact, app.GuidelineImpactOf(call.ctx, call.Param("project_id"),
                                                                     call.Param("guideline_id"), from));
         return JsonReply(ImpactJson(impact));
       }},
      {"POST", "/api/v1/projects/{project_id}/guidelines/{guideline_id}/reannotate", Permission::kTaskAssign,
       "Re-annotation tasks from the impact report: every finished reading with a label in it goes back to its "
       "reader (claimed, no lease) to label again under this version, which must be the one in force. Readings "
       "still in progress are listed as skipped.",
       BodyKind::kJson, {{"from", FieldType::kString, false, "the base version (default: the one this is based on)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto report, app.ReannotateImpacted(call.ctx, call.Param("project_id"),
                                                                      call.Param("guideline_id"),
                                                                      call.body.value("from", "")));
         json reopened = json::array();
         for (const auto& t : report.reopened) reopened.push_back(TaskJson(t));
         json skipped = json::array();
         for (const auto& s : report.skipped) {
           skipped.push_back(json{{"task_id", s.task_id}, {"annotation_id", s.annotation_id}, {"reason", s.reason}});
         }
         json out = ImpactJson(report.impact);
         out["reopened"] = reopened;
         out["skipped"] = skipped;
         return JsonReply(out);
       }},

      {"POST", "/api/v1/items/{item_id}/guideline-feedback", Permission::kGuidelineFeedback,
       "Note that the current published guideline did not fit this item for a class (reviewers and "
       "adjudicators); managers see it counted by class at GET /projects/{id}/guideline-feedback.",
       BodyKind::kJson,
       {{"class", FieldType::kString, true, "a class of the current guideline"},
        {"kind", FieldType::kString, true,
         "unclear_definition, missing_edge_case, criteria_conflict, needs_example or other"},
        {"note", FieldType::kString, false, "what did not fit (at most 4000 bytes)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto kind, core::ParseFeedbackKind(call.body["kind"].get<std::string>()));
         CALIPER_ASSIGN_OR_RETURN(auto f, app.AddGuidelineFeedback(call.ctx, call.Param("item_id"),
                                                                   call.body["class"].get<std::string>(), kind,
                                                                   call.body.value("note", "")));
         return JsonReply(FeedbackJson(f), 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/guideline-feedback", Permission::kGuidelineEdit,
       "Guideline feedback counted by class and kind (recurring: a kind reported on two or more items), with "
       "the entries newest first; ?version=<guideline version id> for one version only.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string version = call.req.has_param("version") ? call.req.get_param_value("version") : "";
         CALIPER_ASSIGN_OR_RETURN(auto report, app.GuidelineFeedbackOf(call.ctx, call.Param("project_id"), version));
         json classes = json::array();
         for (const auto& c : report.classes) {
           classes.push_back(json{{"class", c.label_class}, {"total", c.total}, {"items", c.items},
                                  {"kinds", c.kinds}, {"recurring", c.recurring}});
         }
         json entries = json::array();
         for (const auto& f : report.entries) entries.push_back(FeedbackJson(f));
         return JsonReply(json{{"guideline_version_id", report.guideline_version_id.empty()
                                                            ? json(nullptr)
                                                            : json(report.guideline_version_id)},
                               {"classes", classes},
                               {"entries", entries}});
       }},

      // ---- settings and tasks ----
      {"GET", "/api/v1/projects/{project_id}/workflow", Permission::kProjectRead,
       "The project's workflow settings.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto w, app.GetWorkflowSettings(call.ctx, call.Param("project_id")));
         return JsonReply(WorkflowSettingsJson(w));
       }},
      {"PUT", "/api/v1/projects/{project_id}/workflow", Permission::kTaskAssign,
       "Set the workflow settings (fields left out keep their defaults).", BodyKind::kJson,
       {{"readers_per_item", FieldType::kInteger, false, "k independent readings per item, 1..20 (default 1)"},
        {"required_qualification", FieldType::kString, false,
         "readers must hold it: radiologist, pathologist, clinician, general_annotator (default none)"},
        {"data_types", FieldType::kStringArray, false, "item data types that get tasks (default: every type)"},
        {"lease_minutes", FieldType::kInteger, false,
         "a claimed task returns to the pool after this long without activity (default 30)"},
        {"task_order", FieldType::kString, false,
         "fifo (default), random (a fresh order per claim), least_sure (active learning: items whose best "
         "pre-label score is lowest first)"},
        {"prelabel_hidden_share", FieldType::kNumber, false,
         "share 0..1 of readers who never see pre-labels, to measure anchoring (default 0)"},
        {"gold_rate", FieldType::kNumber, false,
         "share 0..1 of claims that serve a gold item first when one is left (default 0: gold items last)"},
        {"review_rate", FieldType::kNumber, false,
         "share 0..1 of complete, agreeing readings sent to review; the others are accepted without one "
         "(default 1; a class's review_rate overrides it, specialist classes default to 1)"},
        {"repeat_rate", FieldType::kNumber, false,
         "share 0..1 of readings their reader reads again after the wash-out, for intra-reader reliability (default 0)"},
        {"washout_days", FieldType::kInteger, false, "days before a repeat read is served, 0..3650 (default 0)"},
        {"washout_readings", FieldType::kInteger, false,
         "readings the reader must make in between before a repeat read is served, 0..100000 (default 0)"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto w, app::WorkflowSettingsFromJson(call.Param("project_id"), call.body.dump()));
         CALIPER_ASSIGN_OR_RETURN(auto saved, app.PutWorkflowSettings(call.ctx, w));
         return JsonReply(WorkflowSettingsJson(saved));
       }},
      {"POST", "/api/v1/projects/{project_id}/tasks", Permission::kTaskAssign,
       "Create open tasks so each item has k (readers_per_item); without item_ids, for every item "
       "of the project within the settings' data types. Returns the new tasks.",
       BodyKind::kJson, {{"item_ids", FieldType::kStringArray, false, "the items; none = all"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto created, app.CreateTasks(call.ctx, call.Param("project_id"),
                                                                StringList(call.body.value("item_ids", json::array()))));
         json data = json::array();
         for (const auto& t : created) data.push_back(TaskJson(t));
         return JsonReply(json{{"data", data}}, 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/tasks", Permission::kItemList,
       "The project's tasks, optionally ?state=open|claimed|submitted|... (annotators: only their own).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto page, PageFrom(call.req));
         std::optional<core::TaskState> state;
         if (call.req.has_param("state")) {
           CALIPER_ASSIGN_OR_RETURN(state, core::ParseTaskState(call.req.get_param_value("state")));
         }
         CALIPER_ASSIGN_OR_RETURN(auto rows, app.ListTasks(call.ctx, call.Param("project_id"), state, page));
         return JsonReply(PageJson(rows, TaskJson));
       }},
      {"POST", "/api/v1/projects/{project_id}/tasks/next", Permission::kTaskClaim,
       "Claim the next task atomically (a rejected reading of yours first, then the oldest open task on "
       "an item you hold no task of, within your data-type scopes). 200 with the task and its lease, or "
       "204 when there is nothing to do.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto task, app.ClaimNextTask(call.ctx, call.Param("project_id")));
         if (!task) return NoContent();
         return JsonReply(TaskJson(*task));
       }},
      {"GET", "/api/v1/projects/{project_id}/tasks/{task_id}", Permission::kItemList,
       "One task (annotators: only their own).", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto task, app.GetTask(call.ctx, call.Param("project_id"), call.Param("task_id")));
         return JsonReply(TaskJson(task));
       }},
      {"POST", "/api/v1/projects/{project_id}/tasks/{task_id}/release", Permission::kTaskClaim,
       "Give your claimed task back to the pool.", BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto task,
                                  app.ReleaseTask(call.ctx, call.Param("project_id"), call.Param("task_id")));
         return JsonReply(TaskJson(task));
       }},
      {"POST", "/api/v1/projects/{project_id}/tasks/{task_id}/submit", Permission::kAnnotationWrite,
       "Submit your reading (at least one label); 409 once the lease has expired. With an Idempotency-Key "
       "header the first answer is kept: repeating the key gives it again (Idempotency-Replayed: true) with "
       "no second effect; a key used for another task is 409.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         const std::string key = call.req.get_header_value("Idempotency-Key");
         if (!call.req.has_header("Idempotency-Key")) {
           CALIPER_ASSIGN_OR_RETURN(auto task,
                                    app.SubmitTask(call.ctx, call.Param("project_id"), call.Param("task_id")));
           return JsonReply(TaskJson(task));
         }
         CALIPER_ASSIGN_OR_RETURN(auto reply, app.SubmitTaskOnce(call.ctx, call.Param("project_id"),
                                                                 call.Param("task_id"), key,
                                                                 [](const core::Task& t) { return TaskJson(t).dump(); }));
         Reply r;
         r.body = std::move(reply.body);
         if (reply.replayed) r.headers.emplace_back("Idempotency-Replayed", "true");
         return r;
       }},

      // ---- review and adjudication ----
      {"POST", "/api/v1/projects/{project_id}/tasks/{task_id}/reviews", Permission::kReview,
       "Review a submitted reading: accept; correct (annotation_id + correction: a new label version, the "
       "original kept); reject with a reason_code (back to its reader, who reads it at GET .../reviews); "
       "escalate with a note (reason) to adjudication. 400 for an unknown reason_code (the message lists "
       "them); 409 when the task's state does not allow it.",
       BodyKind::kJson,
       {{"decision", FieldType::kString, true, "accept, correct, reject, escalate"},
        {"reason_code", FieldType::kString, false,
         "reject only, required: " + RejectReasonList() + " (docs/workflow.md, \"Reason codes\")",
         RejectReasonNames()},
        {"reason", FieldType::kString, false,
         "the note (at most 2000 characters): required to escalate and with reason_code other"},
        {"annotation_id", FieldType::kString, false, "the label decided on (required to correct)"},
        {"correction", FieldType::kObject, false, "correct: {evidence, label, uncertainty} of the new version"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::ReviewRequest request;
         CALIPER_ASSIGN_OR_RETURN(request.decision,
                                  core::ParseReviewDecision(call.body["decision"].get<std::string>()));
         if (call.body.contains("reason_code")) {
           auto code = core::ParseRejectReason(call.body["reason_code"].get<std::string>());
           if (!code.ok()) return code.status().WithContext("reason_code");
           request.reject_reason = *code;
         }
         request.reason = call.body.value("reason", "");
         request.annotation_id = call.body.value("annotation_id", "");
         if (call.body.contains("correction")) {
           auto correction = AnnotationFrom(call.body["correction"]);
           if (!correction.ok()) return correction.status().WithContext("correction");
           request.correction = std::move(correction).value();
         }
         CALIPER_ASSIGN_OR_RETURN(auto out, app.ReviewTask(call.ctx, call.Param("project_id"),
                                                           call.Param("task_id"), request));
         json correction = nullptr;
         if (out.correction) {
           CALIPER_ASSIGN_OR_RETURN(correction, AnnotationJsonWithTruth(app, *out.correction));
         }
         return JsonReply(
             json{{"task", TaskJson(out.task)}, {"review", ReviewJson(out.review)}, {"correction", correction}}, 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/tasks/{task_id}/reviews", Permission::kItemList,
       "The reviews of a reading, oldest first (decision, reason_code, reason): how its reader learns why it "
       "came back. Annotators: only their own tasks (blinding).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto reviews,
                                  app.ListTaskReviews(call.ctx, call.Param("project_id"), call.Param("task_id")));
         json data = json::array();
         for (const auto& v : reviews) data.push_back(ReviewJson(v));
         return JsonReply(json{{"data", data}});
       }},
      {"GET", "/api/v1/items/{item_id}/readings", Permission::kAdjudicate,
       "Every reading of the item side by side, with reader identities (adjudicators only); per class the "
       "disagreement figures and the fused suggestion (Dawid-Skene posterior that the class is present, "
       "over the project's readings); and the automatic adjudication triggers that fired.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto readings, app.ListReadings(call.ctx, call.Param("item_id")));
         CALIPER_ASSIGN_OR_RETURN(json body, ReadingsJson(app, readings));
         return JsonReply(body);
       }},
      // ---- delayed ground truth ----
      {"POST", "/api/v1/projects/{project_id}/outcomes", Permission::kItemCreate,
       "Record outcome events (at most 10,000): each {item_id | patient_key, evidence_type, class, value?, "
       "result: confirms|refutes, time}. Rows that fail a check come back in errors and are skipped; 400 "
       "when none is stored.",
       BodyKind::kJson, {{"outcomes", FieldType::kObjectArray, true, "the outcome events"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::vector<core::Outcome> rows;
         std::vector<app::RowError> errors;
         std::vector<std::size_t> index_of;  // rows[i] is outcomes[index_of[i]]
         const json& outcomes = call.body["outcomes"];
         for (std::size_t i = 0; i < outcomes.size(); ++i) {
           auto row = app::OutcomeFromJson(outcomes[i].dump());
           if (!row.ok()) {
             errors.push_back({i, row.status().message()});
             continue;
           }
           rows.push_back(std::move(row).value());
           index_of.push_back(i);
         }
         if (rows.empty()) {
           return Error(ErrorCode::kInvalidArgument,
                        errors.empty() ? "no outcomes given"
                                       : "outcomes[" + std::to_string(errors[0].index) + "]: " + errors[0].message);
         }
         CALIPER_ASSIGN_OR_RETURN(auto upload, app.AddOutcomes(call.ctx, call.Param("project_id"), rows));
         for (const auto& e : upload.errors) errors.push_back({index_of[e.index], e.message});
         std::sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
         json stored = json::array();
         for (const auto& o : upload.stored) stored.push_back(json{{"id", o.id}, {"class", o.label_class}});
         return JsonReply(json{{"stored", stored}, {"errors", RowErrorsJson(errors)}}, 201);
       }},
      {"GET", "/api/v1/projects/{project_id}/outcomes/labels", Permission::kQualityRead,
       "Every label of a class that needs confirmation, with its status now: provisional, confirmed, "
       "refuted or unconfirmed (window passed), and the deciding outcome.",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto labels, app.EvaluateTruth(call.ctx, call.Param("project_id")));
         json data = json::array();
         for (const auto& l : labels) data.push_back(LabelTruthJson(l));
         return JsonReply(json{{"data", data}});
       }},
      {"GET", "/api/v1/projects/{project_id}/outcomes/scores", Permission::kQualityRead,
       "Readers and pre-label model versions re-scored against confirmed truth: confirmed, refuted, "
       "provisional and unconfirmed labels, accuracy = confirmed / (confirmed + refuted).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto scores, app.ScoreAgainstTruth(call.ctx, call.Param("project_id")));
         return JsonReply(TruthScoresJson(scores));
       }},
      {"PUT", "/api/v1/items/{item_id}/gold", Permission::kTaskAssign,
       "Mark the item as gold with its known answer: the classes a correct reading labels (each in the "
       "current guideline; [] = none of them). Gold items are mixed into tasks/next at the settings' "
       "gold_rate and look like any other item to readers; accuracy on them is in the quality report.",
       BodyKind::kJson,
       {{"answers", FieldType::kObjectArray, true, "[{class}]: the answer's labels"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         std::vector<std::string> classes;
         const json& answers = call.body["answers"];
         for (std::size_t i = 0; i < answers.size(); ++i) {
           const std::string field = "answers[" + std::to_string(i) + "]";
           auto answer = ParseStrictJson(answers[i].dump(), {{"class", FieldType::kString, true, "a class id"}});
           if (!answer.ok()) return answer.status().WithContext(field);
           classes.push_back((*answer)["class"].get<std::string>());
         }
         CALIPER_ASSIGN_OR_RETURN(auto gold, app.SetGoldItem(call.ctx, call.Param("item_id"), classes));
         return JsonReply(GoldItemJson(gold));
       }},
      {"GET", "/api/v1/annotations/{annotation_id}/history", Permission::kAnnotationRead,
       "Every version of a label, oldest first: its revisions (edits with who, when and the reason), then "
       "the corrections and adjudicated labels made from it. Annotators: only their own labels (blinding).",
       BodyKind::kNone, {},
       [](app::App& app, Call& call) -> Result<Reply> {
         CALIPER_ASSIGN_OR_RETURN(auto history, app.GetAnnotationHistory(call.ctx, call.Param("annotation_id")));
         return JsonReply(HistoryJson(history));
       }},
      {"POST", "/api/v1/items/{item_id}/adjudications", Permission::kAdjudicate,
       "Decide an item with escalated readings: choose a reading's label (annotation_id) or write the "
       "final label (label), with a rationale. The final label has status 'adjudicated'.",
       BodyKind::kJson,
       {{"annotation_id", FieldType::kString, false, "the reading's label chosen as final"},
        {"label", FieldType::kObject, false, "or the final label written out: {evidence, label, uncertainty}"},
        {"rationale", FieldType::kString, true, "why"}},
       [](app::App& app, Call& call) -> Result<Reply> {
         app::AdjudicationRequest request;
         request.source_annotation_id = call.body.value("annotation_id", "");
         request.rationale = call.body["rationale"].get<std::string>();
         if (call.body.contains("label")) {
           auto label = AnnotationFrom(call.body["label"]);
           if (!label.ok()) return label.status().WithContext("label");
           request.label = std::move(label).value();
         }
         CALIPER_ASSIGN_OR_RETURN(auto out, app.Adjudicate(call.ctx, call.Param("item_id"), request));
         json tasks = json::array();
         for (const auto& t : out.tasks) tasks.push_back(TaskJson(t));
         CALIPER_ASSIGN_OR_RETURN(json final_label, AnnotationJsonWithTruth(app, out.final_label));
         return JsonReply(
             json{{"adjudication", AdjudicationJson(out.adjudication)}, {"final_label", final_label}, {"tasks", tasks}},
             201);
       }},
  };
}

}  // namespace caliper::http
