// Sign-in throttling (LoginGuard), sign-up limits (SignupLimiter) and their use by Auth.
// Plain unit tests with an injected clock; the Auth tests use a SQLite store in a
// temporary folder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <latch>
#include <thread>

#include "api/auth.h"
#include "api/login_guard.h"
#include "store/store.h"

namespace tokki::api {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

struct FakeClock {
  std::atomic<int64_t> now_ms{1'000'000};
  std::function<int64_t()> fn() {
    return [this] { return now_ms.load(); };
  }
  void Advance(int64_t ms) { now_ms += ms; }
};

LoginGuardOptions GuardOptions(FakeClock& clock) {
  LoginGuardOptions o;
  o.now_ms = clock.fn();
  return o;
}

// Begins and fails one attempt; false when it was refused.
bool FailOnce(LoginGuard& g, std::string_view account, std::string_view address) {
  auto t = g.Begin(account, address);
  if (!t.ok()) return false;
  t->Fail();
  return true;
}

bool SucceedOnce(LoginGuard& g, std::string_view account, std::string_view address) {
  auto t = g.Begin(account, address);
  if (!t.ok()) return false;
  t->Succeed();
  return true;
}

// Seconds an attempt must wait now; 0 when it was admitted (it is then recorded as a
// failure, so use this where a refusal is expected).
int64_t RetryAfter(LoginGuard& g, std::string_view account, std::string_view address) {
  int64_t retry = 0;
  auto t = g.Begin(account, address, &retry);
  if (t.ok()) return 0;
  EXPECT_EQ(t.status().code(), Status::Code::kResourceExhausted);
  EXPECT_GE(retry, 1);
  return retry;
}

TEST(LoginGuard, FiveFreeFailuresThenBackoffDoublesFromTheLastFailure) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(FailOnce(g, "mina", "10.0.0.1")) << i;
  int64_t expected_s = 1;
  for (int round = 0; round < 6; ++round) {
    int64_t retry = 0;
    auto refused = g.Begin("mina", "10.0.0.1", &retry);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), Status::Code::kResourceExhausted);
    EXPECT_EQ(retry, expected_s) << "round " << round;
    clock.Advance(expected_s * kSecond - 1);
    EXPECT_FALSE(g.Begin("mina", "10.0.0.1").ok());
    clock.Advance(1);
    ASSERT_TRUE(FailOnce(g, "mina", "10.0.0.1"));  // one attempt after the wait
    expected_s *= 2;
  }
}

TEST(LoginGuard, BackoffIsCappedAtFifteenMinutes) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  int64_t last = 0;
  for (int i = 0; i < 30; ++i) {
    int64_t retry = 0;
    auto t = g.Begin("mina", "10.0.0.1", &retry);
    if (!t.ok()) {
      last = retry;
      clock.Advance(retry * kSecond);
      t = g.Begin("mina", "10.0.0.1");
    }
    ASSERT_TRUE(t.ok());
    t->Fail();
  }
  EXPECT_EQ(last, 15 * 60);
  EXPECT_EQ(RetryAfter(g, "mina", "10.0.0.1"), 15 * 60);
}

TEST(LoginGuard, SuccessResetsThePairBackoff) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(FailOnce(g, "mina", "10.0.0.1"));
  clock.Advance(1 * kSecond);
  ASSERT_TRUE(FailOnce(g, "mina", "10.0.0.1"));
  clock.Advance(2 * kSecond);
  ASSERT_TRUE(FailOnce(g, "mina", "10.0.0.1"));
  EXPECT_EQ(RetryAfter(g, "mina", "10.0.0.1"), 4);  // grew: 1, 2, 4
  clock.Advance(4 * kSecond);
  ASSERT_TRUE(SucceedOnce(g, "mina", "10.0.0.1"));
  // Back to five free failures.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(FailOnce(g, "mina", "10.0.0.1")) << i;
  EXPECT_EQ(RetryAfter(g, "mina", "10.0.0.1"), 1);
}

TEST(LoginGuard, FailuresAreForgottenAfterTheWindow) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(FailOnce(g, "mina", "10.0.0.1"));
  EXPECT_EQ(RetryAfter(g, "mina", "10.0.0.1"), 1);
  clock.Advance(1 * kSecond + 15 * kMinute);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(FailOnce(g, "mina", "10.0.0.1")) << i;
}

