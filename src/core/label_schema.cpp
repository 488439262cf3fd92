#include "caliper/core/label_schema.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "caliper/core/codes.h"
#include "caliper/core/rules.h"
#include "core/label_schema_text.h"

namespace caliper::core {
namespace {

using nlohmann::json;

// A validator for the subset of JSON Schema (2020-12) that docs/label-schema.schema.json
// uses: type, enum, required, properties, additionalProperties: false, items, minItems,
// maxItems, minLength, maxLength, minimum, maximum, pattern and local $ref. A keyword outside
// the subset is a defect of the schema file, caught by label_schema_test.
// Where a value sits, for messages: the class it belongs to and the field path inside it,
// e.g. "class 'lesion' (classes[1]): field 'codes[0].system'".
struct Where {
  std::string label;  // "class 'lesion' (classes[1])"; "" at the top level
  std::string field;  // "codes[0].system"; "" for the whole class or document

  std::string Text() const {
    std::string f = field.empty() ? (label.empty() ? "the label schema" : "the class") : "field '" + field + "'";
    return label.empty() ? f : label + ": " + f;
  }
  Where Member(const std::string& name) const { return {label, field.empty() ? name : field + "." + name}; }
  // Elements of the top-level "classes" array are named by their id.
  Where Element(const json& element, std::size_t i) const {
    const std::string index = "[" + std::to_string(i) + "]";
    if (!label.empty() || field != "classes") return {label, field + index};
    const bool has_id = element.is_object() && element.contains("id") && element["id"].is_string();
    return {has_id ? "class '" + element["id"].get<std::string>() + "' (classes" + index + ")"
                   : "class classes" + index,
            ""};
  }
};

// A validator for the subset of JSON Schema (2020-12) that docs/label-schema.schema.json
// uses: type, enum, required, properties, additionalProperties: false, items, minItems,
// maxItems, minLength, maxLength, minimum, maximum, pattern and local $ref.
class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  // "" when `value` conforms to `schema`, else the first problem found.
  std::string Check(const json& value, const json& schema, const Where& where) const {
    if (schema.contains("$ref")) return Check(value, Resolve(schema["$ref"]), where);
    const std::string at = where.Text();
    if (schema.contains("type") && !TypeMatches(value, schema["type"])) {
      return at + " must be " + TypeText(schema["type"]);
    }
    if (schema.contains("enum")) {
      const json& options = schema["enum"];
      if (std::find(options.begin(), options.end(), value) == options.end()) {
        std::string list;
        for (const auto& o : options) list += (list.empty() ? "" : ", ") + o.get<std::string>();
        return at + " must be one of: " + list;
      }
    }
    if (value.is_string()) {
      const auto length = static_cast<std::int64_t>(CodePoints(value.get_ref<const std::string&>()));
      if (schema.contains("minLength") && length < schema["minLength"].get<std::int64_t>()) {
        return length == 0 ? at + " must not be empty"
                           : at + " must be at least " + schema["minLength"].dump() + " characters";
      }
      if (schema.contains("maxLength") && length > schema["maxLength"].get<std::int64_t>()) {
        return at + " must be at most " + schema["maxLength"].dump() + " characters";
      }
      if (schema.contains("pattern") &&
          !std::regex_search(value.get<std::string>(), std::regex(schema["pattern"].get<std::string>()))) {
        return at + " must match " + schema["pattern"].get<std::string>();
      }
    }
    if (value.is_number()) {
      if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>()) {
        return at + " must be at least " + schema["minimum"].dump();
      }
      if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>()) {
        return at + " must be at most " + schema["maximum"].dump();
      }
    }
    if (value.is_array()) {
      const auto n = static_cast<std::int64_t>(value.size());
      if (schema.contains("minItems") && n < schema["minItems"].get<std::int64_t>()) {
        return at + " must hold at least " + schema["minItems"].dump() + " entries";
      }
      if (schema.contains("maxItems") && n > schema["maxItems"].get<std::int64_t>()) {
        return at + " must hold at most " + schema["maxItems"].dump() + " entries";
      }
      if (schema.contains("items")) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          std::string problem = Check(value[i], schema["items"], where.Element(value[i], i));
          if (!problem.empty()) return problem;
        }
      }
    }
    if (value.is_object()) {
      const json properties = schema.value("properties", json::object());
      for (const auto& name : schema.value("required", json::array())) {
        if (!value.contains(name.get<std::string>())) {
          return where.Member(name.get<std::string>()).Text() + " is required";
        }
      }
      for (const auto& [name, member] : value.items()) {
        if (!properties.contains(name)) {
          if (schema.value("additionalProperties", true)) continue;
          std::string known;
          for (const auto& [k, v] : properties.items()) known += (known.empty() ? "" : ", ") + k;
          return where.Member(name).Text() + " is not part of the schema (known: " + known + ")";
        }
        std::string problem = Check(member, properties[name], where.Member(name));
        if (!problem.empty()) return problem;
      }
    }
    return "";
  }

 private:
  const json& Resolve(const json& ref) const {
    // Only local references ("#/$defs/name") are used.
    return root_.at(json::json_pointer(ref.get<std::string>().substr(1)));
  }

  static bool TypeMatches(const json& v, const json& type) {
    if (type.is_array()) {
      return std::any_of(type.begin(), type.end(), [&](const json& t) { return TypeMatches(v, t); });
    }
    const std::string t = type.get<std::string>();
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "integer") return v.is_number_integer();
    if (t == "number") return v.is_number();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    return false;
  }

  static std::string TypeText(const json& type) {
    if (!type.is_array()) return WithArticle(type.get<std::string>());
    std::string out;
    for (const auto& t : type) out += (out.empty() ? "" : " or ") + WithArticle(t.get<std::string>());
    return out;
  }

  static std::string WithArticle(const std::string& t) {
    if (t == "null") return "null";
    if (t == "array" || t == "object" || t == "integer") return "an " + t;
    return "a " + t;
  }

  static std::size_t CodePoints(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  }

  const json& root_;
};

