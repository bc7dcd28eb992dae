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

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/login_guard.h"
#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "store/store.h"

namespace tokki::api {

struct AuthOptions {
  int64_t session_ttl_ms = 30LL * 24 * 3600 * 1000;
  LoginGuardOptions login;  // failed sign-in throttling; its clock also drives sign-ups
  int max_signups_per_address_per_hour = 5;  // 0 = unlimited
};

// Who a session token belongs to.
struct SessionInfo {
  Id user_id = kNoId;
  store::Role role = store::Role::kUser;
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
  // ResourceExhausted (with *retry_after_s, when given, in seconds) while throttled. A
  // suspended account is refused (PermissionDenied) once its password was right.
  Result<LoginResult> Login(std::string_view username, std::string_view password,
                            std::string_view remote_ip, int64_t* retry_after_s = nullptr);
  Status Logout(std::string_view token);
  // The session of a valid token (Unauthenticated otherwise). May read the store.
  Result<SessionInfo> Authenticate(std::string_view token);
  // From the in-memory cache only (nullopt when the token is not cached): never blocks on
  // the store, so the server may call it on an I/O thread.
  std::optional<Result<SessionInfo>> Cached(std::string_view token);
  // Checks a signed-in user's password again (before deleting the account).
  Status VerifyPassword(Id user_id, std::string_view password);
  // Ends every session of `user_id` (suspended, role changed, account deleted): the
  // stored ones and the cached ones.
  Status RevokeUserSessions(Id user_id);

  static std::string HashToken(std::string_view token);

 private:
  Result<LoginResult> NewSession(store::User user);

  store::Store* const store_;
  const AuthOptions options_;
  const std::string dummy_hash_;  // argon2id of a random password, for unknown usernames
  LoginGuard login_guard_;
  SignupLimiter signups_;
  Mutex mu_;
  struct CachedSession {
    SessionInfo info;
    int64_t expires_at_ms;
  };
  std::unordered_map<std::string, CachedSession> sessions_ TOKKI_GUARDED_BY(mu_);  // by token hash
};

}  // namespace tokki::api
