// tokki/api/static_files.h — serves the built web app (web/dist): files by path with
// their content type, index.html for any other non-API path (client-side routes), and a
// plain page when no web app is built.
// Paths are contained by components after canonicalization; nothing whose name starts
// with a dot is served. HTML carries the app's Content-Security-Policy.
// Thread safety: Serve is thread-safe (reads files per request; the OS caches them).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "api/http.h"

namespace tokki::api {

class StaticFiles {
 public:
  explicit StaticFiles(std::string root);
  Response Serve(const Request& req, const std::string& path) const;

 private:
  // root_/rel when it stays inside the root and names no dotfile; nullopt otherwise.
  std::optional<std::filesystem::path> InsideRoot(const std::string& rel) const;

  std::filesystem::path root_;  // canonical; empty when there is no web app
};

}  // namespace tokki::api
