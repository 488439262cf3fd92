#pragma once

// How the server sends a body: gzipped by us for a client that takes gzip, or as it is, but
// never compressed by cpp-httplib itself. Debian's cpp-httplib compresses every text answer
// with Brotli at quality 11 when the client takes `br` (every browser over HTTPS): about
// 0.5 MB/s, 0.39 s for the 221 KB OpenAPI document against 0.02 s gzipped (docs/api.md,
// "Compression"). Internal to http.

#include <httplib.h>

#include <memory>
#include <string>
#include <string_view>

namespace caliper::http {

// Whether an Accept-Encoding header names gzip (and does not refuse it with q=0).
bool AcceptsGzip(std::string_view accept_encoding);

// Sets `bytes` as the body: a content provider of known length, which cpp-httplib sends as it
// is. `gzipped`: they are a gzip stream (Content-Encoding: gzip).
void SendBytes(httplib::Response& res, std::shared_ptr<const std::string> bytes, const std::string& content_type,
               bool gzipped);

// An API answer: JSON or text of at least 1 KiB goes gzipped (zlib level 6) to a client whose
// Accept-Encoding names gzip (with Vary: Accept-Encoding); anything else as it is.
void SendAnswer(httplib::Response& res, std::string body, const std::string& content_type,
                std::string_view accept_encoding);

}  // namespace caliper::http
