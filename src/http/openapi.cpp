#include "caliper/http/server.h"
#include "http/route.h"

namespace caliper::http {
namespace {

json SchemaOf(FieldType t) {
  switch (t) {
    case FieldType::kString: return {{"type", "string"}};
    case FieldType::kInteger: return {{"type", "integer"}};
    case FieldType::kNumber: return {{"type", "number"}};
    case FieldType::kNullableNumber: return {{"type", "number"}, {"nullable", true}};
    case FieldType::kBoolean: return {{"type", "boolean"}};
    case FieldType::kStringArray: return {{"type", "array"}, {"items", {{"type", "string"}}}};
    case FieldType::kObject: return {{"type", "object"}};
    case FieldType::kObjectArray: return {{"type", "array"}, {"items", {{"type", "object"}}}};
  }
  return json::object();
}

json BodySchema(const std::vector<Field>& fields) {
  json props = json::object();
  json required = json::array();
  for (const auto& f : fields) {
    json s = SchemaOf(f.type);
    s["description"] = f.description;
    if (!f.values.empty()) s["enum"] = f.values;
    props[f.name] = s;
    if (f.required) required.push_back(f.name);
  }
  json schema{{"type", "object"}, {"additionalProperties", false}, {"properties", props}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

std::string OperationId(const Route& r) {
  std::string id = r.method;
  for (char c : r.path) {
    if (c == '/' || c == '-' || c == '.') {
      id.push_back('_');
    } else if (c != '{' && c != '}') {
      id.push_back(c);
    }
  }
  return id;
}

}  // namespace

std::string OpenApiJson() {
  static const std::string kDocument = [] {
    json paths = json::object();
    json error_schema{{"type", "object"},
                      {"properties",
                       {{"error",
                         {{"type", "object"},
                          {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}};
    for (const RegisteredRoute& r : RouteTable()) {
      json op{{"summary", r.summary},
              {"operationId", OperationId(r)},
              {"tags", {r.area}},
              {"x-permission", security::ToString(r.permission)}};
      if (r.permission == security::Permission::kNone) op["security"] = json::array();
      json params = json::array();
      std::size_t pos = 0;
      while ((pos = r.path.find('{', pos)) != std::string::npos) {
        auto end = r.path.find('}', pos);
        params.push_back({{"name", r.path.substr(pos + 1, end - pos - 1)},
                          {"in", "path"},
                          {"required", true},
                          {"schema", {{"type", "string"}}}});
        pos = end;
      }
      if (!params.empty()) op["parameters"] = params;
      if (r.body_kind == BodyKind::kJson) {
        op["requestBody"] = {{"required", true},
                             {"content", {{"application/json", {{"schema", BodySchema(r.fields)}}}}}};
      } else if (r.body_kind == BodyKind::kMultipart) {
        op["requestBody"] = {
            {"required", true},
            {"content",
             {{"multipart/form-data",
               {{"schema",
                 {{"type", "object"},
                  {"required", {"metadata", "content"}},
                  {"properties",
                   {{"metadata", BodySchema(r.fields)},
                    {"content", {{"type", "string"}, {"format", "binary"}}}}}}}}}}}};
      } else if (r.body_kind == BodyKind::kFormFiles) {
        op["requestBody"] = {
            {"required", true},
            {"content",
             {{"multipart/form-data",
               {{"schema",
                 {{"type", "object"},
                  {"additionalProperties", {{"type", "string"}, {"format", "binary"}}}}}}}}}};
      } else if (IsRawBody(r.body_kind)) {
        json content = json::object();
        for (const auto& type : RawMediaTypes(r.body_kind)) {
          content[type] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
        }
        op["requestBody"] = {{"required", true}, {"content", content}};
      }
      op["responses"] = {
          {"200", {{"description", "success (201 on create, 204 when there is no body)"}}},
          {"default", {{"description", "an error from the error table"},
                       {"content", {{"application/json", {{"schema", error_schema}}}}}}}};
      std::string method = r.method;
      for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      paths[r.path][method] = op;
    }
    json doc{{"openapi", "3.0.3"},
             {"info", {{"title", "Caliper API"}, {"version", "1"}}},
             {"paths", paths},
             {"components",
              {{"securitySchemes",
                {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "caliper_session"}}},
                 {"token", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
             {"security", {{{"session", json::array()}}, {{"token", json::array()}}}}};
    return doc.dump(2);
  }();
  return kDocument;
}

}  // namespace caliper::http
