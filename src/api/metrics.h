// tokki/api/metrics.h — Prometheus counters and histograms for the HTTP layer.
// Thread safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <string>
#include <tuple>

#include "core/mutex.h"
#include "core/thread_annotations.h"

namespace tokki::api {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

  void Observe(const std::string& route, const std::string& method, int status, int64_t duration_us);
  void StreamOpened() { open_streams_.fetch_add(1); }
  void StreamClosed() { open_streams_.fetch_sub(1); }
  void ConnectionOpened() { open_connections_.fetch_add(1); }
  void ConnectionClosed() { open_connections_.fetch_sub(1); }
  int64_t open_connections() const { return open_connections_.load(); }
  int64_t open_streams() const { return open_streams_.load(); }

  // Text exposition format of everything recorded here.
  std::string Render() const;

 private:
  struct Histogram {
    std::array<int64_t, kBuckets.size()> counts{};
    int64_t count = 0;
    double sum = 0;
  };
  mutable Mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, int64_t> requests_ TOKKI_GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ TOKKI_GUARDED_BY(mu_);
  std::atomic<int64_t> open_streams_{0};
  std::atomic<int64_t> open_connections_{0};
};

}  // namespace tokki::api