const json& ParsedJsonSchema() {
  static const json kSchema = json::parse(LabelSchemaJsonSchema());
  return kSchema;
}

Result<json> ValidatedJson(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kInvalidArgument, "the label schema is not valid JSON");
  Validator validator(ParsedJsonSchema());
  std::string problem = validator.Check(doc, ParsedJsonSchema(), Where{});
  if (!problem.empty()) return Error(ErrorCode::kInvalidArgument, problem);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < doc["classes"].size(); ++i) {
    const json& c = doc["classes"][i];
    const std::string id = c["id"].get<std::string>();
    const std::string where = "class '" + id + "' (classes[" + std::to_string(i) + "]): field ";
    if (!ids.insert(id).second) {
      return Error(ErrorCode::kInvalidArgument, where + "'id' repeats an earlier class");
    }
    // Terminology bindings: format and check digits (core/codes.h).
    const json codes = c.value("codes", json::array());
    for (std::size_t k = 0; k < codes.size(); ++k) {
      Status s = ValidateCode(codes[k]["system"].get<std::string>(), codes[k]["code"].get<std::string>());
      if (!s.ok()) {
        return Error(ErrorCode::kInvalidArgument,
                     where + "'codes[" + std::to_string(k) + "].code': " + std::string(s.message()));
      }
    }
  }
  std::set<std::string> relation_ids;
  const json relations = doc.value("relations", json::array());
  for (std::size_t i = 0; i < relations.size(); ++i) {
    const std::string id = relations[i]["id"].get<std::string>();
    const std::string where = "relation '" + id + "' (relations[" + std::to_string(i) + "]): field ";
    if (!relation_ids.insert(id).second) {
      return Error(ErrorCode::kInvalidArgument, where + "'id' repeats an earlier relation");
    }
    for (const char* end : {"from", "to"}) {
      for (const auto& cls : relations[i][end]) {
        if (!ids.count(cls.get<std::string>())) {
          return Error(ErrorCode::kInvalidArgument,
                       where + "'" + end + "' names '" + cls.get<std::string>() + "', which is not a class");
        }
      }
    }
  }
  return doc;
}

}  // namespace

std::optional<ClassCode> PrimaryCode(const LabelClass& cls) {
  const json j = json::parse(cls.json, nullptr, false);
  if (!j.is_object() || !j.contains("codes") || !j["codes"].is_array() || j["codes"].empty()) return std::nullopt;
  const json& first = j["codes"][0];
  if (!first.is_object()) return std::nullopt;
  return ClassCode{first.value("system", ""), first.value("code", ""), first.value("display", "")};
}