TEST(LoginGuard, OneAddressFailingOnFortyAccountsDoesNotBlockAFortyFirst) {
  // A shared proxy: 40 different users mistype their password twice each (80 failures,
  // under the address level's 100); a 41st user still signs in at once.
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  for (int user = 0; user < 40; ++user)
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(FailOnce(g, "user" + std::to_string(user), "203.0.113.7")) << user;
  EXPECT_TRUE(SucceedOnce(g, "user40", "203.0.113.7"));
  // And the ones who mistyped still get their remaining free attempts.
  EXPECT_TRUE(SucceedOnce(g, "user3", "203.0.113.7"));
}

TEST(LoginGuard, CredentialStuffingFromOneAddressIsSlowedButKnownUsersThereAreNot) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  ASSERT_TRUE(SucceedOnce(g, "regular", "203.0.113.7"));  // signs in there every day
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(FailOnce(g, "victim" + std::to_string(i), "203.0.113.7"));
  int64_t retry = 0;
  auto refused = g.Begin("victim100", "203.0.113.7", &retry);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(retry, 1);
  EXPECT_TRUE(SucceedOnce(g, "regular", "203.0.113.7"));     // exempt: known pair
  EXPECT_TRUE(SucceedOnce(g, "victim100", "198.51.100.1"));  // other addresses unaffected
}

TEST(LoginGuard, AttackerElsewhereDoesNotLockTheOwnerOut) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  // Ten failures from the attacker's address: that pair is throttled…
  int n_admitted = 0;
  for (int i = 0; i < 10; ++i) n_admitted += FailOnce(g, "owner", "198.51.100.66");
  EXPECT_EQ(n_admitted, 5);
  EXPECT_FALSE(g.Begin("owner", "198.51.100.66").ok());
  // …the owner, from another address never used before, is not.
  EXPECT_TRUE(SucceedOnce(g, "owner", "192.0.2.10"));
}

TEST(LoginGuard, DistributedGuessingSlowsNewAddressesButNotTheOwnersKnownOne) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  ASSERT_TRUE(SucceedOnce(g, "owner", "192.0.2.10"));
  // 50 failures on the account, from 25 addresses (2 each, under the pair level).
  for (int a = 0; a < 25; ++a)
    for (int i = 0; i < 2; ++i)
      ASSERT_TRUE(FailOnce(g, "owner", "198.51.100." + std::to_string(a)));
  EXPECT_FALSE(g.Begin("owner", "198.51.100.200").ok());  // a new address must wait
  EXPECT_TRUE(SucceedOnce(g, "owner", "192.0.2.10"));     // the owner's address need not
}

TEST(LoginGuard, ConcurrentBeginsNeverExceedTheFreeAttempts) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  auto race = [&](int n_threads) {
    std::latch start(n_threads), done(n_threads);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < n_threads; ++i) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        auto t = g.Begin("mina", "10.0.0.1");
        if (t.ok()) ++admitted;
        done.arrive_and_wait();  // hold every ticket until all have tried
        // the ticket fails on destruction
      });
    }
    for (auto& t : threads) t.join();
    return admitted.load();
  };
  EXPECT_EQ(race(32), 5);
  // Past the free failures, one attempt at a time.
  clock.Advance(1 * kSecond);
  EXPECT_EQ(race(32), 1);
  EXPECT_EQ(RetryAfter(g, "mina", "10.0.0.1"), 2);
}

TEST(LoginGuard, ADroppedTicketCountsAsAFailure) {
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  for (int i = 0; i < 5; ++i) {
    auto t = g.Begin("mina", "10.0.0.1");
    ASSERT_TRUE(t.ok());
  }
  EXPECT_FALSE(g.Begin("mina", "10.0.0.1").ok());
}

TEST(LoginGuard, MemoryStaysBoundedUnderAFlood) {
  FakeClock clock;
  LoginGuardOptions o = GuardOptions(clock);
  o.max_entries = 1000;
  LoginGuard g(o);
  for (int i = 0; i < 20000; ++i) {
    auto t = g.Begin("name" + std::to_string(i) + std::string(200, 'x'),
                     "10." + std::to_string(i / 65536) + "." + std::to_string((i / 256) % 256) +
                         "." + std::to_string(i % 256));
    if (t.ok()) t->Fail();
    EXPECT_LE(g.n_entries(), 4 * 1000u);
  }
}

