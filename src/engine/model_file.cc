// See model_file.h.
#include "engine/model_file.h"

#include <gguf.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/hash.h"

namespace tokki::engine {

namespace fs = std::filesystem;

uint64_t HashModelFile(const std::string& path, uint64_t size) {
  std::ifstream f(path, std::ios::binary);
  const size_t kChunk = 1 << 20;
  std::string buf(std::min<uint64_t>(kChunk, size), '\0');
  f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  uint64_t h = Fnv1a64(std::string_view(reinterpret_cast<const char*>(&size), sizeof(size)));
  h = Fnv1a64(buf, h);
  if (size > kChunk) {
    f.seekg(static_cast<std::streamoff>(size - std::min<uint64_t>(kChunk, size)));
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h = Fnv1a64(buf, h);
  }
  return h;
}

Status CheckModelFile(const std::string& path, int64_t max_bytes, uint64_t* size_out) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("model file not found: " + path);
  if (!fs::is_regular_file(path, ec)) return Status::InvalidArgument("not a file: " + path);
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Status::Unavailable("cannot stat " + path + ": " + ec.message());
  *size_out = size;
  char magic[4] = {};
  {
    std::ifstream f(path, std::ios::binary);
    f.read(magic, 4);
    if (f.gcount() != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
      return Status::InvalidArgument("not a GGUF model file: " + path);
    }
  }
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), params);
  if (!g) return Status::Corruption("corrupt or truncated GGUF header: " + path);
  uint64_t end = gguf_get_data_offset(g);
  for (int64_t i = 0; i < gguf_get_n_tensors(g); ++i) {
    end = std::max<uint64_t>(
        end, gguf_get_data_offset(g) + gguf_get_tensor_offset(g, i) + gguf_get_tensor_size(g, i));
  }
  const int64_t arch_id = gguf_find_key(g, "general.architecture");
  std::string arch = arch_id >= 0 && gguf_get_kv_type(g, arch_id) == GGUF_TYPE_STRING
                         ? gguf_get_val_str(g, arch_id)
                         : "";
  const int64_t n_tensors = gguf_get_n_tensors(g);
  gguf_free(g);
  if (arch.empty())
    return Status::InvalidArgument("GGUF file has no general.architecture: " + path);
  if (n_tensors == 0)
    return Status::InvalidArgument("GGUF file has no weights (vocab only?): " + path);
  if (end > size) {
    return Status::Corruption("truncated model file: " + path + " has " + std::to_string(size) +
                              " bytes, its tensors need " + std::to_string(end));
  }
  if (max_bytes <= 0) {
    const int64_t pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    max_bytes = pages > 0 && page > 0 ? pages / 5 * 4 * page : 0;
  }
  if (max_bytes > 0 && static_cast<int64_t>(size) > max_bytes) {
    return Status::TooLarge("model of " + std::to_string(size >> 20) + " MiB exceeds the " +
                            std::to_string(max_bytes >> 20) + " MiB allowed on this machine");
  }
  return Status::Ok();
}

std::string MetaString(const llama_model* model, const char* key) {
  char buf[512];
  const int n = llama_model_meta_val_str(model, key, buf, sizeof(buf));
  return n >= 0 ? std::string(buf) : std::string();
}

}  // namespace tokki::engine
