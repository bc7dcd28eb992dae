// tokki/engine/snapshot.h — the serialized form of one conversation's KV cache, used by
// the host-RAM and disk tiers of LlamaEngine (see docs/engine.md, "Snapshot format").
//
// Layout (little-endian):
//   magic "TOKKIKV\0" | u32 version | u64 model_hash | u32 n_ctx | u32 key_len | key
//   | u32 n_tokens | i32 tokens[n_tokens] | u64 state_len | state bytes (llama.cpp's
//   llama_state_seq_get_data) | u64 FNV-1a-64 of everything before
// A snapshot whose magic, version, model hash, n_ctx, key or checksum does not match is
// rejected with kCorruption / kConflict; the caller recomputes the prompt instead.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"  // Fnv1a64, the snapshot checksum
#include "core/result.h"
#include "core/status.h"

namespace tokki::engine {

inline constexpr char kSnapshotMagic[8] = {'T', 'O', 'K', 'K', 'I', 'K', 'V', '\0'};
inline constexpr uint32_t kSnapshotVersion = 1;

struct SnapshotHeader {
  uint64_t model_hash = 0;
  uint32_t n_ctx = 0;
  std::string key;  // conversation key
};

struct Snapshot {
  SnapshotHeader header;
  std::vector<int32_t> tokens;  // token ids held in the KV state, in position order
  std::string state;            // opaque llama.cpp sequence state
};

std::string EncodeSnapshot(const Snapshot& snapshot);

// Checks the magic, version, checksum, and that the header matches `expect`.
Result<Snapshot> DecodeSnapshot(std::string_view bytes, const SnapshotHeader& expect);

}  // namespace tokki::engine
