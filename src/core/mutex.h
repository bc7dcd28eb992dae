// tokki/core/mutex.h — mutexes that clang's thread-safety analysis understands.
//
// libstdc++'s std::mutex is not a clang "capability", so TOKKI_GUARDED_BY(mu_) naming one
// checks nothing. These thin wrappers are (the pattern of leveldb's port::Mutex and
// abseil's Mutex):
//
//   tokki::Mutex mu_;
//   int count_ TOKKI_GUARDED_BY(mu_) = 0;
//   tokki::CondVar cv_;
//
//   void Add() TOKKI_EXCLUDES(mu_) {
//     tokki::MutexLock lock(&mu_);
//     ++count_;
//     cv_.SignalAll();
//   }
//   void WaitForOne() TOKKI_EXCLUDES(mu_) {
//     tokki::MutexLock lock(&mu_);
//     while (count_ == 0) cv_.Wait(&mu_);  // a loop, not a predicate lambda: clang sees it
//   }
//
// Mutex is also BasicLockable (lock/unlock), so std::condition_variable_any and
// std::unique_lock accept it; the analysis cannot follow those, prefer CondVar/MutexLock.
//
// Thread safety: these are the synchronisation primitives.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "core/thread_annotations.h"

namespace tokki {

class CondVar;

class TOKKI_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() TOKKI_ACQUIRE() { mu_.lock(); }
  void Unlock() TOKKI_RELEASE() { mu_.unlock(); }
  bool TryLock() TOKKI_TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis that the calling thread holds the lock (checks nothing at run time).
  void AssertHeld() const TOKKI_ASSERT_CAPABILITY(this) {}

  // BasicLockable, for std::condition_variable_any and std::unique_lock.
  void lock() TOKKI_ACQUIRE() { mu_.lock(); }
  void unlock() TOKKI_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// A reader-writer mutex: Lock for writing, ReaderLock for reading.
class TOKKI_CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() TOKKI_ACQUIRE() { mu_.lock(); }
  void Unlock() TOKKI_RELEASE() { mu_.unlock(); }
  void ReaderLock() TOKKI_ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() TOKKI_RELEASE_SHARED() { mu_.unlock_shared(); }
  void AssertHeld() const TOKKI_ASSERT_CAPABILITY(this) {}
  void AssertReaderHeld() const TOKKI_ASSERT_SHARED_CAPABILITY(this) {}

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex for its scope. Unlock()/Lock() open a stretch without the lock inside the
// scope (the destructor unlocks only if it is held).
class TOKKI_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) TOKKI_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() TOKKI_RELEASE() {
    if (held_) mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() TOKKI_RELEASE() {
    mu_->Unlock();
    held_ = false;
  }
  void Lock() TOKKI_ACQUIRE() {
    mu_->Lock();
    held_ = true;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// Holds a SharedMutex exclusively for its scope.
class TOKKI_SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex* mu) TOKKI_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~WriterMutexLock() TOKKI_RELEASE() {
    if (held_) mu_->Unlock();
  }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

  void Unlock() TOKKI_RELEASE() {
    mu_->Unlock();
    held_ = false;
  }

 private:
  SharedMutex* const mu_;
  bool held_ = true;
};

// Holds a SharedMutex shared for its scope.
class TOKKI_SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex* mu) TOKKI_ACQUIRE_SHARED(mu) : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReaderMutexLock() TOKKI_RELEASE() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// A condition variable for Mutex. Every wait may wake spuriously: wait in a loop on the
// condition, with the mutex held.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases *mu, waits for a signal, reacquires *mu.
  void Wait(Mutex* mu) TOKKI_REQUIRES(*mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, giving up at `deadline`. False when it timed out.
  bool WaitUntil(Mutex* mu, std::chrono::steady_clock::time_point deadline) TOKKI_REQUIRES(*mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool signalled = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  template <typename Rep, typename Period>
  bool WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout) TOKKI_REQUIRES(*mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout);
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace tokki
