#include "api/limits.h"

namespace tokki::api {

bool KeyedCounter::TryAcquire(const std::string& key) {
  MutexLock lock(&mu_);
  int& n = counts_[key];
  if (cap_ > 0 && n >= cap_) {
    if (n == 0) counts_.erase(key);
    return false;
  }
  ++n;
  return true;
}

void KeyedCounter::Release(const std::string& key) {
  MutexLock lock(&mu_);
  auto it = counts_.find(key);
  if (it == counts_.end()) return;
  if (--it->second <= 0) counts_.erase(it);
}

int KeyedCounter::Count(const std::string& key) const {
  MutexLock lock(&mu_);
  auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

KeyedSlot AcquireSlot(KeyedCounter* counter, const std::string& key) {
  if (!counter->TryAcquire(key)) return KeyedSlot();
  return KeyedSlot(counter, key);
}

bool ByteBudget::TryTake(size_t n) {
  size_t cur = in_use_.load();
  for (;;) {
    if (cur + n > max_bytes_) return false;
    if (in_use_.compare_exchange_weak(cur, cur + n)) return true;
  }
}

}  // namespace tokki::api
