#pragma once

// The model back-end transport over HTTP/JSON (docs/workflow.md, "The model back-end
// protocol"): one POST per item to the back-end's URL. Internal to http.

#include <string>

#include "caliper/app/app.h"

namespace caliper::http {

// Thread-safe: each call opens its own client. http:// and https:// URLs (certificates are
// verified with the system's CA store).
class HttpModelBackend final : public app::ModelBackendTransport {
 public:
  explicit HttpModelBackend(int timeout_seconds = 60) : timeout_seconds_(timeout_seconds) {}
  Result<std::string> PostJson(const std::string& url, const std::string& body) override;

 private:
  int timeout_seconds_;
};

}  // namespace caliper::http
