// tokki/core/hash.h — the project's one copy of its small non-cryptographic hashes and
// seeded random numbers: FNV-1a (64-bit) over bytes, the SplitMix64 finaliser that spreads
// bits, and a SplitMix64 generator. Deterministic across platforms; never for secrets.
//
// Thread safety: pure functions; a SplitMix64 object is not shared between threads.
#pragma once

#include <cstdint>
#include <string_view>

namespace tokki {

inline constexpr uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ull;
inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;  // SplitMix64's increment

// FNV-1a over `data`, starting from `seed` (chain calls by passing the last result).
constexpr uint64_t Fnv1a64(std::string_view data, uint64_t seed = kFnv1aOffsetBasis) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// SplitMix64's finaliser: every input bit affects every output bit.
constexpr uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// SplitMix64: small, fast and fully determined by its seed.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix64(state_ += kGoldenGamma); }
  // Uniform in [0, 1) with 53 random bits.
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

}  // namespace tokki
