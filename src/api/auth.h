// tokki/api/auth.h — accounts and sessions: argon2id password hashes (libsodium), random
// bearer tokens stored only as SHA-256 hashes, an in-memory session cache, throttling of
// failed sign-ins (LoginGuard) and of sign-ups per address (SignupLimiter), see
// login_guard.h.
//
// A sign-in with an unknown username verifies the password against a dummy argon2id hash
// made at startup with the same parameters, so it takes as long as a wrong password and
// timing does not tell which usernames exist.
//
// Thread safety: all methods are thread-safe. Register/Login hash passwords (tens of ms):
// call them off the I/O threads. The constructor hashes once (the dummy hash).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/login_guard.h"
#include "core/result.h"
#include "store/store.h"

namespace tokki::api {

struct AuthOptions {
  int64_t session_ttl_ms = 30LL * 24 * 3600 * 1000;
  LoginGuardOptions login;  // failed sign-in throttling; its clock also drives sign-ups
  int max_signups_per_address_per_hour = 5;  // 0 = unlimited
};

struct LoginResult {
  store::User user;
  std::string token;  // give to the client once; only its hash is stored
};

class Auth {
 public:
  Auth(store::Store* store, AuthOptions options);

  // ResourceExhausted (with *retry_after_s, when given, in seconds) past the sign-up
  // limit for `remote_ip`.
  Result<LoginResult> Register(std::string_view username, std::string_view password,
                               std::string_view remote_ip, int64_t* retry_after_s = nullptr);
  // ResourceExhausted (with *retry_after_s, when given, in seconds) while throttled.
  Result<LoginResult> Login(std::string_view username, std::string_view password,
                            std::string_view remote_ip, int64_t* retry_after_s = nullptr);
  Status Logout(std::string_view token);
  // The user id of a valid token (Unauthenticated otherwise).
  Result<Id> Authenticate(std::string_view token);
  // Drops the cached sessions of `user_id` (e.g. when the user is suspended), so their
  // next request goes to the store. It does not delete the stored sessions (the store has
  // no call for that yet): until that is done too, a token still in the store is accepted
  // again and re-cached.
  Status RevokeUserSessions(Id user_id);

  static std::string HashToken(std::string_view token);

 private:
  Result<LoginResult> NewSession(store::User user);

  store::Store* const store_;
  const AuthOptions options_;
  const std::string dummy_hash_;  // argon2id of a random password, for unknown usernames
  LoginGuard login_guard_;
  SignupLimiter signups_;
  std::mutex mu_;
  struct Cached {
    Id user_id;
    int64_t expires_at_ms;
  };
  std::unordered_map<std::string, Cached> sessions_;  // GUARDED_BY(mu_), by token hash
};

}  // namespace tokki::api
