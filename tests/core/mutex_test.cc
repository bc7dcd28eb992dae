#include "core/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace tokki {
namespace {

using std::chrono::milliseconds;

struct Counter {
  Mutex mu;
  CondVar cv;
  int n TOKKI_GUARDED_BY(mu) = 0;
};

TEST(MutexTest, CondVarWakesAWaiter) {
  Counter c;
  std::thread t([&] {
    MutexLock lock(&c.mu);
    c.n = 1;
    c.cv.SignalAll();
  });
  {
    MutexLock lock(&c.mu);
    while (c.n == 0) c.cv.Wait(&c.mu);
    EXPECT_EQ(c.n, 1);
  }
  t.join();
}

TEST(MutexTest, WaitForTimesOut) {
  Counter c;
  MutexLock lock(&c.mu);
  const auto start = std::chrono::steady_clock::now();
  bool signalled = true;
  // A spurious wake-up returns true early: wait again until the deadline passes.
  while (signalled && std::chrono::steady_clock::now() - start < milliseconds(20))
    signalled = c.cv.WaitFor(&c.mu, milliseconds(20));
  EXPECT_FALSE(signalled);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
  c.n = 2;  // the lock is held again after a timed-out wait
  EXPECT_EQ(c.n, 2);
}

TEST(MutexTest, MutexLockUnlocksAndRelocksInItsScope) {
  Counter c;
  MutexLock lock(&c.mu);
  c.n = 1;
  lock.Unlock();
  std::thread t([&] {
    MutexLock other(&c.mu);  // would block forever if the lock were still held
    c.n = 2;
  });
  t.join();
  lock.Lock();
  EXPECT_EQ(c.n, 2);
}

TEST(MutexTest, ManyWritersCountExactly) {
  Counter c;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) {
        MutexLock lock(&c.mu);
        ++c.n;
      }
    });
  }
  for (auto& t : threads) t.join();
  MutexLock lock(&c.mu);
  EXPECT_EQ(c.n, 4000);
}

struct Shared {
  SharedMutex mu;
  int value TOKKI_GUARDED_BY(mu) = 0;
};

TEST(MutexTest, SharedMutexAdmitsReadersTogether) {
  Shared s;
  {
    WriterMutexLock w(&s.mu);
    s.value = 7;
  }
  ReaderMutexLock r1(&s.mu);
  int seen = 0;
  std::thread t([&] {
    ReaderMutexLock r2(&s.mu);  // a second reader while r1 holds it
    seen = s.value;
  });
  t.join();
  EXPECT_EQ(seen, 7);
  EXPECT_EQ(s.value, 7);
}

}  // namespace
}  // namespace tokki
