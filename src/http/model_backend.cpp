#include "http/model_backend.h"

#include <httplib.h>

namespace caliper::http {

Result<std::string> HttpModelBackend::PostJson(const std::string& url, const std::string& body) {
  // Split "scheme://host[:port]" from the path.
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)) {
    return Error(ErrorCode::kInvalidArgument, "backend_url must be an http:// or https:// URL");
  }
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  const std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  httplib::Client client(origin);
  if (!client.is_valid()) return Error(ErrorCode::kInvalidArgument, "backend_url is not a usable URL");
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(timeout_seconds_, 0);
  client.set_write_timeout(timeout_seconds_, 0);
  auto res = client.Post(path, body, "application/json");
  if (!res) {
    return Error(ErrorCode::kUnavailable, "the model back-end at " + origin + " did not answer (" +
                                              httplib::to_string(res.error()) + ")");
  }
  if (res->status < 200 || res->status > 299) {
    return Error(ErrorCode::kUnavailable, "the model back-end answered HTTP " + std::to_string(res->status));
  }
  return res->body;
}

}  // namespace caliper::http
