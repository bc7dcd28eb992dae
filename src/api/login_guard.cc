#include "api/login_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <list>
#include <unordered_map>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"

namespace tokki::api {
namespace {

// A map that keeps at most `max` keys, dropping the least recently used.
template <typename V>
class LruTable {
 public:
  explicit LruTable(size_t max) : max_(std::max<size_t>(max, 1)) {}

  V* Find(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return &it->second.value;
  }

  // The value for `key`, made when missing. References stay valid until that key is
  // erased or evicted; the key just returned is the most recent, so it is evicted last.
  V& Get(const std::string& key) {
    if (V* v = Find(key)) return *v;
    lru_.push_front(key);
    auto& slot = map_[key];
    slot.lru = lru_.begin();
    while (map_.size() > max_) {
      map_.erase(lru_.back());
      lru_.pop_back();
    }
    return slot.value;
  }

  void Erase(const std::string& key) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    lru_.erase(it->second.lru);
    map_.erase(it);
  }

  size_t size() const { return map_.size(); }

 private:
  struct Slot {
    V value{};
    std::list<std::string>::iterator lru;
  };
  const size_t max_;
  std::unordered_map<std::string, Slot> map_;
  std::list<std::string> lru_;  // most recent first
};

int64_t SteadyNowMs() { return NowSteadyUs() / 1000; }

template <typename Options>
Options WithClock(Options o) {
  if (!o.now_ms) o.now_ms = SteadyNowMs;
  return o;
}

// Keys longer than this are replaced by a hash, so a flood of huge names cannot use much
// memory (a real username or address is far shorter).
constexpr size_t kMaxKeyBytes = 64;

std::string BoundedKey(std::string_view s) {
  if (s.size() <= kMaxKeyBytes) return std::string(s);
  char out[32];
  std::snprintf(out, sizeof out, "#%016zx", std::hash<std::string_view>()(s));
  return out;
}

std::string WaitText(int64_t seconds) {
  if (seconds >= 120) return std::to_string((seconds + 59) / 60) + " minutes";
  return std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
}

int64_t CeilSeconds(int64_t ms) { return std::max<int64_t>(1, (ms + 999) / 1000); }

// Failures at one level: (account, address), address, or account.
struct Counter {
  int failures = 0;
  int in_flight = 0;
  int64_t last_failure_ms = 0;
};

}  // namespace

