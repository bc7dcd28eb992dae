// tokki/api/auth.h — accounts and sessions: argon2id password hashes (libsodium), random
// bearer tokens stored only as SHA-256 hashes, an in-memory session cache, and login rate
// limiting.
//
// Thread safety: all methods are thread-safe. Register/Login hash passwords (tens of ms):
// call them off the I/O threads.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "store/store.h"

namespace tokki::api {

struct AuthOptions {
  int64_t session_ttl_ms = 30LL * 24 * 3600 * 1000;
  int max_failures = 10;              // per username (and per address ×3) ...
  int64_t failure_window_ms = 300000;  // ... within this window → 429
};

struct LoginResult {
  store::User user;
  std::string token;  // give to the client once; only its hash is stored
};

class Auth {
 public:
  Auth(store::Store* store, AuthOptions options);

  Result<LoginResult> Register(std::string_view username, std::string_view password);
  Result<LoginResult> Login(std::string_view username, std::string_view password,
                            std::string_view remote_ip);
  Status Logout(std::string_view token);
  // The user id of a valid token (Unauthenticated otherwise).
  Result<Id> Authenticate(std::string_view token);

  static std::string HashToken(std::string_view token);

 private:
  Result<LoginResult> NewSession(store::User user);
  bool Limited(const std::string& key, int64_t now_ms, int limit);
  void RecordFailure(const std::string& key, int64_t now_ms);

  store::Store* const store_;
  const AuthOptions options_;
  std::mutex mu_;
  struct Cached {
    Id user_id;
    int64_t expires_at_ms;
  };
  std::unordered_map<std::string, Cached> sessions_;             // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::deque<int64_t>> failures_;  // GUARDED_BY(mu_)
};

}  // namespace tokki::api
