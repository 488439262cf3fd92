#pragma once

// The HTTP API: cpp-httplib with TLS (OpenSSL). Routes are declared in one table per area
// (src/http/routes/); OpenAPI is generated from those tables; authentication and the
// permission check run before any handler, deny by default.

#include <memory>
#include <string>
#include <vector>

#include "caliper/common/config.h"
#include "caliper/common/status.h"
#include "caliper/security/policy.h"

namespace caliper::app {
class App;
struct DataPaths;
}  // namespace caliper::app

namespace caliper::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8443;  // 0 = any free port (tests)
  bool tls = true;
  std::string cert_file;
  std::string key_file;
  int threads = 1024;  // most worker threads (one per open connection)
  int keep_alive_seconds = 30;
  int keep_alive_max_requests = 1000;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_upload_bytes = 512u << 20;
  // The built web app (index.html and assets/) served at every non-API path; empty = the
  // web/dist folder of the source checkout this binary was built from.
  std::string web_root;
};

// The web root used when the web.root setting is empty (compiled in: <checkout>/web/dist).
std::string DefaultWebRoot();

// Reads the server.*, tls.* and web.* settings; `listen` ("HOST:PORT", may be "") overrides
// server.listen. kInvalidArgument for a bad value, or for plain HTTP on a non-loopback host.
Result<ServerOptions> ServerOptionsFrom(const Config& config, const app::DataPaths& paths,
                                        const std::string& listen);

// A route as documented (the table entry without its handler).
struct RouteInfo {
  std::string method;
  std::string path;  // with {params}
  security::Permission permission;
  std::string summary;
  std::string area;
  bool takes_body = false;  // JSON or multipart; a body sent to any other route is a 413
};
// Every route of the API, in table order.
std::vector<RouteInfo> AllRoutes();
// The OpenAPI 3.0 document generated from the route tables.
std::string OpenApiJson();

// Writes a self-signed certificate (EC P-256, 825 days) for localhost, 127.0.0.1 and ::1,
// and its key (mode 0600).
Status MakeSelfSignedCertificate(const std::string& cert_file, const std::string& key_file);

// Thread-safe: Stop may be called from any thread (a signal-watching thread).
class Server {
 public:
  Server(app::App& app, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket. kUnavailable when the address is taken, kInvalidArgument for bad TLS
  // files.
  Status Bind();
  int port() const;
  // Serves until Stop; in-flight requests finish before it returns.
  Status Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caliper::http
