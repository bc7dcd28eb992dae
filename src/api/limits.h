// tokki/api/limits.h — the server's shared budgets: open things counted per key against a
// cap (connections per client address, event streams per user) and a byte budget (request
// bodies being read at once). Each is acquired before the work and released by an RAII
// holder, so no early return can leak a slot.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <unordered_map>

#include "core/mutex.h"
#include "core/thread_annotations.h"

namespace tokki::api {

class KeyedCounter {
 public:
  explicit KeyedCounter(int cap) : cap_(cap) {}
  // Takes one slot of `key`; false (and nothing taken) when the key is at its cap.
  // A cap <= 0 means unlimited.
  bool TryAcquire(const std::string& key);
  void Release(const std::string& key);
  int Count(const std::string& key) const;
  int cap() const { return cap_; }

 private:
  const int cap_;
  mutable Mutex mu_;
  std::unordered_map<std::string, int> counts_ TOKKI_GUARDED_BY(mu_);
};

// One slot of a KeyedCounter, released on destruction (empty when not acquired).
class KeyedSlot {
 public:
  KeyedSlot() = default;
  KeyedSlot(KeyedCounter* counter, std::string key) : counter_(counter), key_(std::move(key)) {}
  KeyedSlot(KeyedSlot&& o) noexcept : counter_(o.counter_), key_(std::move(o.key_)) { o.counter_ = nullptr; }
  KeyedSlot& operator=(KeyedSlot&& o) noexcept {
    if (this != &o) {
      Reset();
      counter_ = o.counter_;
      key_ = std::move(o.key_);
      o.counter_ = nullptr;
    }
    return *this;
  }
  ~KeyedSlot() { Reset(); }
  void Reset() {
    if (counter_) counter_->Release(key_);
    counter_ = nullptr;
  }
  explicit operator bool() const { return counter_ != nullptr; }

 private:
  KeyedCounter* counter_ = nullptr;
  std::string key_;
};

// Takes `key`'s slot or returns an empty holder at the cap.
KeyedSlot AcquireSlot(KeyedCounter* counter, const std::string& key);

class ByteBudget {
 public:
  explicit ByteBudget(size_t max_bytes) : max_bytes_(max_bytes) {}
  // Takes `n` bytes of the budget; false (and nothing taken) when that would exceed it.
  bool TryTake(size_t n);
  void Give(size_t n) { in_use_.fetch_sub(n); }
  size_t in_use() const { return in_use_.load(); }

 private:
  const size_t max_bytes_;
  std::atomic<size_t> in_use_{0};
};

// Bytes taken from a ByteBudget, given back on destruction.
class BudgetHold {
 public:
  BudgetHold() = default;
  BudgetHold(ByteBudget* budget, size_t n) : budget_(budget), n_(n) {}
  BudgetHold(BudgetHold&& o) noexcept : budget_(o.budget_), n_(o.n_) { o.budget_ = nullptr; }
  BudgetHold& operator=(BudgetHold&& o) noexcept {
    if (this != &o) {
      if (budget_) budget_->Give(n_);
      budget_ = o.budget_;
      n_ = o.n_;
      o.budget_ = nullptr;
    }
    return *this;
  }
  ~BudgetHold() {
    if (budget_) budget_->Give(n_);
  }

 private:
  ByteBudget* budget_ = nullptr;
  size_t n_ = 0;
};

}  // namespace tokki::api
