// See kv_tiers.h.
#include "engine/kv_tiers.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/hash.h"
#include "core/log.h"

namespace tokki::engine {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("no snapshot file " + path);
  std::string blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return Status::Unavailable("cannot read " + path);
  return blob;
}

bool WriteFileAtomically(const std::string& path, const std::string& blob) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(blob.data(), static_cast<std::streamsize>(blob.size()));
    if (!f) return false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

Result<std::unique_ptr<KvTiers>> KvTiers::Open(KvTiersOptions options) {
  if (!options.disk_dir.empty()) {
    std::error_code ec;
    fs::create_directories(options.disk_dir, ec);
    if (ec) {
      return Status::Unavailable("cannot create cache dir " + options.disk_dir + ": " +
                                 ec.message());
    }
  }
  std::unique_ptr<KvTiers> t(new KvTiers(std::move(options)));
  if (!t->opt_.disk_dir.empty()) {
    std::error_code ec;
    MutexLock lock(&t->mu_);
    for (const auto& f : fs::directory_iterator(t->opt_.disk_dir, ec)) {
      std::error_code size_ec;
      const uint64_t size = f.is_regular_file(size_ec) ? f.file_size(size_ec) : 0;
      if (!size_ec && f.path().extension() == ".kv")
        t->earlier_files_[f.path().filename().string()] = static_cast<int64_t>(size);
    }
  }
  KvTiers* raw = t.get();
  t->thread_ = std::thread([raw] { raw->Loop(); });
  return t;
}

KvTiers::KvTiers(KvTiersOptions options) : opt_(std::move(options)) {}

KvTiers::~KvTiers() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

std::string KvTiers::PathFor(const std::string& key) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.kv", static_cast<unsigned long long>(Fnv1a64(key)));
  return (fs::path(opt_.disk_dir) / name).string();
}

KvTiers::Entry* KvTiers::Find(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) return &it->second;
  if (earlier_files_.empty()) return nullptr;
  // A snapshot written by an earlier run.
  auto f = earlier_files_.find(fs::path(PathFor(key)).filename().string());
  if (f == earlier_files_.end()) return nullptr;
  const int64_t size = f->second;
  earlier_files_.erase(f);
  Entry& e = entries_[key];
  e.tier = CacheTier::kDisk;
  e.bytes = size;
  e.version = ++clock_;
  e.last_used = clock_;
  disk_bytes_ += e.bytes;
  ++disk_count_;
  return &e;
}

CacheTier KvTiers::Where(const std::string& key) {
  MutexLock lock(&mu_);
  Entry* e = Find(key);
  return e ? e->tier : CacheTier::kNone;
}

void KvTiers::Put(const std::string& key, std::string blob, std::vector<int32_t> tokens) {
  MutexLock lock(&mu_);
  if (entries_.count(key)) EraseLocked(key);
  Entry& e = entries_[key];
  e.tier = CacheTier::kHost;
  e.bytes = static_cast<int64_t>(blob.size());
  e.blob = std::make_shared<std::string>(std::move(blob));
  e.tokens = std::move(tokens);
  e.tokens_known = true;
  e.version = ++clock_;
  e.last_used = clock_;
  host_bytes_ += e.bytes;
  ++host_count_;
  EnforceBudgets(key);
}

void KvTiers::SpillLocked(const std::string& key, Entry& e) {
  host_bytes_ -= e.bytes;
  --host_count_;
  if (opt_.disk_dir.empty()) {
    entries_.erase(key);
    return;
  }
  e.tier = CacheTier::kDisk;
  e.version = ++clock_;
  disk_bytes_ += e.bytes;
  ++disk_count_;
  Enqueue(Job{Job::kWrite, key, e.version, e.blob});
}

Status KvTiers::Spill(const std::string& key) {
  MutexLock lock(&mu_);
  if (opt_.disk_dir.empty()) return Status::InvalidArgument("no disk cache dir");
  Entry* e = Find(key);
  if (!e) return Status::NotFound("no snapshot of " + key);
  if (e->tier == CacheTier::kHost) SpillLocked(key, *e);
  EnforceBudgets("");
  return Status::Ok();
}

void KvTiers::EnforceBudgets(const std::string& keep) {
  while (host_bytes_ > opt_.host_max_bytes) {
    const std::string* victim = nullptr;
    Entry* ve = nullptr;
    for (auto& [k, e] : entries_) {
      if (e.tier != CacheTier::kHost) continue;
      if (k == keep && host_count_ > 1) continue;
      if (!ve || e.last_used < ve->last_used) {
        victim = &k;
        ve = &e;
      }
    }
    if (!ve) break;
    const std::string key = *victim;
    SpillLocked(key, *ve);
  }
  while (disk_bytes_ > opt_.disk_max_bytes) {
    const std::string* victim = nullptr;
    uint64_t oldest = UINT64_MAX;
    for (auto& [k, e] : entries_) {
      if (e.tier == CacheTier::kDisk && e.last_used < oldest) {
        victim = &k;
        oldest = e.last_used;
      }
    }
    if (!victim) break;
    const std::string key = *victim;
    EraseLocked(key);
  }
}

