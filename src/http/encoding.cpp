#include "http/encoding.h"

#include <span>

#include "caliper/ingest/nifti_io.h"

namespace caliper::http {
namespace {

// Smaller answers are not worth the gzip header and the work.
constexpr std::size_t kGzipFrom = 1024;

bool Compressible(std::string_view content_type) {
  return content_type.rfind("application/json", 0) == 0 || content_type.rfind("text/", 0) == 0;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::size_t start = 0;
  while (start < accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', start);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string_view item = accept_encoding.substr(start, end - start);
    start = end + 1;
    const std::size_t first = item.find_first_not_of(' ');
    if (first == std::string_view::npos) continue;
    item.remove_prefix(first);
    if (item.rfind("gzip", 0) != 0) continue;
    std::string_view rest = item.substr(4);
    const std::size_t q = rest.find("q=");
    if (q == std::string_view::npos) return rest.find_first_not_of(" ;") == std::string_view::npos;
    rest.remove_prefix(q + 2);
    return !(rest.rfind("0", 0) == 0 && rest.find_first_not_of("0.") == std::string_view::npos);
  }
  return false;
}

void SendBytes(httplib::Response& res, std::shared_ptr<const std::string> bytes, const std::string& content_type,
               bool gzipped) {
  if (gzipped) res.set_header("Content-Encoding", "gzip");
  const std::size_t size = bytes->size();
  res.set_content_provider(size, content_type,
                           [bytes = std::move(bytes)](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             return sink.write(bytes->data() + offset, length);
                           });
}

void SendAnswer(httplib::Response& res, std::string body, const std::string& content_type,
                std::string_view accept_encoding) {
  const bool text = Compressible(content_type);
  if (text) res.set_header("Vary", "Accept-Encoding");
  if (text && body.size() >= kGzipFrom && AcceptsGzip(accept_encoding)) {
    auto gz = ingest::Gzip(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
    if (gz.ok()) {
      return SendBytes(res, std::make_shared<const std::string>(gz->begin(), gz->end()), content_type, true);
    }
  }
  SendBytes(res, std::make_shared<const std::string>(std::move(body)), content_type, false);
}

}  // namespace caliper::http
