// tokki/persona/charx.h — internal: reading and writing CHARX (zip) archives with libzip.
// Not part of the public API. Thread safety: a CharxReader is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tokki::persona::internal {

inline bool LooksLikeZip(std::string_view bytes) {
  return bytes.size() >= 4 && bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4);
}

// Opens a zip held in memory and checks every entry up front: entry count, unsafe
// paths (absolute, "..", backslashes, drive letters), encryption, declared sizes and
// compression ratios. Reads then enforce the per-entry and total byte limits on the
// actual decompressed data, whatever the headers claim.
class CharxReader {
 public:
  // `bytes` must outlive the reader.
  static Result<std::unique_ptr<CharxReader>> Open(std::string_view bytes);
  ~CharxReader();

  bool Has(std::string_view name) const;
  Result<std::string> Read(std::string_view name);
  const std::vector<std::string>& names() const { return names_; }

 private:
  CharxReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> names_;
  size_t n_bytes_read_ = 0;
};

// Writes a zip with the given (path, data) files, deflated.
Result<std::string> WriteZip(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace tokki::persona::internal
