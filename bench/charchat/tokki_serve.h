// bench/charchat/tokki_serve.h — runs a real `tokki serve` as a child process on
// 127.0.0.1 (a port the kernel picks, a temporary --data-dir, the operations listener on
// another free port for /metrics) and stops it again.
//
// Thread safety: one owner.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tokki::bench {

class TokkiServe {
 public:
  TokkiServe() = default;
  ~TokkiServe() { Stop(); }
  TokkiServe(const TokkiServe&) = delete;
  TokkiServe& operator=(const TokkiServe&) = delete;

  // Starts `binary serve --host 127.0.0.1 --port 0 --data-dir TMP --admin-listen
  // 127.0.0.1:FREE --catalog-dir none --log-level warn` plus `args`, and waits (up to
  // `timeout_s`) for it to say where it serves and for /healthz. False (and the log's tail
  // on stderr) when it did not come up.
  bool Start(const std::string& binary, const std::vector<std::string>& args, int timeout_s);
  // Ends the process (SIGTERM) and keeps the data dir, so that it can be changed (e.g. a
  // store filled directly) before Resume starts it again with the same flags.
  void Pause();
  bool Resume(int timeout_s);
  // SIGTERM, then SIGKILL after 15 s; removes the data dir. Idempotent.
  void Stop();
  const std::string& data_dir() const { return data_dir_; }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // The flags it was started with (for the header of the output).
  const std::vector<std::string>& args() const { return args_; }
  // The engine counters of /metrics (tokki_engine_*_total), name -> value; empty on failure.
  std::map<std::string, double> EngineCounters() const;

 private:
  bool Launch(int timeout_s);

  std::string binary_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string data_dir_;
  std::vector<std::string> args_;
};

// Path of the `tokki` binary next to this one (build/bin/).
std::string TokkiBinaryBesideSelf();

// On SIGINT or SIGTERM, end the tracked children (SIGTERM, SIGKILL after 5 s), remove their
// directories and exit 130. Call InstallChildCleanup() once, before any other thread starts.
void InstallChildCleanup();
void TrackChild(pid_t pid, const std::string& dir);
void UntrackChild(pid_t pid);

// Peak resident memory of a process (VmHWM), and resetting it (clear_refs 5).
int64_t PeakRssKb(pid_t pid);
void ResetPeakRss(pid_t pid);

}  // namespace tokki::bench