std::string AddressKey(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return BoundedKey(address);
  std::string host(address.substr(0, std::min(address.find('%'), size_t{64})));  // no zone
  if (!host.empty() && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned char b[16];
  if (inet_pton(AF_INET6, host.c_str(), b) != 1) return BoundedKey(address);
  static const unsigned char kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[64];
  if (std::memcmp(b, kV4Mapped, sizeof kV4Mapped) == 0) {
    std::snprintf(out, sizeof out, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
  } else {
    std::snprintf(out, sizeof out, "%x:%x:%x:%x::/64", (b[0] << 8) | b[1], (b[2] << 8) | b[3],
                  (b[4] << 8) | b[5], (b[6] << 8) | b[7]);
  }
  return out;
}

// ---- LoginGuard

struct LoginGuard::State {
  explicit State(size_t max) : pairs(max), addresses(max), accounts(max), known(max) {}
  Mutex mu;
  LruTable<Counter> pairs TOKKI_GUARDED_BY(mu);      // key: PairKey
  LruTable<Counter> addresses TOKKI_GUARDED_BY(mu);  // key: AddressKey
  LruTable<Counter> accounts TOKKI_GUARDED_BY(mu);
  LruTable<int64_t> known TOKKI_GUARDED_BY(mu);  // PairKey → last success (ms)
};

namespace {

std::string PairKey(const std::string& account, const std::string& address) {
  return account + '\x1f' + address;
}

int64_t Backoff(const LoginGuardOptions& o, int n_over) {
  int64_t ms = o.first_backoff_ms;
  for (int i = 0; i < n_over && ms < o.max_backoff_ms; ++i) ms *= 2;
  return std::min(ms, o.max_backoff_ms);
}

// Failures are forgotten `window_ms` after the wait that the last one caused.
void Refresh(const LoginGuardOptions& o, int free, int64_t now, Counter& c) {
  if (c.failures == 0) return;
  int64_t wait = c.failures >= free && free > 0 ? Backoff(o, c.failures - free) : 0;
  if (now - c.last_failure_ms >= wait + o.window_ms) c.failures = 0;
}

// How long an attempt must wait at one level; 0 = it may go. A level with free <= 0 is off.
int64_t WaitMs(const LoginGuardOptions& o, int free, int64_t now, const Counter& c) {
  if (free <= 0 || c.failures + c.in_flight < free) return 0;
  int64_t wait = 0;
  if (c.failures >= free) wait = c.last_failure_ms + Backoff(o, c.failures - free) - now;
  // The free attempts are taken by attempts still in flight, or past them one is already
  // running: wait for its outcome.
  if (c.in_flight > 0) wait = std::max(wait, o.first_backoff_ms);
  return std::max<int64_t>(wait, 0);
}

}  // namespace

LoginGuard::LoginGuard(LoginGuardOptions options)
    : options_(WithClock(std::move(options))),
      state_(std::make_unique<State>(options_.max_entries)) {}

LoginGuard::~LoginGuard() = default;

Result<LoginGuard::Ticket> LoginGuard::Begin(std::string_view account, std::string_view address,
                                             int64_t* retry_after_s) {
  const LoginGuardOptions& o = options_;
  std::string account_key = BoundedKey(account);
  std::string address_key = AddressKey(address);
  std::string pair_key = PairKey(account_key, address_key);
  MutexLock lock(&state_->mu);
  const int64_t now = o.now_ms();
  bool known = false;
  if (int64_t* last_success = state_->known.Find(pair_key)) {
    known = now - *last_success < o.known_pair_ttl_ms;
    if (!known) state_->known.Erase(pair_key);
  }
  Counter& pair = state_->pairs.Get(pair_key);
  Counter& addr = state_->addresses.Get(address_key);
  Counter& acct = state_->accounts.Get(account_key);
  Refresh(o, o.free_failures, now, pair);
  Refresh(o, o.address_free_failures, now, addr);
  Refresh(o, o.account_free_failures, now, acct);
  int64_t wait = WaitMs(o, o.free_failures, now, pair);
  if (!known)
    wait = std::max({wait, WaitMs(o, o.address_free_failures, now, addr),
                     WaitMs(o, o.account_free_failures, now, acct)});
  if (wait > 0) {
    int64_t s = CeilSeconds(wait);
    if (retry_after_s != nullptr) *retry_after_s = s;
    return Status::ResourceExhausted("too many failed sign-in attempts; try again in " +
                                     WaitText(s));
  }
  ++pair.in_flight;
  ++addr.in_flight;
  ++acct.in_flight;
  Ticket t;
  t.guard_ = this;
  t.account_ = std::move(account_key);
  t.address_ = std::move(address_key);
  return t;
}

void LoginGuard::Finish(const Ticket& t, bool ok) {
  const LoginGuardOptions& o = options_;
  std::string pair_key = PairKey(t.account_, t.address_);
  MutexLock lock(&state_->mu);
  const int64_t now = o.now_ms();
  struct Level {
    LruTable<Counter>* table;
    const std::string* key;
    int free;
  };
  const Level levels[] = {{&state_->pairs, &pair_key, o.free_failures},
                          {&state_->addresses, &t.address_, o.address_free_failures},
                          {&state_->accounts, &t.account_, o.account_free_failures}};
  for (const Level& l : levels) {
    // Get, not Find, for a failure: if a flood evicted the entry meanwhile, it still counts.
    Counter* c = ok ? l.table->Find(*l.key) : &l.table->Get(*l.key);
    if (c == nullptr) continue;
    if (c->in_flight > 0) --c->in_flight;
    if (ok) continue;
    Refresh(o, l.free, now, *c);
    ++c->failures;
    c->last_failure_ms = now;
  }
  if (ok) {
    if (Counter* pair = state_->pairs.Find(pair_key)) pair->failures = 0;
    state_->known.Get(pair_key) = now;
  }
}

size_t LoginGuard::n_entries() const {
  MutexLock lock(&state_->mu);
  return state_->pairs.size() + state_->addresses.size() + state_->accounts.size() +
         state_->known.size();
}

LoginGuard::Ticket::Ticket(Ticket&& other) noexcept
    : guard_(std::exchange(other.guard_, nullptr)),
      account_(std::move(other.account_)),
      address_(std::move(other.address_)) {}

LoginGuard::Ticket& LoginGuard::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Resolve(false);
    guard_ = std::exchange(other.guard_, nullptr);
    account_ = std::move(other.account_);
    address_ = std::move(other.address_);
  }
  return *this;
}