TEST(LoginGuard, AddressKeyCountsIpv6PerSlash64) {
  EXPECT_EQ(AddressKey("2001:db8:1:2::5"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("[2001:db8:1:2::5]"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  EXPECT_EQ(AddressKey("::ffff:10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(AddressKey("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(AddressKey(""), "");
  // Hosts of one /64 share the pair level.
  FakeClock clock;
  LoginGuard g(GuardOptions(clock));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(FailOnce(g, "mina", "2001:db8::" + std::to_string(i + 1)));
  EXPECT_FALSE(g.Begin("mina", "2001:db8::99").ok());
}

// ---- SignupLimiter

SignupLimiterOptions SignupOptions(FakeClock& clock, int max = 5) {
  SignupLimiterOptions o;
  o.max_per_window = max;
  o.now_ms = clock.fn();
  return o;
}

TEST(SignupLimiter, AtMostFivePerAddressPerHour) {
  FakeClock clock;
  SignupLimiter s(SignupOptions(clock));
  for (int i = 0; i < 5; ++i) {
    auto t = s.Begin("10.0.0.1");
    ASSERT_TRUE(t.ok()) << i;
    t->Commit();
    clock.Advance(kMinute);
  }
  int64_t retry = 0;
  auto refused = s.Begin("10.0.0.1", &retry);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(retry, 55 * 60);  // until the first leaves the hour
  EXPECT_TRUE(s.Begin("10.0.0.2").ok());
  clock.Advance(55 * kMinute);
  EXPECT_TRUE(s.Begin("10.0.0.1").ok());
}

TEST(SignupLimiter, FailedSignupsDoNotCount) {
  FakeClock clock;
  SignupLimiter s(SignupOptions(clock, 2));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s.Begin("10.0.0.1").ok());  // dropped: not made
  for (int i = 0; i < 2; ++i) {
    auto t = s.Begin("10.0.0.1");
    ASSERT_TRUE(t.ok());
    t->Commit();
  }
  EXPECT_FALSE(s.Begin("10.0.0.1").ok());
}

TEST(SignupLimiter, ConcurrentSignupsCannotOvershoot) {
  FakeClock clock;
  SignupLimiter s(SignupOptions(clock));
  std::latch start(32), done(32);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      auto t = s.Begin("10.0.0.1");
      if (t.ok()) ++admitted;
      done.arrive_and_wait();
      if (t.ok()) t->Commit();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 5);
  EXPECT_FALSE(s.Begin("10.0.0.1").ok());
}

TEST(SignupLimiter, ZeroMeansUnlimited) {
  FakeClock clock;
  SignupLimiter s(SignupOptions(clock, 0));
  for (int i = 0; i < 100; ++i) {
    auto t = s.Begin("10.0.0.1");
    ASSERT_TRUE(t.ok());
    t->Commit();
  }
  EXPECT_EQ(s.n_entries(), 0u);
}

// ---- Auth

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tokki-auth-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = store::OpenSqliteStore((dir_ / "t.db").string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    MakeAuth(5);
  }
  void TearDown() override {
    auth_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void MakeAuth(int max_signups) {
    AuthOptions o;
    o.login.now_ms = clock_.fn();
    o.max_signups_per_address_per_hour = max_signups;
    auth_ = std::make_unique<Auth>(store_.get(), o);
  }
  void Register(const std::string& name, const std::string& password = "correct-horse") {
    auto r = auth_->Register(name, password, "192.0.2.1");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Auth> auth_;
};

TEST_F(AuthTest, WrongPasswordsAreThrottledPerAddressWithRetryAfter) {
  Register("mina");
  for (int i = 0; i < 5; ++i) {
    auto r = auth_->Login("mina", "wrong-pass", "198.51.100.66");
    EXPECT_EQ(r.status().code(), Status::Code::kUnauthenticated);
  }
  int64_t retry = 0;
  auto r = auth_->Login("mina", "correct-horse", "198.51.100.66", &retry);
  EXPECT_EQ(r.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(retry, 1);
  // The owner, elsewhere, is not held up; and 10 attacker failures do not change that.
  clock_.Advance(kSecond);
  EXPECT_EQ(auth_->Login("MINA", "guess", "198.51.100.66").status().code(),
            Status::Code::kUnauthenticated);  // names compare case-insensitively
  EXPECT_TRUE(auth_->Login("mina", "correct-horse", "192.0.2.10").ok());
  // Backoff resets after a success on the pair.
  clock_.Advance(2 * kSecond);
  EXPECT_TRUE(auth_->Login("mina", "correct-horse", "198.51.100.66").ok());
  EXPECT_EQ(auth_->Login("mina", "wrong-pass", "198.51.100.66").status().code(),
            Status::Code::kUnauthenticated);
}

TEST_F(AuthTest, TenAttackerFailuresFromOneAddressDoNotStopTheOwnerFromAnother) {
  Register("owner");
  for (int i = 0; i < 10; ++i) {
    (void)auth_->Login("owner", "guess-" + std::to_string(i), "198.51.100.66");
    clock_.Advance(20 * kSecond);  // the attacker waits out the backoff each time
  }
  EXPECT_TRUE(auth_->Login("owner", "correct-horse", "192.0.2.10").ok());
}

TEST_F(AuthTest, FailuresOnFortyAccountsBehindOneProxyDoNotBlockTheFortyFirst) {
  Register("late");
  for (int i = 0; i < 40; ++i)  // unknown names cost a dummy verification each
    EXPECT_EQ(auth_->Login("typo" + std::to_string(i), "wrong-pass", "203.0.113.7").status().code(),
              Status::Code::kUnauthenticated);
  EXPECT_TRUE(auth_->Login("late", "correct-horse", "203.0.113.7").ok());
}

double MedianMs(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST_F(AuthTest, UnknownUsernameTakesAsLongAsAWrongPassword) {
  Register("realuser");
  std::vector<double> unknown, wrong;
  for (int i = 0; i < 5; ++i) {
    std::string ip = "198.51.100." + std::to_string(i);
    auto t0 = std::chrono::steady_clock::now();
    auto a = auth_->Login("nosuchuser" + std::to_string(i), "wrong-pass", ip);
    auto t1 = std::chrono::steady_clock::now();
    auto b = auth_->Login("realuser", "wrong-pass", ip);
    auto t2 = std::chrono::steady_clock::now();
    EXPECT_EQ(a.status().code(), Status::Code::kUnauthenticated);
    EXPECT_EQ(b.status().code(), Status::Code::kUnauthenticated);
    EXPECT_EQ(a.status().message(), b.status().message());
    unknown.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    wrong.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  double ratio = MedianMs(unknown) / MedianMs(wrong);
  EXPECT_GT(ratio, 0.5) << "unknown " << MedianMs(unknown) << " ms, wrong " << MedianMs(wrong)
                        << " ms";
}

TEST_F(AuthTest, SignUpsAreLimitedPerAddress) {
  MakeAuth(2);
  ASSERT_TRUE(auth_->Register("first", "correct-horse", "10.0.0.1").ok());
  // A taken name fails and does not use up the address's allowance.
  EXPECT_EQ(auth_->Register("first", "correct-horse", "10.0.0.1").status().code(),
            Status::Code::kAlreadyExists);
  ASSERT_TRUE(auth_->Register("second", "correct-horse", "10.0.0.1").ok());
  int64_t retry = 0;
  auto r = auth_->Register("third", "correct-horse", "10.0.0.1", &retry);
  EXPECT_EQ(r.status().code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(retry, 3600);
  EXPECT_TRUE(auth_->Register("third", "correct-horse", "10.0.0.2").ok());
  clock_.Advance(60 * kMinute);
  EXPECT_TRUE(auth_->Register("fourth", "correct-horse", "10.0.0.1").ok());

  MakeAuth(0);  // unlimited
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(auth_->Register("free" + std::to_string(i), "correct-horse", "10.0.0.1").ok());
}

TEST_F(AuthTest, RevokeUserSessionsDropsOnlyThatUsersCachedSessions) {
  auto a = auth_->Register("alice", "correct-horse", "10.0.0.1");
  auto b = auth_->Register("bobby", "correct-horse", "10.0.0.2");
  ASSERT_TRUE(a.ok() && b.ok());
  auto a2 = auth_->Login("alice", "correct-horse", "10.0.0.1");
  ASSERT_TRUE(a2.ok());
  // Remove the stored sessions behind Auth's back: only the cache still knows them.
  for (const auto* t : {&a->token, &a2->token, &b->token})
    ASSERT_TRUE(store_->DeleteSession(Auth::HashToken(*t)).ok());
  ASSERT_TRUE(auth_->Authenticate(a->token).ok());
  ASSERT_TRUE(auth_->RevokeUserSessions(a->user.id).ok());
  EXPECT_FALSE(auth_->Authenticate(a->token).ok());
  EXPECT_FALSE(auth_->Authenticate(a2->token).ok());
  auto still = auth_->Authenticate(b->token);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->user_id, b->user.id);
}

}  // namespace
}  // namespace tokki::api
