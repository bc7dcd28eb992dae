// tokki/api/login_guard.h — throttling of password sign-ins (LoginGuard) and of account
// creation (SignupLimiter).
//
// LoginGuard counts failed sign-ins at three levels and answers ResourceExhausted with a
// wait (retry_after_s) once a level is past its free failures:
//
//   level                  free failures        applies to
//   (account, address)     5                    every attempt on that pair
//   address                100, all accounts    pairs that never signed in successfully
//   account                50, all addresses    pairs that never signed in successfully
//
// Past the free failures each attempt must wait, from the last failure, 1 s, 2 s, 4 s …
// (doubling per further failure) up to 15 min. A level's failures are forgotten 15 min
// after the wait the last one caused has ended; a success clears the pair's failures (not
// the address's or the account's: one good password must not reset a stuffing run or an
// attack on the account). A successful (account, address) pair is remembered for 30 days
// and exempt from the address and account levels, so:
//   - users behind one shared proxy do not lock each other out: honest typos stay far
//     below 100 failures per 15 min, and users who signed in there before are exempt;
//   - credential stuffing from one address is slowed after 100 failures;
//   - an attacker guessing one account's password from elsewhere slows only the
//     addresses that never signed in to it: the owner's usual address keeps working.
// IPv6 addresses count per /64 (one host usually has the whole /64).
//
// Attempts are reserved, not checked-then-recorded: Begin() counts the attempt as
// in flight (as if it had failed) under the same lock that checks the limits, so N
// concurrent attempts cannot get past a limit that N sequential ones would hit. Past the
// free failures only one attempt per pair is in flight at a time. The Ticket then
// records the outcome; a Ticket dropped without Succeed() counts as a failure.
//
// Memory is bounded: each table keeps at most max_entries keys and drops the least
// recently used (an attacker must create that many fresh keys to make the guard forget
// one). The clock is injectable for tests.
//
// Thread safety: all methods are thread-safe; a Ticket is used by one thread. Tickets must
// not outlive their guard.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tokki::api {

struct LoginGuardOptions {
  int free_failures = 5;               // per (account, address)
  int address_free_failures = 100;     // per address, across accounts
  int account_free_failures = 50;      // per account, across addresses not known for it
                                       // (a level with 0 free failures is off)
  int64_t window_ms = 15 * 60 * 1000;  // failures are forgotten this long after their wait
  int64_t first_backoff_ms = 1000;
  int64_t max_backoff_ms = 15 * 60 * 1000;
  int64_t known_pair_ttl_ms = 30LL * 24 * 3600 * 1000;  // a successful pair stays trusted
  size_t max_entries = 100000;      // per table (pairs, addresses, accounts, known pairs)
  std::function<int64_t()> now_ms;  // milliseconds, any epoch; default: monotonic clock
};

// "2001:db8:1:2::5" → "2001:db8:1:2::/64"; "::ffff:10.0.0.1" → "10.0.0.1"; other text
// (IPv4, unparsable) unchanged.
std::string AddressKey(std::string_view address);

class LoginGuard {
 public:
  // One reserved attempt. Call Succeed() or Fail() once; destroying it unresolved fails.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    void Succeed();
    void Fail();

   private:
    friend class LoginGuard;
    void Resolve(bool ok);
    LoginGuard* guard_ = nullptr;
    std::string account_;
    std::string address_;  // AddressKey
  };

  explicit LoginGuard(LoginGuardOptions options = {});
  ~LoginGuard();

  // Reserves an attempt for `account` (compare case-insensitively by passing it
  // lower-cased) from `address`. ResourceExhausted when it must wait; then
  // *retry_after_s (if given) is the whole number of seconds to wait, at least 1.
  Result<Ticket> Begin(std::string_view account, std::string_view address,
                       int64_t* retry_after_s = nullptr);

  // Number of keys held across the tables (for tests of bounded memory).
  size_t n_entries() const;

 private:
  struct State;
  void Finish(const Ticket& ticket, bool ok);

  const LoginGuardOptions options_;
  std::unique_ptr<State> state_;
};

struct SignupLimiterOptions {
  int max_per_window = 5;  // sign-ups per address; 0 = unlimited
  int64_t window_ms = 3600 * 1000;
  size_t max_entries = 100000;
  std::function<int64_t()> now_ms;  // default: monotonic clock
};

// At most max_per_window accounts created per address (IPv6: per /64) in any window_ms.
// Begin() reserves a slot (in-flight sign-ups count against the limit); Commit() records
// the account as made; a Ticket dropped without Commit() frees its slot (a sign-up that
// failed, e.g. a taken name, does not count).
class SignupLimiter {
 public:
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    void Commit();

   private:
    friend class SignupLimiter;
    void Resolve(bool made);
    SignupLimiter* limiter_ = nullptr;
    std::string address_;
  };

  explicit SignupLimiter(SignupLimiterOptions options = {});
  ~SignupLimiter();

  Result<Ticket> Begin(std::string_view address, int64_t* retry_after_s = nullptr);

  size_t n_entries() const;

 private:
  struct State;
  void Finish(const Ticket& ticket, bool made);

  const SignupLimiterOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace tokki::api