const LabelClass* LabelSchema::Find(std::string_view id) const {
  for (const auto& c : classes) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const RelationType* LabelSchema::FindRelation(std::string_view id) const {
  for (const auto& r : relations) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const std::string& LabelSchemaJsonSchema() {
  static const std::string kText(kLabelSchemaJsonSchemaText);
  return kText;
}

Result<LabelSchema> ParseLabelSchema(std::string_view json_text) {
  CALIPER_ASSIGN_OR_RETURN(json doc, ValidatedJson(json_text));
  LabelSchema schema;
  for (const auto& c : doc["classes"]) {
    LabelClass lc;
    lc.id = c["id"].get<std::string>();
    lc.name = c["name"].get<std::string>();
    lc.kind = c["kind"].get<std::string>();
    for (const auto& t : c.value("data_types", json::array())) {
      CALIPER_ASSIGN_OR_RETURN(auto type, ParseDataType(t.get<std::string>()));
      lc.data_types.push_back(type);
    }
    if (c.contains("resolver_role")) {
      CALIPER_ASSIGN_OR_RETURN(lc.resolver_role, ParseRole(c["resolver_role"].get<std::string>()));
    }
    if (c.contains("confirmation")) {
      ConfirmationRule rule;
      for (const auto& s : c["confirmation"]["evidence_sources"]) rule.evidence_sources.push_back(s.get<std::string>());
      rule.window_days = c["confirmation"]["window_days"].get<int>();
      lc.confirmation = std::move(rule);
    }
    if (c.contains("adjudication")) {
      const json& a = c["adjudication"];
      lc.adjudication.class_mismatch = a.value("class_mismatch", true);
      lc.adjudication.span_mismatch = a.value("span_mismatch", false);
      if (a.contains("grade_distance")) lc.adjudication.grade_distance = a["grade_distance"].get<int>();
      if (a.contains("dice_below")) lc.adjudication.dice_below = a["dice_below"].get<double>();
      if (a.contains("low_confidence_below")) {
        lc.adjudication.low_confidence_below = a["low_confidence_below"].get<double>();
      }
    }
    if (c.contains("required_qualification")) {
      CALIPER_ASSIGN_OR_RETURN(lc.required_qualification,
                               ParseQualification(c["required_qualification"].get<std::string>()));
    }
    if (c.contains("readers")) lc.readers = c["readers"].get<int>();
    if (c.contains("review_rate")) lc.review_rate = c["review_rate"].get<double>();
    for (const auto& t : c.value("terms", json::array())) lc.terms.push_back(t.get<std::string>());
    const json context = c.value("context_attributes", json::object());
    for (const auto& v : context.value("assertion", json::array())) {
      CALIPER_ASSIGN_OR_RETURN(auto value, ParseAssertion(v.get<std::string>()));
      lc.assertions.push_back(value);
    }
    for (const auto& v : context.value("temporality", json::array())) {
      CALIPER_ASSIGN_OR_RETURN(auto value, ParseTemporality(v.get<std::string>()));
      lc.temporalities.push_back(value);
    }
    for (const auto& v : context.value("experiencer", json::array())) {
      CALIPER_ASSIGN_OR_RETURN(auto value, ParseExperiencer(v.get<std::string>()));
      lc.experiencers.push_back(value);
    }
    lc.json = c.dump();
    schema.classes.push_back(std::move(lc));
  }
  for (const auto& r : doc.value("relations", json::array())) {
    RelationType rt;
    rt.id = r["id"].get<std::string>();
    rt.name = r["name"].get<std::string>();
    for (const auto& f : r["from"]) rt.from.push_back(f.get<std::string>());
    for (const auto& t : r["to"]) rt.to.push_back(t.get<std::string>());
    schema.relations.push_back(std::move(rt));
  }
  return schema;
}

Result<std::string> CanonicalLabelSchema(std::string_view json_text) {
  CALIPER_ASSIGN_OR_RETURN(json doc, ValidatedJson(json_text));
  return doc.dump();  // nlohmann objects keep keys sorted
}

std::vector<ClassDiff> DiffLabelSchemas(const LabelSchema& from, const LabelSchema& to) {
  std::map<std::string, const LabelClass*> before, after;
  for (const auto& c : from.classes) before[c.id] = &c;
  for (const auto& c : to.classes) after[c.id] = &c;
  std::set<std::string> ids;
  for (const auto& [id, c] : before) ids.insert(id);
  for (const auto& [id, c] : after) ids.insert(id);
  std::vector<ClassDiff> out;
  for (const auto& id : ids) {
    auto b = before.find(id);
    auto a = after.find(id);
    if (b == before.end()) {
      out.push_back({id, "added", {}});
    } else if (a == after.end()) {
      out.push_back({id, "removed", {}});
    } else {
      json old_class = json::parse(b->second->json), new_class = json::parse(a->second->json);
      std::set<std::string> fields;
      for (const auto& [k, v] : old_class.items()) {
        if (!new_class.contains(k) || new_class[k] != v) fields.insert(k);
      }
      for (const auto& [k, v] : new_class.items()) {
        if (!old_class.contains(k)) fields.insert(k);
      }
      if (!fields.empty()) out.push_back({id, "changed", {fields.begin(), fields.end()}});
    }
  }
  return out;
}

}  // namespace caliper::core
