#include "persona/charx.h"

#include <zip.h>

#include <cstdio>

#include "persona/card.h"

namespace tokki::persona::internal {
namespace {

bool IsUnsafePath(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find(':') != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

struct CharxReader::Impl {
  zip_t* archive = nullptr;
  ~Impl() {
    if (archive != nullptr) zip_discard(archive);
  }
};

CharxReader::~CharxReader() = default;

Result<std::unique_ptr<CharxReader>> CharxReader::Open(std::string_view bytes) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    zip_error_fini(&err);
    return Status::Internal("zip_source_buffer_create failed");
  }
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY, &err);
  if (za == nullptr) {
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    zip_source_free(src);
    return Status::InvalidArgument("broken CHARX (zip) file: " + msg);
  }
  zip_error_fini(&err);
  std::unique_ptr<CharxReader> r(new CharxReader());
  r->impl_ = std::make_unique<Impl>();
  r->impl_->archive = za;

  zip_int64_t n = zip_get_num_entries(za, 0);
  if (n < 0) return Status::InvalidArgument("broken CHARX (zip) file: no entry table");
  if (static_cast<uint64_t>(n) > kMaxZipEntries)
    return Status::TooLarge("CHARX has " + std::to_string(n) + " entries; the limit is " +
                            std::to_string(kMaxZipEntries));
  uint64_t declared_total = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(za, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        !(st.valid & ZIP_STAT_NAME))
      return Status::InvalidArgument("broken CHARX (zip) file: unreadable entry " +
                                     std::to_string(i));
    std::string name = st.name;
    if (IsUnsafePath(name))
      return Status::InvalidArgument("CHARX entry '" + name + "' has an unsafe path");
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      return Status::InvalidArgument("CHARX entry '" + name + "' is encrypted");
    if (st.valid & ZIP_STAT_SIZE) {
      if (st.size > kMaxZipEntryBytes)
        return Status::TooLarge("CHARX entry '" + name + "' unpacks to " + std::to_string(st.size) +
                                " bytes; the limit is " + std::to_string(kMaxZipEntryBytes));
      declared_total += st.size;
      if ((st.valid & ZIP_STAT_COMP_SIZE) && st.size > (64u << 10) &&
          st.size / std::max<zip_uint64_t>(st.comp_size, 1) > kMaxZipRatio)
        return Status::InvalidArgument("CHARX entry '" + name +
                                       "' has a suspicious compression ratio (zip bomb?)");
    }
    r->names_.push_back(std::move(name));
  }
  if (declared_total > kMaxZipTotalBytes)
    return Status::TooLarge("CHARX unpacks to " + std::to_string(declared_total) +
                            " bytes; the limit is " + std::to_string(kMaxZipTotalBytes));
  return r;
}

bool CharxReader::Has(std::string_view name) const {
  for (const auto& n : names_)
    if (n == name) return true;
  return false;
}

Result<std::string> CharxReader::Read(std::string_view name) {
  std::string key(name);
  zip_int64_t idx = zip_name_locate(impl_->archive, key.c_str(), 0);
  if (idx < 0) return Status::InvalidArgument("CHARX has no entry '" + key + "'");
  zip_stat_t st;
  if (zip_stat_index(impl_->archive, static_cast<zip_uint64_t>(idx), 0, &st) != 0)
    return Status::InvalidArgument("CHARX entry '" + key + "' is unreadable");
  zip_file_t* f = zip_fopen_index(impl_->archive, static_cast<zip_uint64_t>(idx), 0);
  if (f == nullptr)
    return Status::InvalidArgument("CHARX entry '" + key +
                                   "' cannot be opened: " + zip_strerror(impl_->archive));
  std::string out;
  char buf[64 * 1024];
  Status status;
  while (true) {
    zip_int64_t got = zip_fread(f, buf, sizeof(buf));
    if (got < 0) {
      status =
          Status::InvalidArgument("CHARX entry '" + key + "' is corrupt: " + zip_file_strerror(f));
      break;
    }
    if (got == 0) break;
    out.append(buf, static_cast<size_t>(got));
    n_bytes_read_ += static_cast<size_t>(got);
    if (out.size() > kMaxZipEntryBytes || ((st.valid & ZIP_STAT_SIZE) && out.size() > st.size)) {
      status = Status::TooLarge("CHARX entry '" + key + "' unpacks to more than its limit");
      break;
    }
    if (n_bytes_read_ > kMaxZipTotalBytes) {
      status = Status::TooLarge("CHARX unpacks to more than " + std::to_string(kMaxZipTotalBytes) +
                                " bytes");
      break;
    }
  }
  zip_fclose(f);
  if (!status.ok()) return status;
  return out;
}

Result<std::string> WriteZip(const std::vector<std::pair<std::string, std::string>>& files) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  if (src == nullptr) {
    zip_error_fini(&err);
    return Status::Internal("zip_source_buffer_create failed");
  }
  zip_t* za = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  if (za == nullptr) {
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    zip_source_free(src);
    return Status::Internal("cannot create zip: " + msg);
  }
  zip_error_fini(&err);
  zip_source_keep(src);
  for (const auto& [path, data] : files) {
    zip_source_t* fs = zip_source_buffer(za, data.data(), data.size(), 0);
    if (fs == nullptr || zip_file_add(za, path.c_str(), fs, ZIP_FL_ENC_UTF_8) < 0) {
      if (fs != nullptr) zip_source_free(fs);
      std::string msg = zip_strerror(za);
      zip_discard(za);
      zip_source_free(src);
      return Status::Internal("cannot add '" + path + "' to zip: " + msg);
    }
  }
  if (zip_close(za) != 0) {
    std::string msg = zip_strerror(za);
    zip_discard(za);
    zip_source_free(src);
    return Status::Internal("cannot write zip: " + msg);
  }
  std::string out;
  if (zip_source_open(src) != 0) {
    zip_source_free(src);
    return Status::Internal("cannot read back zip");
  }
  zip_source_seek(src, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  out.resize(size > 0 ? static_cast<size_t>(size) : 0);
  zip_int64_t got = size > 0 ? zip_source_read(src, out.data(), out.size()) : 0;
  zip_source_close(src);
  zip_source_free(src);
  if (got != size) return Status::Internal("cannot read back zip");
  return out;
}

}  // namespace tokki::persona::internal
