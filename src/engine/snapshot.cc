// KV snapshot encoding. See snapshot.h.
#include "engine/snapshot.h"

#include <cstring>

namespace tokki::engine {
namespace {

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <typename T>
  bool Get(T* v) {
    if (b_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (b_.size() - pos_ < n) return false;
    *out = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

}  // namespace

std::string EncodeSnapshot(const Snapshot& s) {
  std::string out;
  out.reserve(64 + s.header.key.size() + s.tokens.size() * 4 + s.state.size());
  out.append(kSnapshotMagic, sizeof(kSnapshotMagic));
  Put<uint32_t>(out, kSnapshotVersion);
  Put<uint64_t>(out, s.header.model_hash);
  Put<uint32_t>(out, s.header.n_ctx);
  Put<uint32_t>(out, static_cast<uint32_t>(s.header.key.size()));
  out += s.header.key;
  Put<uint32_t>(out, static_cast<uint32_t>(s.tokens.size()));
  out.append(reinterpret_cast<const char*>(s.tokens.data()), s.tokens.size() * sizeof(int32_t));
  Put<uint64_t>(out, s.state.size());
  out += s.state;
  Put<uint64_t>(out, Fnv1a64(out));
  return out;
}

Result<Snapshot> DecodeSnapshot(std::string_view bytes, const SnapshotHeader& expect) {
  if (bytes.size() < sizeof(kSnapshotMagic) + 8 ||
      std::memcmp(bytes.data(), kSnapshotMagic, sizeof(kSnapshotMagic)) != 0) {
    return Status::Corruption("not a KV snapshot (bad magic)");
  }
  uint64_t stored_sum = 0;
  std::memcpy(&stored_sum, bytes.data() + bytes.size() - 8, 8);
  if (Fnv1a64(bytes.substr(0, bytes.size() - 8)) != stored_sum) {
    return Status::Corruption("KV snapshot checksum mismatch");
  }
  Reader r(bytes.substr(0, bytes.size() - 8));
  std::string_view skip;
  r.Bytes(sizeof(kSnapshotMagic), &skip);
  Snapshot s;
  uint32_t version = 0, key_len = 0, n_tokens = 0;
  uint64_t state_len = 0;
  std::string_view key, tokens, state;
  if (!r.Get(&version)) return Status::Corruption("KV snapshot truncated");
  if (version != kSnapshotVersion) {
    return Status::Conflict("KV snapshot version " + std::to_string(version) + " (want " +
                            std::to_string(kSnapshotVersion) + ")");
  }
  if (!r.Get(&s.header.model_hash) || !r.Get(&s.header.n_ctx) || !r.Get(&key_len) ||
      !r.Bytes(key_len, &key) || !r.Get(&n_tokens) ||
      !r.Bytes(static_cast<size_t>(n_tokens) * sizeof(int32_t), &tokens) || !r.Get(&state_len) ||
      !r.Bytes(state_len, &state)) {
    return Status::Corruption("KV snapshot truncated");
  }
  s.header.key.assign(key);
  if (s.header.model_hash != expect.model_hash)
    return Status::Conflict("KV snapshot of another model");
  if (s.header.n_ctx != expect.n_ctx)
    return Status::Conflict("KV snapshot of another context size");
  if (s.header.key != expect.key) return Status::Conflict("KV snapshot of another conversation");
  s.tokens.resize(n_tokens);
  std::memcpy(s.tokens.data(), tokens.data(), tokens.size());
  s.state.assign(state);
  return s;
}

}  // namespace tokki::engine
