#include "api/response_cache.h"

namespace tokki::api {

std::optional<std::string> ResponseCache::Get(const std::string& key, uint64_t version) {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.version != version) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.body;
}

void ResponseCache::Put(const std::string& key, uint64_t version, std::string body) {
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second.version = version;
    it->second.body = std::move(body);
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(key);
  entries_.emplace(key, Entry{version, std::move(body), lru_.begin()});
  while (entries_.size() > max_entries_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace tokki::api
