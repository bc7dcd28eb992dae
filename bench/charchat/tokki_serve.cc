#include "tokki_serve.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "llama_server.h"  // FreePort

extern char** environ;

namespace tokki::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;

// Blocking GET on 127.0.0.1:port; {status, body}, status 0 when nothing answered.
std::pair<int, std::string> Get(uint16_t port, const std::string& target) {
  try {
    asio::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(10));
    s.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return {res.result_int(), res.body()};
  } catch (const std::exception&) {
    return {0, ""};
  }
}

std::mutex g_children_mu;
std::map<pid_t, std::string>& Children() {
  static auto* children = new std::map<pid_t, std::string>();
  return *children;
}

// SIGTERM, then SIGKILL when it has not ended after `grace_ms`; reaps it.
void EndChild(pid_t pid, int grace_ms) {
  ::kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 100) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void InstallChildCleanup() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by every later thread
  std::thread([signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::lock_guard<std::mutex> lock(g_children_mu);
    for (auto& [pid, dir] : Children()) {
      EndChild(pid, 5000);
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
    std::fprintf(stderr, "charchat: interrupted\n");
    std::_Exit(130);
  }).detach();
}

void TrackChild(pid_t pid, const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_children_mu);
  Children()[pid] = dir;
}

void UntrackChild(pid_t pid) {
  std::lock_guard<std::mutex> lock(g_children_mu);
  Children().erase(pid);
}

std::string TokkiBinaryBesideSelf() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("tokki") : (self.parent_path() / "tokki").string();
}

bool TokkiServe::Start(const std::string& binary, const std::vector<std::string>& args,
                       int timeout_s) {
  Stop();
  char tmpl[] = "/tmp/charchat-serve-XXXXXX";
  if (!::mkdtemp(tmpl)) return false;
  data_dir_ = tmpl;
  binary_ = binary;
  args_ = args;
  return Launch(timeout_s);
}

void TokkiServe::Pause() {
  if (pid_ > 0) {
    EndChild(pid_, 15000);
    UntrackChild(pid_);
  }
  pid_ = -1;
  port_ = 0;
}

bool TokkiServe::Resume(int timeout_s) {
  if (data_dir_.empty() || pid_ > 0) return false;
  return Launch(timeout_s);
}

bool TokkiServe::Launch(int timeout_s) {
  const std::string& binary = binary_;
  const std::vector<std::string>& args = args_;
  admin_port_ = static_cast<uint16_t>(engine::testing::FreePort());
  std::vector<std::string> argv_s = {binary,           "serve",
                                     "--host",         "127.0.0.1",
                                     "--port",         "0",
                                     "--data-dir",     data_dir_,
                                     "--admin-listen", "127.0.0.1:" + std::to_string(admin_port_),
                                     "--catalog-dir",  "none",
                                     "--log-level",    "warn"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out_path = data_dir_ + "/stdout.log";
  const std::string err_path = data_dir_ + "/server.log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "charchat: cannot run %s\n", binary.c_str());
    pid_ = -1;
    Stop();
    return false;
  }
  TrackChild(pid_, data_dir_);
  const std::string marker = "Tokki is serving on http://127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (port_ == 0) {
      const std::string out = ReadFile(out_path);
      const size_t at = out.find(marker);
      if (at != std::string::npos && out.find('\n', at) != std::string::npos)
        port_ = static_cast<uint16_t>(std::atoi(out.c_str() + at + marker.size()));
    }
    if (port_ != 0 && Get(port_, "/healthz").first == 200) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      UntrackChild(pid_);
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string log = ReadFile(err_path);
  std::fprintf(stderr, "charchat: tokki serve did not start; its log ends with:\n%s\n",
               log.substr(log.size() > 2000 ? log.size() - 2000 : 0).c_str());
  Stop();
  return false;
}

void TokkiServe::Stop() {
  Pause();
  if (!data_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
    data_dir_.clear();
  }
}

std::map<std::string, double> TokkiServe::EngineCounters() const {
  std::map<std::string, double> out;
  if (admin_port_ == 0) return out;
  auto [status, body] = Get(admin_port_, "/metrics");
  if (status != 200) return out;
  std::istringstream in(body);
  std::string line;
  const std::string prefix = "tokki_engine_";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    const std::string name = line.substr(prefix.size(), sp - prefix.size());
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
      out[name] = std::atof(line.c_str() + sp + 1);
  }
  return out;
}

int64_t PeakRssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  return 0;
}

void ResetPeakRss(pid_t pid) {
  std::ofstream f("/proc/" + std::to_string(pid) + "/clear_refs");
  f << "5";
}

}  // namespace tokki::bench
