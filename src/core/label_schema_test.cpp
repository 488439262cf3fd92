#include "caliper/core/label_schema.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include <nlohmann/json.hpp>

namespace caliper::core {
namespace {

using nlohmann::json;

json FullClass() {
  return json{{"id", "liver_lesion"},
              {"name", "Focal liver lesion"},
              {"kind", "segmentation"},
              {"codes", {{{"system", "SNOMED CT"}, {"code", "300331000"}, {"display", "Lesion of liver"}}}},
              {"data_types", {"imaging"}},
              {"modalities", {"CT", "MR"}},
              {"definition", "A focal area of abnormal attenuation or signal in the liver parenchyma."},
              {"inclusion_criteria", {"at least 5 mm in the longest axis"}},
              {"exclusion_criteria", {"vessels seen in cross-section"}},
              {"examples", {{{"item_id", "itm_1"}, {"polarity", "positive"}, {"note", "typical cyst"}}}},
              {"edge_cases", {"a lesion touching the capsule is still included"}},
              {"confidence_scale", {{"kind", "likert"}, {"levels", {"unsure", "likely", "certain"}}}},
              {"evidence_sources", {"image_finding", "biopsy"}},
              {"confirmation_window_days", 90},
              {"resolver_role", "adjudicator"},
              {"required_qualification", "radiologist"},
              {"attributes", {{{"name", "grade"}, {"type", "ordinal"}, {"values", {"1", "2", "3"}}}}}};
}

json MinimalClass(const std::string& id) {
  return json{{"id", id}, {"name", id}, {"kind", "classification"}, {"definition", "what " + id + " means"}};
}

std::string Message(const json& doc) {
  auto parsed = ParseLabelSchema(doc.dump());
  EXPECT_FALSE(parsed.ok()) << doc.dump();
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument);
  return parsed.status().message();
}

TEST(LabelSchemaTest, TheFullClassModelIsAccepted) {
  json doc{{"title", "Liver v1"}, {"classes", {FullClass(), MinimalClass("normal")}}};
  auto schema = ParseLabelSchema(doc.dump());
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_EQ(schema->classes.size(), 2u);
  const LabelClass* lesion = schema->Find("liver_lesion");
  ASSERT_NE(lesion, nullptr);
  EXPECT_EQ(lesion->kind, "segmentation");
  ASSERT_EQ(lesion->data_types.size(), 1u);
  EXPECT_EQ(lesion->data_types[0], DataType::kImaging);
  EXPECT_EQ(lesion->resolver_role, Role::kAdjudicator);
  EXPECT_EQ(lesion->required_qualification, Qualification::kRadiologist);
  EXPECT_EQ(schema->Find("nothing"), nullptr);
  EXPECT_FALSE(schema->Find("normal")->resolver_role.has_value());
}

TEST(LabelSchemaTest, ErrorsNameTheClassAndTheField) {
  json bad_kind{{"classes", {MinimalClass("a"), MinimalClass("cyst")}}};
  bad_kind["classes"][1]["kind"] = "blob";
  EXPECT_EQ(Message(bad_kind),
            "class 'cyst' (classes[1]): field 'kind' must be one of: classification, ordinal_grade, span, "
            "segmentation, box, polygon, measurement, outcome");

  json missing{{"classes", {MinimalClass("cyst")}}};
  missing["classes"][0].erase("definition");
  EXPECT_EQ(Message(missing), "class 'cyst' (classes[0]): field 'definition' is required");

  json nested{{"classes", {FullClass()}}};
  nested["classes"][0]["codes"][0]["system"] = "MeSH";
  EXPECT_NE(Message(nested).find("class 'liver_lesion' (classes[0]): field 'codes[0].system' must be one of"),
            std::string::npos);

  json unknown{{"classes", {MinimalClass("cyst")}}};
  unknown["classes"][0]["colour"] = "red";
  EXPECT_NE(Message(unknown).find("class 'cyst' (classes[0]): field 'colour' is not part of the schema"),
            std::string::npos);

  json window{{"classes", {MinimalClass("cyst")}}};
  window["classes"][0]["confirmation_window_days"] = 0;
  EXPECT_EQ(Message(window), "class 'cyst' (classes[0]): field 'confirmation_window_days' must be at least 1");
  window["classes"][0]["confirmation_window_days"] = "90";
  EXPECT_EQ(Message(window), "class 'cyst' (classes[0]): field 'confirmation_window_days' must be an integer or null");

  json bad_id{{"classes", {MinimalClass("Cyst")}}};
  EXPECT_NE(Message(bad_id).find("field 'id' must match"), std::string::npos);

  json duplicate{{"classes", {MinimalClass("cyst"), MinimalClass("cyst")}}};
  EXPECT_EQ(Message(duplicate), "class 'cyst' (classes[1]): field 'id' repeats an earlier class");

  EXPECT_EQ(Message(json{{"classes", json::array()}}), "field 'classes' must hold at least 1 entries");
  EXPECT_EQ(Message(json::array()), "the label schema must be an object");
  EXPECT_EQ(Message(json{{"classes", {MinimalClass("a")}}, {"extra", 1}}).rfind("field 'extra' is not part", 0), 0u);
  EXPECT_FALSE(ParseLabelSchema("{not json").ok());
}

TEST(LabelSchemaTest, PublishedSchemaUsesOnlyKeywordsTheValidatorKnows) {
  const std::set<std::string> known = {"$schema", "$id", "title", "description", "type", "additionalProperties",
                                       "required", "properties", "$defs", "$ref", "items", "minItems", "maxItems",
                                       "minLength", "maxLength", "minimum", "maximum", "pattern", "enum"};
  json schema = json::parse(LabelSchemaJsonSchema());
  std::function<void(const json&, bool)> walk = [&](const json& node, bool keyword_level) {
    if (!node.is_object()) return;
    for (const auto& [k, v] : node.items()) {
      if (keyword_level) {
        EXPECT_TRUE(known.count(k)) << "the validator does not implement '" << k << "'";
      }
      const bool children_are_schemas_by_name = k == "properties" || k == "$defs";
      if (children_are_schemas_by_name) {
        for (const auto& [name, sub] : v.items()) walk(sub, true);
      } else if (k == "items" || k == "additionalProperties") {
        walk(v, true);
      }
    }
  };
  walk(schema, true);
}

TEST(LabelSchemaTest, DiffIsPerClassAndNamesChangedFields) {
  json v1{{"classes", {FullClass(), MinimalClass("cyst"), MinimalClass("gone")}}};
  json v2 = v1;
  v2["classes"][0]["definition"] = "A sharper definition.";
  v2["classes"][0]["exclusion_criteria"].push_back("calcified granulomas");
  v2["classes"].erase(2);
  v2["classes"].push_back(MinimalClass("abscess"));
  auto a = ParseLabelSchema(v1.dump());
  auto b = ParseLabelSchema(v2.dump());
  ASSERT_TRUE(a.ok() && b.ok());
  auto diff = DiffLabelSchemas(*a, *b);
  ASSERT_EQ(diff.size(), 3u);
  EXPECT_EQ(diff[0].id, "abscess");
  EXPECT_EQ(diff[0].change, "added");
  EXPECT_EQ(diff[1].id, "gone");
  EXPECT_EQ(diff[1].change, "removed");
  EXPECT_EQ(diff[2].id, "liver_lesion");
  EXPECT_EQ(diff[2].change, "changed");
  EXPECT_EQ(diff[2].fields, (std::vector<std::string>{"definition", "exclusion_criteria"}));
  EXPECT_TRUE(DiffLabelSchemas(*a, *a).empty());
}

TEST(LabelSchema, TerminologyBindingsAreCheckedOnSaveNamingTheClass) {
  auto with_code = [](const std::string& system, const std::string& code) {
    json c = MinimalClass("aki");
    c["codes"] = {{{"system", system}, {"code", code}}};
    return json{{"classes", {MinimalClass("other"), c}}};
  };
  EXPECT_TRUE(ParseLabelSchema(with_code("SNOMED CT", "14669001").dump()).ok());  // acute kidney injury
  EXPECT_TRUE(ParseLabelSchema(with_code("ICD-10-CM", "N17.9").dump()).ok());
  EXPECT_TRUE(ParseLabelSchema(with_code("LOINC", "2160-0").dump()).ok());
  EXPECT_TRUE(ParseLabelSchema(with_code("RadLex", "RID5350").dump()).ok());
  const std::string snomed = Message(with_code("SNOMED CT", "14669002"));
  EXPECT_EQ(snomed.rfind("class 'aki' (classes[1]): field 'codes[0].code': ", 0), 0u) << snomed;
  EXPECT_NE(snomed.find("Verhoeff"), std::string::npos) << snomed;
  EXPECT_NE(Message(with_code("ICD-10-CM", "N1")).find("class 'aki'"), std::string::npos);
  EXPECT_NE(Message(with_code("LOINC", "2160-1")).find("check digit"), std::string::npos);
  EXPECT_NE(Message(with_code("RadLex", "5350")).find("codes[0].code"), std::string::npos);
}

TEST(LabelSchema, TermsContextAttributesAndRelations) {
  json finding = MinimalClass("finding");
  finding["kind"] = "span";
  finding["terms"] = {"pleural effusion", "effusion"};
  finding["context_attributes"] = {{"assertion", {"present", "absent"}}, {"experiencer", {"patient"}}};
  json doc = {{"classes", {finding, MinimalClass("location")}},
              {"relations", {{{"id", "located_at"}, {"name", "located at"}, {"from", {"finding"}}, {"to", {"location"}}}}}};
  auto schema = ParseLabelSchema(doc.dump());
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const LabelClass* c = schema->Find("finding");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->terms, (std::vector<std::string>{"pleural effusion", "effusion"}));
  EXPECT_EQ(c->assertions, (std::vector<Assertion>{Assertion::kPresent, Assertion::kAbsent}));
  EXPECT_TRUE(c->temporalities.empty());
  EXPECT_EQ(c->experiencers, std::vector<Experiencer>{Experiencer::kPatient});
  ASSERT_NE(schema->FindRelation("located_at"), nullptr);
  EXPECT_EQ(schema->FindRelation("located_at")->to, std::vector<std::string>{"location"});
  EXPECT_EQ(schema->FindRelation("nope"), nullptr);

