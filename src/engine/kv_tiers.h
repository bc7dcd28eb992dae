// tokki/engine/kv_tiers.h — where idle conversations' KV snapshots live when they are not
// in the llama.cpp context: host RAM (a byte budget, least recently used first out) and
// then disk (another byte budget; files <hash>.kv in one folder).
//
// Disk I/O happens on the tiers' own I/O thread, never on the caller's: a snapshot spilled
// to disk stays readable from memory until its file is written, and Warm() asks the I/O
// thread to bring a disk snapshot back to RAM ahead of its use. Blobs are opaque here
// (engine/snapshot.h is their format); the token ids stored beside them let the scheduler
// judge a snapshot without decoding it.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"

namespace tokki::engine {

enum class CacheTier { kResident, kHost, kDisk, kNone };

struct KvTiersOptions {
  int64_t host_max_bytes = int64_t{1} << 30;
  std::string disk_dir;  // "" = no disk tier: what leaves RAM is dropped
  int64_t disk_max_bytes = int64_t{8} << 30;
};

class KvTiers {
 public:
  // Creates the disk folder (when set) and starts the I/O thread.
  static Result<std::unique_ptr<KvTiers>> Open(KvTiersOptions options);
  ~KvTiers();
  KvTiers(const KvTiers&) = delete;
  KvTiers& operator=(const KvTiers&) = delete;

  // kHost, kDisk or kNone. A file left by an earlier run (listed at Open) is found on first
  // ask.
  CacheTier Where(const std::string& key) TOKKI_EXCLUDES(mu_);
  // Keeps a snapshot in RAM; spills the least recently used ones to disk past the budget.
  void Put(const std::string& key, std::string blob, std::vector<int32_t> tokens)
      TOKKI_EXCLUDES(mu_);
  // Moves a RAM snapshot to disk now (written by the I/O thread). NotFound / Unavailable.
  Status Spill(const std::string& key) TOKKI_EXCLUDES(mu_);
  // Removes the snapshot from its tier and returns it (reads the file when it is only on
  // disk: callers that care Warm() first). NotFound when there is none.
  Result<std::string> Take(const std::string& key) TOKKI_EXCLUDES(mu_);
  // Token ids of the snapshot without taking it (NotFound when there is none).
  // `decode` turns a blob into its token ids (used for files of an earlier run).
  Result<std::vector<int32_t>> Tokens(
      const std::string& key,
      const std::function<Result<std::vector<int32_t>>(std::string_view)>& decode)
      TOKKI_EXCLUDES(mu_);
  // Asks the I/O thread to read a disk snapshot into RAM. Returns at once.
  void Warm(const std::string& key) TOKKI_EXCLUDES(mu_);
  // Forgets the snapshot in every tier (its file is removed).
  void Drop(const std::string& key) TOKKI_EXCLUDES(mu_);
  // Waits until every queued disk operation is done (tests, shutdown).
  void Flush() TOKKI_EXCLUDES(mu_);

  int64_t host_count() const TOKKI_EXCLUDES(mu_);
  int64_t disk_count() const TOKKI_EXCLUDES(mu_);
  int64_t host_bytes() const TOKKI_EXCLUDES(mu_);
  std::string PathFor(const std::string& key) const;

 private:
  struct Entry {
    CacheTier tier = CacheTier::kNone;
    std::shared_ptr<std::string> blob;  // kHost; kDisk while its file is written
    std::vector<int32_t> tokens;
    bool tokens_known = false;
    int64_t bytes = 0;
    uint64_t version = 0;  // bumps on every change, so stale disk jobs can tell
    uint64_t last_used = 0;
  };
  struct Job {
    enum Kind { kWrite, kRead, kRemove } kind;
    std::string key;
    uint64_t version = 0;
    std::shared_ptr<std::string> blob;
  };

  explicit KvTiers(KvTiersOptions options);
  void Loop() TOKKI_EXCLUDES(mu_);
  Entry* Find(const std::string& key) TOKKI_REQUIRES(mu_);
  void SpillLocked(const std::string& key, Entry& e) TOKKI_REQUIRES(mu_);
  void EnforceBudgets(const std::string& keep) TOKKI_REQUIRES(mu_);
  void EraseLocked(const std::string& key) TOKKI_REQUIRES(mu_);
  void Enqueue(Job job) TOKKI_REQUIRES(mu_);

  const KvTiersOptions opt_;
  mutable Mutex mu_;
  CondVar cv_;       // wakes the I/O thread
  CondVar idle_cv_;  // signalled when the job queue drains
  std::unordered_map<std::string, Entry> entries_ TOKKI_GUARDED_BY(mu_);
  // Snapshot files an earlier run left (file name -> size), listed once at Open and
  // adopted by key on first ask: no file-system call per lookup.
  std::unordered_map<std::string, int64_t> earlier_files_ TOKKI_GUARDED_BY(mu_);
  std::deque<Job> jobs_ TOKKI_GUARDED_BY(mu_);
  bool busy_ TOKKI_GUARDED_BY(mu_) = false;  // the I/O thread runs a job
  bool stopping_ TOKKI_GUARDED_BY(mu_) = false;
  uint64_t clock_ TOKKI_GUARDED_BY(mu_) = 0;
  int64_t host_bytes_ TOKKI_GUARDED_BY(mu_) = 0;
  int64_t disk_bytes_ TOKKI_GUARDED_BY(mu_) = 0;
  int64_t host_count_ TOKKI_GUARDED_BY(mu_) = 0;
  int64_t disk_count_ TOKKI_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace tokki::engine
