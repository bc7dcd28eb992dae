// tokki/api/static_files.h — serves the built web app (web/dist): files by path with
// their content type, index.html for any other non-API path (client-side routes), and a
// plain page when no web app is built.
// Thread safety: Serve is thread-safe (reads files per request; the OS caches them).
#pragma once

#include <filesystem>
#include <string>

#include "api/http.h"

namespace tokki::api {

class StaticFiles {
 public:
  explicit StaticFiles(std::string root);
  Response Serve(const Request& req, const std::string& path) const;

 private:
  std::filesystem::path root_;  // canonical; empty when there is no web app
};

}  // namespace tokki::api
