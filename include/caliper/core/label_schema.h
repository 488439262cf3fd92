#pragma once

// The label schema of a guideline version: the label classes readers may use, each with its
// definition, criteria, codes and resolution rules. Its JSON form is published as
// docs/label-schema.schema.json, which is compiled into the binary and is the one definition
// the validator checks against. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caliper/common/status.h"
#include "caliper/core/types.h"

namespace caliper::core {

// What the workflow reads from one class; the full class stays in `json`.
// When an item's submitted readings start adjudication by themselves (the class's
// "adjudication" object; docs/workflow.md, "Automatic adjudication"). Unset = that trigger is
// off; a class without the object has none on (its readings go to adjudication by escalation).
struct AdjudicationThresholds {
  bool class_mismatch = false;  // some readings name the class, others do not (true when the object is given)
  std::optional<int> grade_distance;            // ordinal grades this far apart or more
  std::optional<double> dice_below;             // two readings' masks overlap less than this
  bool span_mismatch = false;                   // the readings' spans of the class differ
  std::optional<double> low_confidence_below;   // a reader's confidence below this
};

// A class whose labels stay provisional until an outcome of one of `evidence_sources` arrives
// within `window_days` of the label (the class's "confirmation" object).
struct ConfirmationRule {
  std::vector<std::string> evidence_sources;
  int window_days = 0;
};

struct LabelClass {
  std::string id;
  std::string name;
  std::string kind;  // classification | ordinal_grade | span | segmentation | box | polygon | ...
  std::vector<DataType> data_types;  // empty = any
  std::optional<Role> resolver_role;  // who may adjudicate it; none = any adjudicator
  AdjudicationThresholds adjudication;
  std::optional<ConfirmationRule> confirmation;
  std::optional<Qualification> required_qualification;
  // Readings an item needs once a reading names the class (more than the project's k adds
  // tasks); none = the project's readers_per_item.
  std::optional<int> readers;
  // Share of readings naming the class that are reviewed; none = 1 for a class with a
  // required qualification, else the project's review_rate (core::ReviewRateOf).
  std::optional<double> review_rate;
  std::vector<std::string> terms;  // text mentions for the pre-labeller; may be empty
  // The context values readers may give a label of this class; empty = every value.
  std::vector<Assertion> assertions;
  std::vector<Temporality> temporalities;
  std::vector<Experiencer> experiencers;
  std::string json;  // the class as stored (canonical JSON)
};

// A relation readers may draw from a label of one of `from`'s classes to a label of one of
// `to`'s classes on the same item (e.g. located_at: finding -> location).
struct RelationType {
  std::string id;
  std::string name;
  std::vector<std::string> from, to;
};

struct LabelSchema {
  std::vector<LabelClass> classes;
  std::vector<RelationType> relations;
  const LabelClass* Find(std::string_view id) const;  // nullptr when absent
  const RelationType* FindRelation(std::string_view id) const;  // nullptr when absent
};

// A class's first terminology binding (its "codes"[0]): the code its labels carry.
struct ClassCode {
  std::string system;  // "SNOMED CT" | "ICD-10-CM" | "RadLex" | "LOINC"
  std::string code;
  std::string display;  // may be empty
};
std::optional<ClassCode> PrimaryCode(const LabelClass& cls);  // none when the class has no codes

// The published JSON Schema text (docs/label-schema.schema.json).
const std::string& LabelSchemaJsonSchema();

// Parses and validates `json_text`: against the JSON Schema, then the rules a JSON Schema
// cannot say: class and relation ids unique, relations name existing classes, and every
// terminology binding is a well-formed code of its system (core/codes.h: SNOMED CT Verhoeff
// and partition, ICD-10-CM format, LOINC and RadLex), e.g. "class 'aki' (classes[0]): field
// 'codes[0].code': ...". kInvalidArgument naming the class and field, e.g.
// "class 'lesion' (classes[1]): field 'kind' must be one of ...".
Result<LabelSchema> ParseLabelSchema(std::string_view json_text);

// The canonical text of a valid schema (sorted keys, no spaces) as stored.
Result<std::string> CanonicalLabelSchema(std::string_view json_text);

// How one class differs between two versions.
struct ClassDiff {
  std::string id;
  std::string change;               // "added" | "removed" | "changed"
  std::vector<std::string> fields;  // "changed": the top-level fields that differ, sorted
};

// Classes added, removed or changed from `from` to `to`, ordered by class id; unchanged
// classes are left out.
std::vector<ClassDiff> DiffLabelSchemas(const LabelSchema& from, const LabelSchema& to);

}  // namespace caliper::core
