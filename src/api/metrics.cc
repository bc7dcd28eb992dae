#include "api/metrics.h"

#include <sstream>

namespace tokki::api {

void Metrics::Observe(const std::string& route, const std::string& method, int status,
                      int64_t duration_us) {
  double s = duration_us / 1e6;
  MutexLock lock(&mu_);
  requests_[{route, method, status}]++;
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (s <= kBuckets[i]) h.counts[i]++;
  h.count++;
  h.sum += s;
}

std::string Metrics::Render() const {
  std::ostringstream out;
  MutexLock lock(&mu_);
  out << "# HELP tokki_http_requests_total HTTP requests by route, method and status.\n"
         "# TYPE tokki_http_requests_total counter\n";
  for (auto& [key, n] : requests_) {
    auto& [route, method, status] = key;
    out << "tokki_http_requests_total{route=\"" << route << "\",method=\"" << method
        << "\",status=\"" << status << "\"} " << n << "\n";
  }
  out << "# HELP tokki_http_request_duration_seconds Request latency by route.\n"
         "# TYPE tokki_http_request_duration_seconds histogram\n";
  for (auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i)
      out << "tokki_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
          << kBuckets[i] << "\"} " << h.counts[i] << "\n";
    out << "tokki_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
        << h.count << "\n";
    out << "tokki_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n";
    out << "tokki_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  out << "# HELP tokki_open_streams Server-sent-event streams open now.\n"
         "# TYPE tokki_open_streams gauge\ntokki_open_streams "
      << open_streams_.load() << "\n";
  out << "# HELP tokki_open_connections HTTP connections open now.\n"
         "# TYPE tokki_open_connections gauge\ntokki_open_connections "
      << open_connections_.load() << "\n";
  return out.str();
}

}  // namespace tokki::api
