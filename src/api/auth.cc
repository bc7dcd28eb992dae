#include "api/auth.h"

#include <sodium.h>

#include "core/clock.h"
#include "core/text.h"

namespace tokki::api {

namespace {

// argon2id parameters for new password hashes (and the dummy hash).
constexpr unsigned long long kHashOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t kHashMemLimitBytes = crypto_pwhash_MEMLIMIT_INTERACTIVE / 4;

bool HashPassword(std::string_view password, char (&out)[crypto_pwhash_STRBYTES]) {
  return crypto_pwhash_str(out, password.data(), password.size(), kHashOpsLimit,
                           kHashMemLimitBytes) == 0;
}

std::string MakeDummyHash() {
  if (sodium_init() < 0) std::abort();  // libsodium cannot work without a random source
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hash[crypto_pwhash_STRBYTES];
  if (!HashPassword(HexEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw)),
                    hash))
    std::abort();  // out of memory at startup
  return hash;
}

SignupLimiterOptions SignupOptions(const AuthOptions& o) {
  SignupLimiterOptions s;
  s.max_per_window = o.max_signups_per_address_per_hour;
  s.window_ms = 3600 * 1000;
  s.max_entries = o.login.max_entries;
  s.now_ms = o.login.now_ms;
  return s;
}

}  // namespace

Auth::Auth(store::Store* store, AuthOptions options)
    : store_(store),
      options_(options),
      dummy_hash_(MakeDummyHash()),
      login_guard_(options_.login),
      signups_(SignupOptions(options_)) {}

std::string Auth::HashToken(std::string_view token) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

namespace {
Status ValidateCredentials(std::string_view username, std::string_view password) {
  if (username.size() < 3 || username.size() > 32)
    return Status::InvalidArgument("username must be 3 to 32 characters");
  for (char c : username) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return Status::InvalidArgument("username may use letters, digits, '_', '-' and '.'");
  }
  if (password.size() < 8) return Status::InvalidArgument("password must be at least 8 characters");
  if (password.size() > 1024) return Status::InvalidArgument("password is too long");
  if (!IsValidUtf8(password)) return Status::InvalidArgument("password is not valid UTF-8");
  return Status::Ok();
}
}  // namespace

Result<LoginResult> Auth::Register(std::string_view username, std::string_view password,
                                   std::string_view remote_ip, int64_t* retry_after_s) {
  TOKKI_RETURN_IF_ERROR(ValidateCredentials(username, password));
  // Reserve the sign-up slot first; it is freed again unless the account gets made.
  int64_t wait_s = 0;
  auto begun = signups_.Begin(remote_ip, &wait_s);
  if (retry_after_s) *retry_after_s = wait_s;
  if (!begun.ok()) return begun.status().WithRetryAfter(static_cast<int>(wait_s));
  SignupLimiter::Ticket slot = std::move(begun).value();
  char hash[crypto_pwhash_STRBYTES];
  if (!HashPassword(password, hash))
    return Status::Unavailable("out of memory while hashing the password");
  store::User u;
  u.username = std::string(username);
  u.password_hash = hash;
  TOKKI_ASSIGN_OR_RETURN(store::User made, store_->CreateUser(u));
  slot.Commit();
  return NewSession(std::move(made));
}

Result<LoginResult> Auth::Login(std::string_view username, std::string_view password,
                                std::string_view remote_ip, int64_t* retry_after_s) {
  // Reserve the attempt first: concurrent guesses count against the limit at once.
  int64_t wait_s = 0;
  auto begun = login_guard_.Begin(AsciiLower(username), remote_ip, &wait_s);
  if (retry_after_s) *retry_after_s = wait_s;
  if (!begun.ok()) return begun.status().WithRetryAfter(static_cast<int>(wait_s));
  LoginGuard::Ticket attempt = std::move(begun).value();
  auto user = store_->GetUserByName(username);
  // Verify even for an unknown name, against the dummy hash, so both take as long.
  const std::string& hash = user.ok() ? user->password_hash : dummy_hash_;
  bool password_ok = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  if (!user.ok() && !user.status().IsNotFound()) return user.status();  // counts as a failure
  if (!user.ok() || !password_ok) {
    attempt.Fail();
    return Status::Unauthenticated("wrong username or password");
  }
  attempt.Succeed();
  if (user->suspended)
    return Status::PermissionDenied("this account is suspended; contact the operator of this server");
  return NewSession(std::move(user).value());
}

Status Auth::VerifyPassword(Id user_id, std::string_view password) {
  TOKKI_ASSIGN_OR_RETURN(store::User user, store_->GetUser(user_id));
  if (crypto_pwhash_str_verify(user.password_hash.c_str(), password.data(), password.size()) != 0)
    return Status::Unauthenticated("the password is not right");
  return Status::Ok();
}

Result<LoginResult> Auth::NewSession(store::User user) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string token = HexEncode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  store::Session s;
  s.token_hash = HashToken(token);
  s.user_id = user.id;
  s.created_at_ms = NowUnixMs();
  s.expires_at_ms = s.created_at_ms + options_.session_ttl_ms;
  TOKKI_RETURN_IF_ERROR(store_->CreateSession(s));
  {
    MutexLock lock(&mu_);
    sessions_[s.token_hash] = CachedSession{SessionInfo{s.user_id, user.role}, s.expires_at_ms};
  }
  return LoginResult{std::move(user), std::move(token)};
}

Status Auth::Logout(std::string_view token) {
  std::string h = HashToken(token);
  {
    MutexLock lock(&mu_);
    sessions_.erase(h);
  }
  return store_->DeleteSession(h);
}

Status Auth::RevokeUserSessions(Id user_id) {
  {
    MutexLock lock(&mu_);
    std::erase_if(sessions_, [user_id](const auto& kv) { return kv.second.info.user_id == user_id; });
  }
  return store_->DeleteUserSessions(user_id);
}

std::optional<Result<SessionInfo>> Auth::Cached(std::string_view token) {
  if (token.empty() || token.size() > 256) return Result<SessionInfo>(Status::Unauthenticated("sign in first"));
  std::string h = HashToken(token);
  const int64_t now = NowUnixMs();
  MutexLock lock(&mu_);
  auto it = sessions_.find(h);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_at_ms > now) return Result<SessionInfo>(it->second.info);
  sessions_.erase(it);
  return Result<SessionInfo>(Status::Unauthenticated("the session has expired; sign in again"));
}

Result<SessionInfo> Auth::Authenticate(std::string_view token) {
  if (auto hit = Cached(token)) return *hit;
  std::string h = HashToken(token);
  const int64_t now = NowUnixMs();
  auto s = store_->GetSession(h);
  if (!s.ok() || s->expires_at_ms <= now) return Status::Unauthenticated("sign in first");
  TOKKI_ASSIGN_OR_RETURN(store::User user, store_->GetUser(s->user_id));
  if (user.suspended) return Status::Unauthenticated("this account is suspended");
  SessionInfo info{user.id, user.role};
  MutexLock lock(&mu_);
  if (sessions_.size() > 200000) sessions_.clear();
  sessions_[h] = CachedSession{info, s->expires_at_ms};
  return info;
}

}  // namespace tokki::api
