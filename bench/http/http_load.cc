// http_load — helpers for bench/http/run.sh:
//   http_load seed PORT N            registers a user, creates N public characters, prints the token
//   http_load sse PORT TOKEN N PID   opens N concurrent /api/events streams, holds them, and
//                                    prints the server's resident memory before/after
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

static long RssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

static int Seed(uint16_t port, int n) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  auto call = [&](http::verb v, const std::string& target, const std::string& body,
                  const std::string& token) {
    http::request<http::string_body> req{v, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  };
  std::string user = "bench" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  auto r = call(http::verb::post, "/api/auth/register",
                nlohmann::json{{"username", user}, {"password", "bench-password"}}.dump(), "");
  auto token = nlohmann::json::parse(r.body())["token"].get<std::string>();
  const char* langs[] = {"en", "ko", "zh"};
  for (int i = 0; i < n; ++i) {
    nlohmann::json c{{"name", "Bench Character " + std::to_string(i)},
                     {"tagline", "A character made for the load test"},
                     {"description", std::string(600, 'd')},
                     {"first_mes", "Hello there, {{user}}."},
                     {"tags", {"bench", "tag" + std::to_string(i % 10)}},
                     {"language", langs[i % 3]},
                     {"visibility", "public"}};
    auto res = call(http::verb::post, "/api/characters", c.dump(), token);
    if (res.result_int() != 201) {
      std::cerr << "seed failed: " << res.body() << "\n";
      return 1;
    }
  }
  std::cout << token << "\n";
  return 0;
}

static int Sse(uint16_t port, const std::string& token, int n, int pid) {
  long before = RssKb(pid);
  asio::io_context ioc;
  std::vector<std::unique_ptr<tcp::socket>> socks;
  int opened = 0;
  std::string req = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                    "Authorization: Bearer " + token + "\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    auto s = std::make_unique<tcp::socket>(ioc);
    beast::error_code ec;
    s->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) break;
    asio::write(*s, asio::buffer(req), ec);
    if (ec) break;
    socks.push_back(std::move(s));
  }
  // Confirm every stream answered with the SSE header.
  for (auto& s : socks) {
    char buf[512];
    beast::error_code ec;
    size_t got = s->read_some(asio::buffer(buf), ec);
    if (!ec && std::string(buf, got).find("text/event-stream") != std::string::npos) ++opened;
  }
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  long after = RssKb(pid);
  std::cout << "sse_streams_open " << opened << " of " << n << " in " << open_s << " s\n";
  std::cout << "server_rss_before_kb " << before << "\nserver_rss_after_kb " << after << "\n";
  if (opened > 0)
    std::cout << "rss_per_stream_kb " << static_cast<double>(after - before) / opened << "\n";
  return opened == n ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "seed") return Seed(std::stoi(argv[2]), std::stoi(argv[3]));
  if (argc >= 6 && std::string(argv[1]) == "sse")
    return Sse(std::stoi(argv[2]), argv[3], std::stoi(argv[4]), std::stoi(argv[5]));
  std::cerr << "usage: http_load seed PORT N | http_load sse PORT TOKEN N SERVER_PID\n";
  return 2;
}