void KvTiers::EraseLocked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (e.tier == CacheTier::kHost) {
    host_bytes_ -= e.bytes;
    --host_count_;
  } else if (e.tier == CacheTier::kDisk) {
    disk_bytes_ -= e.bytes;
    --disk_count_;
    Enqueue(Job{Job::kRemove, key, 0, nullptr});
  }
  entries_.erase(it);
}

Result<std::string> KvTiers::Take(const std::string& key) {
  uint64_t version = 0;
  {
    MutexLock lock(&mu_);
    Entry* e = Find(key);
    if (!e) return Status::NotFound("no snapshot of " + key);
    if (e->blob) {
      std::string blob = e->blob.use_count() == 1 ? std::move(*e->blob) : *e->blob;
      EraseLocked(key);
      return blob;
    }
    version = e->version;
  }
  // Only on disk: read it here (Warm() would have brought it to RAM in time).
  Result<std::string> blob = ReadFile(PathFor(key));
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.version == version) EraseLocked(key);
  return blob;
}

Result<std::vector<int32_t>> KvTiers::Tokens(
    const std::string& key,
    const std::function<Result<std::vector<int32_t>>(std::string_view)>& decode) {
  std::shared_ptr<std::string> blob;
  uint64_t version = 0;
  {
    MutexLock lock(&mu_);
    Entry* e = Find(key);
    if (!e) return Status::NotFound("no snapshot of " + key);
    if (e->tokens_known) return e->tokens;
    blob = e->blob;
    version = e->version;
  }
  Result<std::vector<int32_t>> tokens = Status::NotFound("no snapshot");
  if (blob) {
    tokens = decode(*blob);
  } else {
    Result<std::string> file = ReadFile(PathFor(key));
    if (!file.ok()) return file.status();
    tokens = decode(*file);
  }
  if (!tokens.ok()) return tokens.status();
  MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.version == version) {
    it->second.tokens = *tokens;
    it->second.tokens_known = true;
  }
  return tokens;
}

void KvTiers::Warm(const std::string& key) {
  MutexLock lock(&mu_);
  Entry* e = Find(key);
  if (e && e->tier == CacheTier::kDisk && !e->blob) {
    e->last_used = ++clock_;
    Enqueue(Job{Job::kRead, key, e->version, nullptr});
  }
}

void KvTiers::Drop(const std::string& key) {
  MutexLock lock(&mu_);
  if (Find(key)) EraseLocked(key);
}

void KvTiers::Enqueue(Job job) {
  jobs_.push_back(std::move(job));
  cv_.Signal();
}

void KvTiers::Flush() {
  MutexLock lock(&mu_);
  while (!jobs_.empty() || busy_) idle_cv_.Wait(&mu_);
}

int64_t KvTiers::host_count() const {
  MutexLock lock(&mu_);
  return host_count_;
}

int64_t KvTiers::disk_count() const {
  MutexLock lock(&mu_);
  return disk_count_;
}

int64_t KvTiers::host_bytes() const {
  MutexLock lock(&mu_);
  return host_bytes_;
}

void KvTiers::Loop() {
  while (true) {
    Job job;
    {
      MutexLock lock(&mu_);
      busy_ = false;
      if (jobs_.empty()) idle_cv_.SignalAll();
      while (jobs_.empty() && !stopping_) cv_.Wait(&mu_);
      if (jobs_.empty()) return;  // stopping, and every write is done
      job = std::move(jobs_.front());
      jobs_.pop_front();
      busy_ = true;
    }
    const std::string path = PathFor(job.key);
    if (job.kind == Job::kRemove) {
      std::error_code ec;
      fs::remove(path, ec);
    } else if (job.kind == Job::kWrite) {
      const bool ok = WriteFileAtomically(path, *job.blob);
      job.blob.reset();
      MutexLock lock(&mu_);
      auto it = entries_.find(job.key);
      const bool current = it != entries_.end() && it->second.tier == CacheTier::kDisk &&
                           it->second.version == job.version;
      if (current && ok) {
        it->second.blob.reset();  // readable from the file now
      } else if (current) {
        TOKKI_LOG(warn, "cannot write KV snapshot", "path", path);
        EraseLocked(job.key);
      } else if (it == entries_.end() || it->second.tier != CacheTier::kDisk) {
        std::error_code ec;
        fs::remove(path, ec);  // taken or dropped while it was being written
      }
    } else {  // kRead
      Result<std::string> blob = ReadFile(path);
      MutexLock lock(&mu_);
      auto it = entries_.find(job.key);
      if (it == entries_.end() || it->second.version != job.version || it->second.blob) continue;
      if (!blob.ok()) {
        EraseLocked(job.key);
        continue;
      }
      Entry& e = it->second;
      disk_bytes_ -= e.bytes;
      --disk_count_;
      e.tier = CacheTier::kHost;
      e.bytes = static_cast<int64_t>(blob->size());
      e.blob = std::make_shared<std::string>(std::move(blob).value());
      e.version = ++clock_;
      host_bytes_ += e.bytes;
      ++host_count_;
      Enqueue(Job{Job::kRemove, job.key, 0, nullptr});
      EnforceBudgets(job.key);
    }
  }
}

}  // namespace tokki::engine
