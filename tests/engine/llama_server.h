// Test/bench helper: runs llama-server (built by tools/deps/llama.sh --tools) on
// 127.0.0.1 with a free port, and stops it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tokki::engine::testing {

class LlamaServer {
 public:
  // Directory of llama-server: $TOKKI_LLAMA_TOOLS or the build-time default.
  static std::string Binary();

  LlamaServer() = default;
  ~LlamaServer() { Stop(); }
  LlamaServer(const LlamaServer&) = delete;
  LlamaServer& operator=(const LlamaServer&) = delete;

  // Starts the server and waits (up to `timeout_s`) until /health answers 200.
  bool Start(const std::string& model, const std::vector<std::string>& extra_args,
             int timeout_s = 60);
  void Stop();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// A TCP port that nothing listens on right now.
int FreePort();

}  // namespace tokki::engine::testing