  json bad = doc;
  bad["relations"][0]["to"] = {"organ"};
  EXPECT_NE(Message(bad).find("relation 'located_at' (relations[0]): field 'to' names 'organ', which is not a class"),
            std::string::npos)
      << Message(bad);
  bad = doc;
  bad["relations"].push_back(doc["relations"][0]);
  EXPECT_NE(Message(bad).find("repeats an earlier relation"), std::string::npos);
  bad = doc;
  bad["classes"][0]["context_attributes"]["temporality"] = {"someday"};
  EXPECT_NE(Message(bad).find("must be one of: current, historical, future"), std::string::npos) << Message(bad);
  bad = doc;
  bad["classes"][0]["terms"] = {""};
  EXPECT_NE(Message(bad).find("must not be empty"), std::string::npos);
}

TEST(LabelSchema, AdjudicationThresholdsAreReadAndChecked) {
  json doc{{"classes", {MinimalClass("none"), MinimalClass("defaults"), MinimalClass("all")}}};
  doc["classes"][1]["adjudication"] = json::object();
  doc["classes"][2]["adjudication"] = {{"class_mismatch", false}, {"grade_distance", 2}, {"dice_below", 0.7},
                                       {"span_mismatch", true}, {"low_confidence_below", 0.4}};
  auto schema = ParseLabelSchema(doc.dump());
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const AdjudicationThresholds& none = schema->classes[0].adjudication;
  EXPECT_FALSE(none.class_mismatch) << "no object: never automatic";
  EXPECT_FALSE(none.grade_distance || none.dice_below || none.span_mismatch || none.low_confidence_below);
  EXPECT_TRUE(schema->classes[1].adjudication.class_mismatch) << "the object turns class mismatch on";
  const AdjudicationThresholds& all = schema->classes[2].adjudication;
  EXPECT_FALSE(all.class_mismatch);
  EXPECT_EQ(all.grade_distance, 2);
  EXPECT_EQ(all.dice_below, 0.7);
  EXPECT_TRUE(all.span_mismatch);
  EXPECT_EQ(all.low_confidence_below, 0.4);
  doc["classes"][2]["adjudication"]["grade_distance"] = 0;
  EXPECT_EQ(Message(doc), "class 'all' (classes[2]): field 'adjudication.grade_distance' must be at least 1");
  doc["classes"][2]["adjudication"] = {{"kappa_below", 0.2}};
  EXPECT_NE(Message(doc).find("field 'adjudication.kappa_below' is not part of the schema"), std::string::npos);
}

}  // namespace
}  // namespace caliper::core
