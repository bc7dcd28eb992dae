#include "api/auth.h"

#include <sodium.h>

#include "core/clock.h"
#include "core/text.h"

namespace tokki::api {

Auth::Auth(store::Store* store, AuthOptions options) : store_(store), options_(options) {
  if (sodium_init() < 0) std::abort();  // libsodium cannot work without a random source
}

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

Result<LoginResult> Auth::Register(std::string_view username, std::string_view password) {
  TOKKI_RETURN_IF_ERROR(ValidateCredentials(username, password));
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE / 4) != 0)
    return Status::Unavailable("out of memory while hashing the password");
  store::User u;
  u.username = std::string(username);
  u.password_hash = hash;
  TOKKI_ASSIGN_OR_RETURN(store::User made, store_->CreateUser(u));
  return NewSession(std::move(made));
}

bool Auth::Limited(const std::string& key, int64_t now_ms, int limit) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return false;
  auto& q = it->second;
  while (!q.empty() && now_ms - q.front() > options_.failure_window_ms) q.pop_front();
  return static_cast<int>(q.size()) >= limit;
}

void Auth::RecordFailure(const std::string& key, int64_t now_ms) {
  auto& q = failures_[key];
  q.push_back(now_ms);
  if (failures_.size() > 100000) failures_.clear();  // bounded memory under a flood
}

Result<LoginResult> Auth::Login(std::string_view username, std::string_view password,
                                std::string_view remote_ip) {
  const int64_t now = NowUnixMs();
  const std::string user_key = "u:" + AsciiLower(username);
  const std::string ip_key = "ip:" + std::string(remote_ip);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Limited(user_key, now, options_.max_failures) ||
        Limited(ip_key, now, options_.max_failures * 3))
      return Status::ResourceExhausted("too many failed logins; try again in a few minutes");
  }
  auto user = store_->GetUserByName(username);
  bool ok = user.ok() && crypto_pwhash_str_verify(user->password_hash.c_str(), password.data(),
                                                  password.size()) == 0;
  if (!ok) {
    std::lock_guard<std::mutex> lock(mu_);
    RecordFailure(user_key, now);
    RecordFailure(ip_key, now);
    return Status::Unauthenticated("wrong username or password");
  }
  return NewSession(std::move(user).value());
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
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[s.token_hash] = Cached{s.user_id, s.expires_at_ms};
  }
  return LoginResult{std::move(user), std::move(token)};
}

Status Auth::Logout(std::string_view token) {
  std::string h = HashToken(token);
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(h);
  }
  return store_->DeleteSession(h);
}

Result<Id> Auth::Authenticate(std::string_view token) {
  if (token.empty() || token.size() > 256) return Status::Unauthenticated("sign in first");
  std::string h = HashToken(token);
  const int64_t now = NowUnixMs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(h);
    if (it != sessions_.end()) {
      if (it->second.expires_at_ms > now) return it->second.user_id;
      sessions_.erase(it);
      return Status::Unauthenticated("the session has expired; sign in again");
    }
  }
  auto s = store_->GetSession(h);
  if (!s.ok() || s->expires_at_ms <= now)
    return Status::Unauthenticated("sign in first");
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() > 200000) sessions_.clear();
  sessions_[h] = Cached{s->user_id, s->expires_at_ms};
  return s->user_id;
}

}  // namespace tokki::api
