// tokki/api/response_cache.h — a small cache of serialized JSON bodies for hot read-only
// routes (the character list). Entries carry the catalog version they were built from;
// any character write bumps the version, so a stale entry is never served.
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/mutex.h"
#include "core/thread_annotations.h"

namespace tokki::api {

class ResponseCache {
 public:
  explicit ResponseCache(size_t max_entries = 2048) : max_entries_(max_entries) {}

  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  void Invalidate() { version_.fetch_add(1, std::memory_order_acq_rel); }

  std::optional<std::string> Get(const std::string& key, uint64_t version);
  void Put(const std::string& key, uint64_t version, std::string body);

 private:
  struct Entry {
    uint64_t version;
    std::string body;
    std::list<std::string>::iterator lru;
  };
  const size_t max_entries_;
  std::atomic<uint64_t> version_{1};
  Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ TOKKI_GUARDED_BY(mu_);
  std::list<std::string> lru_ TOKKI_GUARDED_BY(mu_);  // most recent first
};

}  // namespace tokki::api