LoginGuard::Ticket::~Ticket() { Resolve(false); }
void LoginGuard::Ticket::Succeed() { Resolve(true); }
void LoginGuard::Ticket::Fail() { Resolve(false); }

void LoginGuard::Ticket::Resolve(bool ok) {
  if (guard_ == nullptr) return;
  guard_->Finish(*this, ok);
  guard_ = nullptr;
}

// ---- SignupLimiter

namespace {
struct Signups {
  std::deque<int64_t> made_ms;  // within the window, oldest first; at most the limit
  int in_flight = 0;
};
}  // namespace

struct SignupLimiter::State {
  explicit State(size_t max) : addresses(max) {}
  Mutex mu;
  LruTable<Signups> addresses TOKKI_GUARDED_BY(mu);  // key: AddressKey
};

SignupLimiter::SignupLimiter(SignupLimiterOptions options)
    : options_(WithClock(std::move(options))),
      state_(std::make_unique<State>(options_.max_entries)) {}

SignupLimiter::~SignupLimiter() = default;

Result<SignupLimiter::Ticket> SignupLimiter::Begin(std::string_view address,
                                                   int64_t* retry_after_s) {
  Ticket t;
  if (options_.max_per_window <= 0) return t;  // unlimited: nothing to record
  std::string key = AddressKey(address);
  MutexLock lock(&state_->mu);
  const int64_t now = options_.now_ms();
  Signups& s = state_->addresses.Get(key);
  while (!s.made_ms.empty() && now - s.made_ms.front() >= options_.window_ms) s.made_ms.pop_front();
  const size_t limit = static_cast<size_t>(options_.max_per_window);
  if (s.made_ms.size() + static_cast<size_t>(s.in_flight) >= limit) {
    // Full with accounts made: until the oldest leaves the window. Full only because
    // sign-ups are in flight: they may yet fail, so ask again shortly.
    int64_t wait_ms =
        s.made_ms.size() >= limit ? s.made_ms.front() + options_.window_ms - now : 1000;
    int64_t sec = CeilSeconds(wait_ms);
    if (retry_after_s != nullptr) *retry_after_s = sec;
    return Status::ResourceExhausted("too many accounts created from this address; try again in " +
                                     WaitText(sec));
  }
  ++s.in_flight;
  t.limiter_ = this;
  t.address_ = std::move(key);
  return t;
}

void SignupLimiter::Finish(const Ticket& t, bool made) {
  MutexLock lock(&state_->mu);
  Signups& s = state_->addresses.Get(t.address_);
  if (s.in_flight > 0) --s.in_flight;
  if (made) s.made_ms.push_back(options_.now_ms());
}

size_t SignupLimiter::n_entries() const {
  MutexLock lock(&state_->mu);
  return state_->addresses.size();
}

SignupLimiter::Ticket::Ticket(Ticket&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)), address_(std::move(other.address_)) {}

SignupLimiter::Ticket& SignupLimiter::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Resolve(false);
    limiter_ = std::exchange(other.limiter_, nullptr);
    address_ = std::move(other.address_);
  }
  return *this;
}

SignupLimiter::Ticket::~Ticket() { Resolve(false); }
void SignupLimiter::Ticket::Commit() { Resolve(true); }

void SignupLimiter::Ticket::Resolve(bool made) {
  if (limiter_ == nullptr) return;
  limiter_->Finish(*this, made);
  limiter_ = nullptr;
}

}  // namespace tokki::api
