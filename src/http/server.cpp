#include "caliper/http/server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "caliper/app/app.h"
#include "caliper/common/ids.h"
#include "caliper/common/log.h"
#include "http/encoding.h"
#include "http/route.h"
#include "http/static_files.h"
#include "http/task_queue.h"

namespace caliper::http {
namespace {

constexpr std::string_view kSessionCookie = "caliper_session";

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Matches `path` against a route pattern; fills `params` on success.
bool MatchPath(const std::string& pattern, const std::string& path, std::map<std::string, std::string>& params) {
  auto p = Split(pattern);
  auto a = Split(path);
  if (p.size() != a.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < p.size(); ++i) {
    // "{name}" takes the whole segment; "{name}.png" a segment ending in ".png", without it.
    const std::size_t close = p[i].find('}');
    if (p[i].size() > 2 && p[i].front() == '{' && close != std::string::npos) {
      const std::string suffix = p[i].substr(close + 1);
      if (a[i].size() <= suffix.size() || !a[i].ends_with(suffix)) return false;
      found[p[i].substr(1, close - 1)] = a[i].substr(0, a[i].size() - suffix.size());
    } else if (p[i] != a[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

struct Match {
  const Route* route = nullptr;
  bool path_known = false;  // some route has this path (so a miss is 405, not 404)
  std::map<std::string, std::string> params;
};

Match FindRoute(const std::string& method, const std::string& path) {
  Match m;
  for (const RegisteredRoute& r : RouteTable()) {
    std::map<std::string, std::string> params;
    if (!MatchPath(r.path, path, params)) continue;
    m.path_known = true;
    if (r.method == method) {
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
  }
  return m;
}

std::string CookieValue(const httplib::Request& req, std::string_view name) {
  const std::string header = req.get_header_value("Cookie");
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    std::size_t first = part.find_first_not_of(' ');
    if (first != std::string::npos) part = part.substr(first);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 && part[name.size()] == '=') {
      return part.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return "";
}

// cpp-httplib 0.11 (as compiled in Debian) listens with a backlog of 5, so a burst of new
// connections is dropped and retried by clients a second later. It offers no setting, so
// after binding we find our listening socket among the process's descriptors and call
// listen() again with a full backlog (Linux updates the backlog of a listening socket).
void RaiseListenBacklog(int port) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* entry = ::readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                             : -1;
    if (bound == port) ::listen(fd, SOMAXCONN);
  }
  ::closedir(dir);
}

void WriteError(httplib::Response& res, const Status& status) {
  res.status = status.http_status();
  json body{{"error", {{"code", status.code_name()}, {"message", status.message()}}}};
  res.set_content(body.dump(), "application/json");
  if (status.code() == ErrorCode::kSessionExpired) {
    res.set_header("Set-Cookie", std::string(kSessionCookie) +
                                     "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
  }
}

bool IsSafePathWord(const std::string& value) {
  if (value.empty() || value.size() > 128 || value.front() == '.') return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

struct Server::Impl {
  app::App& app;
  ServerOptions options;
  StaticFiles web;
  std::unique_ptr<httplib::Server> server;
  int port = 0;
  // Requests between PreRoute and the end of their answer's write (the logger). Stop waits for
  // them before it stops cpp-httplib, whose stop() cuts off answers sent by content provider
  // (SendAnswer) in the middle; requests that arrive meanwhile are refused with a 503.
  std::mutex drain_mu;
  std::condition_variable drained;
  int in_flight = 0;
  bool draining = false;
  static inline thread_local bool counted = false;  // this worker's request is in in_flight

  void Finished() {
    if (!counted) return;
    counted = false;
    std::lock_guard<std::mutex> lock(drain_mu);
    if (--in_flight == 0) drained.notify_all();
  }

  Impl(app::App& a, ServerOptions o)
      : app(a), options(std::move(o)), web(options.web_root.empty() ? DefaultWebRoot() : options.web_root) {}

  void SetCommonHeaders(const httplib::Request& req, httplib::Response& res) const {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
                   "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    if (options.tls) res.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    if (req.path.rfind("/api/", 0) == 0) res.set_header("Cache-Control", "no-store");
  }

  // Runs before the body is read: unknown routes and oversized bodies are refused without
  // reading what the client sends.
  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res) {
    SetCommonHeaders(req, res);
    {
      std::lock_guard<std::mutex> lock(drain_mu);
      if (draining) {
        WriteError(res, Error(ErrorCode::kUnavailable, "the server is shutting down; try again shortly"));
        res.set_header("Retry-After", "5");
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!counted) ++in_flight;
      counted = true;
    }
    Match m = FindRoute(req.method, req.path);
    if (m.route == nullptr) return httplib::Server::HandlerResponse::Unhandled;
    const bool upload = m.route->body_kind == BodyKind::kMultipart || m.route->body_kind == BodyKind::kFormFiles ||
                        IsRawBody(m.route->body_kind);
    std::size_t limit = upload                                    ? options.max_upload_bytes
                        : m.route->body_kind == BodyKind::kJson   ? options.max_body_bytes
                                                                  : 0;
    // Bodies must announce their length: cpp-httplib 0.11 reads a chunked body whole, with no
    // limit, before any handler could refuse it.
    if (req.has_header("Transfer-Encoding")) {
      WriteError(res, Error(ErrorCode::kLengthRequired, ""));
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string length = req.get_header_value("Content-Length");
    if (!length.empty()) {
      unsigned long long n = 0;
      try {
        n = std::stoull(length);
      } catch (const std::exception&) {
        WriteError(res, Error(ErrorCode::kInvalidArgument, "bad Content-Length"));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (n > limit) {
        WriteError(res, Error(ErrorCode::kPayloadTooLarge,
                              limit == 0 ? "this endpoint takes no body"
                                         : "the body is larger than this endpoint accepts (" +
                                               std::to_string(limit) + " bytes)"));
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  Result<Reply> Handle(const httplib::Request& req, const Match& m) {
    const Route& route = *m.route;
    // Path parameters named *_id are opaque ids; the others (a file name, a download token)
    // are 1..128 of [A-Za-z0-9._-] not starting with a dot. Anything else (slashes, escapes,
    // "..") is not a resource.
    for (const auto& [name, value] : m.params) {
      const bool ok = name.ends_with("_id") ? IsWellFormedId(value) : IsSafePathWord(value);
      if (!ok) return Error(ErrorCode::kNotFound, "no such " + name.substr(0, name.find('_')));
    }
    Call call{req, {}, m.params, json()};
    call.ctx.source_address = req.remote_addr;
    if (route.permission != security::Permission::kNone) {
      const std::string auth = req.get_header_value("Authorization");
      if (auth.rfind("Bearer ", 0) == 0) {
        CALIPER_ASSIGN_OR_RETURN(call.ctx.principal, app.AuthenticateApiToken(auth.substr(7)));
      } else {
        const std::string token = CookieValue(req, kSessionCookie);
        if (token.empty()) return Error(ErrorCode::kUnauthenticated, "sign in first");
        CALIPER_ASSIGN_OR_RETURN(call.ctx.principal, app.AuthenticateSession(token));
        if (req.method != "GET" && req.method != "HEAD") {
          CALIPER_RETURN_IF_ERROR(app.CheckCsrf(call.ctx.principal, req.get_header_value("X-CSRF-Token")));
        }
      }
      // A one-time password must be replaced before anything else is done with it.
      if (call.ctx.principal.user.must_change_password && !call.ctx.principal.via_token() &&
          route.path != "/api/v1/me/password" && route.path != "/api/v1/auth/session" &&
          route.path != "/api/v1/auth/logout") {
        return Error(ErrorCode::kPasswordChangeRequired, "");
      }
      auto param = [&](const char* name) {
        auto it = m.params.find(name);
        return it == m.params.end() ? std::string() : it->second;
      };
      CALIPER_RETURN_IF_ERROR(app.Authorize(call.ctx, route.permission, param("project_id"), param("item_id"),
                                            route.method + " " + route.path, param("task_id"),
                                            param("annotation_id")));
    }
    if (route.body_kind == BodyKind::kJson) {
      // Only JSON: a cross-site form (text/plain, urlencoded) can never reach a JSON route.
      const std::string type = req.get_header_value("Content-Type");
      if (type.rfind("application/json", 0) != 0) {
        return Error(ErrorCode::kUnsupported, "send the body as application/json");
      }
      CALIPER_ASSIGN_OR_RETURN(call.body, ParseStrictJson(req.body, route.fields));
    } else if (route.body_kind == BodyKind::kMultipart) {
      if (!req.is_multipart_form_data()) {
        return Error(ErrorCode::kInvalidArgument, "this endpoint takes multipart/form-data");
      }
      if (!req.has_file("metadata")) return Error(ErrorCode::kInvalidArgument, "the 'metadata' part is required");
      CALIPER_ASSIGN_OR_RETURN(call.body, ParseStrictJson(req.get_file_value("metadata").content, route.fields));
    } else if (route.body_kind == BodyKind::kFormFiles) {
      if (!req.is_multipart_form_data()) {
        return Error(ErrorCode::kInvalidArgument, "this endpoint takes multipart/form-data");
      }
    } else if (IsRawBody(route.body_kind)) {
      // The handler reads req.body and its Content-Type.
    } else if (!req.body.empty()) {
      return Error(ErrorCode::kPayloadTooLarge, "this endpoint takes no body");
    }
    return route.handler(app, call);
  }

  void Dispatch(const httplib::Request& req, httplib::Response& res) {
    auto started = std::chrono::steady_clock::now();
    Match m = FindRoute(req.method, req.path);
    std::string pattern = m.route ? m.route->path : "(none)";
    const bool api = req.path.rfind("/api/", 0) == 0 || req.path == "/api";
    if (m.route == nullptr && !m.path_known && !api && (req.method == "GET" || req.method == "HEAD")) {
      // Not an API path: the web app's files (no authentication; they hold no data).
      pattern = "(web)";
      web.Serve(req.path, res, req.get_header_value("Accept-Encoding"));
    } else if (m.route == nullptr) {
      WriteError(res, m.path_known ? Error(ErrorCode::kInvalidArgument, "method not allowed here")
                                   : Error(ErrorCode::kNotFound, "no such endpoint"));
      if (m.path_known) res.status = 405;
    } else {
      Result<Reply> reply = Handle(req, m);
      if (!reply.ok()) {
        WriteError(res, reply.status());
      } else {
        res.status = reply->status;
        // A handler's header replaces the common one of the same name (e.g. Cache-Control).
        for (const auto& [k, v] : reply->headers) {
          res.headers.erase(k);
          res.set_header(k, v);
        }
        if (!reply->body.empty() || reply->status != 204) {
          SendAnswer(res, std::move(reply->body), reply->content_type, req.get_header_value("Accept-Encoding"));
        }
      }
    }
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    // Route pattern, not the path: logs hold no ids a reader could tie to a patient.
    log::Debug(req.method + " " + pattern + " " + std::to_string(res.status) + " " + std::to_string(micros) + "us");
  }
};

Server::Server(app::App& app, ServerOptions options) : impl_(std::make_unique<Impl>(app, std::move(options))) {}
Server::~Server() = default;

Status Server::Bind() {
  Impl& s = *impl_;
  if (s.options.tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(s.options.cert_file.c_str(), s.options.key_file.c_str());
    if (!ssl->is_valid()) {
      return Error(ErrorCode::kInvalidArgument, "cannot load the TLS certificate " + s.options.cert_file +
                                                    " or key " + s.options.key_file +
                                                    " (run `caliper init` to make them)");
    }
    s.server = std::move(ssl);
  } else {
    if (!IsLoopback(s.options.host)) {
      return Error(ErrorCode::kInvalidArgument, "plain HTTP is allowed only on loopback; enable TLS");
    }
    s.server = std::make_unique<httplib::Server>();
  }
  httplib::Server& srv = *s.server;
  const auto max_threads = static_cast<std::size_t>(s.options.threads);
  // cpp-httplib owns the queue it is given (its API takes a raw pointer).
  srv.new_task_queue = [max_threads] { return new ElasticTaskQueue(8, max_threads); };
  // Small JSON answers must not wait for Nagle + delayed ACK (about 40 ms each).
  srv.set_tcp_nodelay(true);
  srv.set_keep_alive_max_count(static_cast<std::size_t>(s.options.keep_alive_max_requests));
  srv.set_keep_alive_timeout(s.options.keep_alive_seconds);
  srv.set_read_timeout(30, 0);
  srv.set_write_timeout(30, 0);
  srv.set_payload_max_length(std::max(s.options.max_body_bytes, s.options.max_upload_bytes));
  srv.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) { return s.PreRoute(req, res); });
  // cpp-httplib calls its logger once an answer is written (or its write failed).
  srv.set_logger([&s](const httplib::Request&, const httplib::Response&) { s.Finished(); });
  auto dispatch = [&s](const httplib::Request& req, httplib::Response& res) { s.Dispatch(req, res); };
  srv.Get(".*", dispatch);
  srv.Post(".*", dispatch);
  srv.Put(".*", dispatch);
  srv.Patch(".*", dispatch);
  srv.Delete(".*", dispatch);
  srv.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    WriteError(res, Error(ErrorCode::kInternal, "internal error"));
  });
  srv.set_error_handler([&s](const httplib::Request& req, httplib::Response& res) {
    // A handler's own answer (a body, or a content provider: SendAnswer) stays.
    if (!res.body.empty() || res.content_provider_) return;
    s.SetCommonHeaders(req, res);
    ErrorCode code = res.status == 413 ? ErrorCode::kPayloadTooLarge
                     : res.status == 404 ? ErrorCode::kNotFound
                                         : ErrorCode::kInvalidArgument;
    int status = res.status;
    WriteError(res, Error(code, status == 413 ? "" : "bad request"));
    res.status = status;
  });
  if (s.options.port == 0) {
    s.port = srv.bind_to_any_port(s.options.host);
    if (s.port <= 0) return Error(ErrorCode::kUnavailable, "cannot bind to " + s.options.host);
  } else {
    if (!srv.bind_to_port(s.options.host, s.options.port)) {
      return Error(ErrorCode::kUnavailable, "cannot listen on " + s.options.host + ":" +
                                                std::to_string(s.options.port) + " (in use?)");
    }
    s.port = s.options.port;
  }
  RaiseListenBacklog(s.port);
  return Status::Ok();
}

int Server::port() const { return impl_->port; }

Status Server::Run() {
  if (!impl_->server) return Error(ErrorCode::kInternal, "Bind before Run");
  if (!impl_->server->listen_after_bind()) {
    return Error(ErrorCode::kUnavailable, "the server stopped with an error");
  }
  return Status::Ok();
}

void Server::Stop() {
  Impl& s = *impl_;
  if (!s.server) return;
  {
    std::unique_lock<std::mutex> lock(s.drain_mu);
    s.draining = true;
    // Bounded by the write timeout: an answer whose client stopped reading gives up by then.
    s.drained.wait_for(lock, std::chrono::seconds(35), [&s] { return s.in_flight == 0; });
  }
  s.server->stop();
}

std::string DefaultWebRoot() { return CALIPER_DEFAULT_WEB_ROOT; }

std::vector<RouteInfo> AllRoutes() {
  std::vector<RouteInfo> out;
  for (const RegisteredRoute& r : RouteTable()) out.push_back({r.method, r.path, r.permission, r.summary, r.area, r.body_kind != BodyKind::kNone});
  return out;
}

Result<ServerOptions> ServerOptionsFrom(const Config& config, const app::DataPaths& paths,
                                        const std::string& listen) {
  ServerOptions o;
  std::string address = listen.empty() ? config.GetString("server.listen") : listen;
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error(ErrorCode::kInvalidArgument, "listen address must be HOST:PORT, not '" + address + "'");
  }
  o.host = address.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
  try {
    std::size_t used = 0;
    o.port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || o.port < 0 || o.port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Error(ErrorCode::kInvalidArgument, "bad port in listen address '" + address + "'");
  }
  CALIPER_ASSIGN_OR_RETURN(o.tls, config.GetBool("server.tls"));
  if (!o.tls && !IsLoopback(o.host)) {
    return Error(ErrorCode::kInvalidArgument,
                 "plain HTTP (server.tls=false) is allowed only on a loopback address, not " + o.host);
  }
  o.cert_file = config.GetString("tls.cert_file");
  if (o.cert_file.empty()) o.cert_file = paths.tls_dir + "/cert.pem";
  o.key_file = config.GetString("tls.key_file");
  if (o.key_file.empty()) o.key_file = paths.tls_dir + "/key.pem";
  CALIPER_ASSIGN_OR_RETURN(auto threads, config.GetInt("server.threads"));
  CALIPER_ASSIGN_OR_RETURN(auto keep_alive, config.GetInt("server.keep_alive_seconds"));
  CALIPER_ASSIGN_OR_RETURN(auto keep_alive_max, config.GetInt("server.keep_alive_max_requests"));
  CALIPER_ASSIGN_OR_RETURN(auto body, config.GetInt("server.max_body_bytes"));
  CALIPER_ASSIGN_OR_RETURN(auto upload, config.GetInt("server.max_upload_bytes"));
  if (threads < 4 || threads > 4096 || keep_alive < 1 || keep_alive_max < 1 || body < 1024 || upload < body) {
    return Error(ErrorCode::kInvalidArgument,
                 "server.threads must be 4..4096, keep-alive settings positive, max_body_bytes >= 1024 "
                 "and max_upload_bytes >= max_body_bytes");
  }
  o.threads = static_cast<int>(threads);
  o.keep_alive_seconds = static_cast<int>(keep_alive);
  o.keep_alive_max_requests = static_cast<int>(keep_alive_max);
  o.max_body_bytes = static_cast<std::size_t>(body);
  o.max_upload_bytes = static_cast<std::size_t>(upload);
  o.web_root = config.GetString("web.root");
  return o;
}

}  // namespace caliper::http
