#include "api/static_files.h"

#include <fstream>
#include <sstream>

namespace tokki::api {

namespace {
std::string_view MimeType(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".webmanifest") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

bool ReadFile(const std::filesystem::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

constexpr const char* kNoWebApp =
    "<!doctype html><meta charset=utf-8><title>Tokki</title>"
    "<h1>Tokki is running</h1><p>The web app is not built. Run <code>make run</code> "
    "from the source tree (it builds <code>web/dist</code>), or use the API under "
    "<code>/api/</code>.</p>";
// The web app's policy: its own scripts and styles only (inline styles for the framework's
// style attributes), images from itself, data: and blob: (avatars being cropped), never framed.
constexpr const char* kAppCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";
}  // namespace

// True when some part of the path starts with a dot: a dotfile, "." or "..".
static bool HasDotPart(const std::string& rel) {
  for (auto& part : std::filesystem::path(rel)) {
    std::string p = part.string();
    if (!p.empty() && p[0] == '.') return true;
  }
  return false;
}

std::optional<std::filesystem::path> StaticFiles::InsideRoot(const std::string& rel) const {
  if (HasDotPart(rel)) return std::nullopt;
  std::error_code ec;
  auto candidate = std::filesystem::weakly_canonical(root_ / rel, ec);
  if (ec) return std::nullopt;
  // Containment by path components, not by string prefix ("/srv/www-private" is not in "/srv/www").
  auto r = root_.begin();
  auto c = candidate.begin();
  for (; r != root_.end(); ++r, ++c)
    if (c == candidate.end() || *r != *c) return std::nullopt;
  return candidate;
}

StaticFiles::StaticFiles(std::string root) {
  std::error_code ec;
  if (!root.empty() && std::filesystem::exists(std::filesystem::path(root) / "index.html", ec))
    root_ = std::filesystem::canonical(root, ec);
}

Response StaticFiles::Serve(const Request& req, const std::string& path) const {
  Response res{http::status::ok, req.version()};
  res.set(http::field::server, "tokki");
  res.keep_alive(req.keep_alive());
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return ErrorResponse(req, http::status::method_not_allowed, "method_not_allowed",
                         "static files are read-only");
  }
  if (root_.empty()) {
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.body() = kNoWebApp;
    res.prepare_payload();
    return res;
  }
  std::error_code ec;
  std::string rel = path.empty() || path == "/" ? "index.html" : UrlDecode(path.substr(1));
  std::string body;
  std::filesystem::path served;
  auto candidate = InsideRoot(rel);
  if (candidate && std::filesystem::is_regular_file(*candidate, ec) && ReadFile(*candidate, &body)) {
    served = *candidate;
  } else if (!std::filesystem::path(rel).has_extension() && !HasDotPart(rel) &&
             ReadFile(root_ / "index.html", &body)) {
    served = root_ / "index.html";  // client-side route
  } else {
    return ErrorResponse(req, http::status::not_found, "not_found", "no such file");
  }
  res.set(http::field::content_type, MimeType(served));
  // Vite puts content hashes in asset names: cache those for long.
  if (served.parent_path().filename() == "assets")
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");
  else
    res.set(http::field::cache_control, "no-cache");
  if (served.extension() == ".html") res.set("Content-Security-Policy", kAppCsp);
  ApplySecurityHeaders(res);
  if (req.method() == http::verb::head) {
    res.content_length(body.size());
  } else {
    res.body() = std::move(body);
    res.prepare_payload();
  }
  return res;
}

}  // namespace tokki::api
