// abuse — bench/abuse/run.sh: does a normal user stay served while an abusive client attacks?
//
//   abuse PORT SERVER_PID [--rounds N] [--idle-conns N] [--flood-accounts N] [--flood-convs N]
//         [--flood-max-tokens N] [--uploaders N] [--login-senders N] [--event-streams N]
//         [--attack-min-s S] [--attack-max-s S]        (0 leaves a part of the attack out)
//
// A normal user (127.0.0.1) signs up, opens the deck, likes the first card and sends a message
// (streamed, small max_tokens): registration time, deck time and time to the first token,
// `rounds` times on the idle server, then the same while an attacker — every other address
// from 127.0.0.2 to 127.0.0.250 — attacks with all of these at once:
//   idle      thousands of connections that send nothing or half a header (slowloris),
//             reconnecting whenever the server closes them;
//   flood     a few accounts, each with many conversations, sending streamed messages in a
//             tight loop with the largest replies they may ask for (429 past the per-user cap);
//   login     unauthenticated POSTs to /api/auth/login declaring a 15 MB body;
//   upload    signed-in 15 MB uploads to /api/characters/import;
//   events    one account opening far more GET /api/events streams than it may hold.
// It prints p50/p90 per metric and phase with PASS/MISS against "under attack p50 <= 2x idle
// p50", what the attacker was answered, and the server's memory. Figures, not a test: the exit
// status is 0 unless something broke (the server did not answer the setup).
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// ---------------------------------------------------------------- settings

struct Settings {
  uint16_t port = 0;
  int server_pid = 0;
  int rounds = 15;
  int idle_conns = 3000;        // slowloris sockets held at once
  int flood_accounts = 6;       // 6 x 4 replies each > the engine's 16 parallel sequences
  int flood_convs = 8;          // conversations per flooding account (one sender each)
  int flood_max_tokens = 1024;  // what a flooder asks for (ignore_eos: as long as allowed)
  int login_senders = 4;        // 15 MB declared login bodies, in a loop each
  int uploaders = 6;            // 15 MB card imports, in a loop each (budget holds 4)
  int event_streams = 100;      // one account; the server allows 32
  int ramp_s = 5;               // attack running before the first measured round
  int attack_min_s = 30;
  int attack_max_s = 60;
};

const std::string kPassword = "abuse-bench-password";
constexpr size_t kBigBody = 15 * 1024 * 1024;

std::string Addr(int last_octet) { return "127.0.0." + std::to_string(last_octet); }
// Source addresses: the normal user is 127.0.0.1; the attacker spreads over the rest.
std::string FloodAddr(int account) { return Addr(2 + account % 6); }  // .2 – .7
const std::string kLoginAddr = Addr(8);
const std::string kUploadAddr = Addr(9);
std::string EventsAddr(int i) { return Addr(10 + i % 4); }  // .10 – .13
std::string IdleAddr(int i) { return Addr(20 + i % 231); }  // .20 – .250

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

long ProcStatusKb(int pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, n, key) == 0) return std::stol(line.substr(n + 1));
  return -1;
}

long OpenFds(int pid) {
  std::error_code ec;
  long n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

// ---------------------------------------------------------------- HTTP client pieces

tcp::endpoint g_server;  // the tokki under test, on 127.0.0.1

// Opens a connection from `source` (a 127.0.0.x address) to the server.
awaitable<bool> Dial(beast::tcp_stream& s, const std::string& source) {
  beast::error_code ec;
  s.socket().open(tcp::v4(), ec);
  if (!ec) s.socket().bind(tcp::endpoint(asio::ip::make_address(source), 0), ec);
  if (ec) co_return false;
  s.expires_after(10s);
  auto [cec] = co_await s.async_connect(g_server, kTuple);
  s.expires_never();
  co_return !cec;
}

http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target,
                                             const std::string& body, const std::string& token,
                                             bool event_stream = false) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (event_stream) req.set(http::field::accept, "text/event-stream");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  return req;
}

struct Reply {
  int status = 0;  // 0: the connection failed or closed without an answer
  std::string body;
  bool keep_alive = false;
};

// Writes `req` and reads the whole answer on an open connection.
awaitable<Reply> Exchange(beast::tcp_stream& s, beast::flat_buffer& buf,
                          http::request<http::string_body>& req, std::chrono::seconds timeout) {
  Reply out;
  s.expires_after(timeout);
  auto [wec, wn] = co_await http::async_write(s, req, kTuple);
  if (wec) co_return out;
  http::response<http::string_body> res;
  auto [rec, rn] = co_await http::async_read(s, buf, res, kTuple);
  s.expires_never();
  if (rec) co_return out;
  out.status = res.result_int();
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive();
  co_return out;
}

// After the answer's header: reads a server-sent event stream until `event: done` (or the
// connection ends, or `deadline`). `first_token` gets the time of the first `event: token`;
// returns the last event's name and data ("" when the stream ended without done or error).
awaitable<std::string> ReadEvents(beast::tcp_stream& s, beast::flat_buffer& buf,
                                  Clock::time_point deadline,
                                  std::optional<Clock::time_point>* first_token) {
  std::string window;  // unread text, cut at line ends
  std::string event, ending;
  auto scan = [&] {
    for (;;) {
      size_t nl = window.find('\n');
      if (nl == std::string::npos) break;
      std::string_view line(window.data(), nl);
      if (line.rfind("event: ", 0) == 0) event = line.substr(7);
      if (event == "token" && first_token && !*first_token) *first_token = Clock::now();
      if ((event == "done" || event == "error") && line.rfind("data: ", 0) == 0)
        ending = event + " " + std::string(line.substr(6));
      window.erase(0, nl + 1);
    }
  };
  window.append(static_cast<const char*>(buf.data().data()), buf.size());
  buf.consume(buf.size());
  scan();
  char chunk[8192];
  while (ending.empty()) {
    s.expires_at(deadline);
    auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), kTuple);
    if (ec) break;
    window.append(chunk, n);
    scan();
  }
  s.expires_never();
  co_return ending;
}

// Runs one coroutine to its end on a private io_context (the normal user's calls).
template <typename T>
T RunSync(std::function<awaitable<T>()> fn) {
  asio::io_context ioc;
  std::optional<T> result;
  asio::co_spawn(
      ioc, [&]() -> awaitable<void> { result = co_await fn(); }, asio::detached);
  ioc.run();
  return result ? std::move(*result) : T{};
}

// One request on a fresh connection, timed from before the connect.
struct Timed {
  Reply reply;
  double ms = 0;
};
Timed Call(const std::string& source, http::verb verb, const std::string& target,
           const std::string& body = "", const std::string& token = "") {
  return RunSync<Timed>([&]() -> awaitable<Timed> {
    Timed t;
    auto start = Clock::now();
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream s(ex);
    bool ok = co_await Dial(s, source);
    if (!ok) co_return t;
    beast::flat_buffer buf;
    auto req = MakeRequest(verb, target, body, token);
    t.reply = co_await Exchange(s, buf, req, 60s);
    t.ms = MsSince(start);
    co_return t;
  });
}

// ---------------------------------------------------------------- what the attacker got

class Tally {
 public:
  void Add(const std::string& part, const std::string& what, long n = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    counts_[part][what] += n;
  }
  void AddStatus(const std::string& part, int status) {
    Add(part, status == 0 ? std::string("closed") : std::to_string(status));
  }
  std::map<std::string, std::map<std::string, long>> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, long>> counts_;
};

struct Gauge {
  std::atomic<long> now{0}, peak{0};
  void Up() {
    long v = ++now;
    long p = peak.load();
    while (v > p && !peak.compare_exchange_weak(p, v)) {
    }
  }
  void Down() { --now; }
};

// ---------------------------------------------------------------- the attack

class Attack {
 public:
  Attack(const Settings& cfg, std::vector<std::vector<std::pair<std::string, long>>> flooders,
         std::string upload_token, std::string events_token)
      : cfg_(cfg),
        flooders_(std::move(flooders)),
        upload_token_(std::move(upload_token)),
        events_token_(std::move(events_token)),
        big_(std::make_shared<std::string>(BigBody())) {}

  void Start() {
    for (int i = 0; i < cfg_.idle_conns; ++i) Spawn(Idle(i));
    for (size_t a = 0; a < flooders_.size(); ++a)
      for (auto& [token, conv] : flooders_[a]) Spawn(Flood(static_cast<int>(a), token, conv));
    for (int i = 0; i < cfg_.login_senders; ++i) Spawn(LoginBody());
    for (int i = 0; i < cfg_.uploaders; ++i) Spawn(Upload());
    for (int i = 0; i < cfg_.event_streams; ++i) Spawn(Events(i));
    thread_ = std::thread([this] { ioc_->run(); });
  }

  // Ends every part: destroying the io_context drops the coroutines and closes their sockets.
  void Stop() {
    running_ = false;
    ioc_->stop();
    if (thread_.joinable()) thread_.join();
    ioc_.reset();
  }

  Tally tally;
  Gauge idle_open, streams_open;

 private:
  static std::string BigBody() {
    // Starts like a JSON card so the importer parses it before giving up.
    std::string b = "{\"name\": \"";
    b.resize(kBigBody, 'x');
    return b;
  }

  template <typename A>
  void Spawn(A&& a) {
    asio::co_spawn(*ioc_, std::forward<A>(a), asio::detached);
  }

  awaitable<void> Pause(std::chrono::milliseconds d) {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex);
    t.expires_after(d);
    co_await t.async_wait(kTuple);
  }

  // Connects, sends nothing (even i) or half a header (odd i) and waits for the server to
  // give up on it; then again. Counts how each connection ended.
  awaitable<void> Idle(int i) {
    const std::string src = IdleAddr(i);
    const std::string half = "GET /api/deck?limit=10 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    while (running_) {
      auto ex = co_await asio::this_coro::executor;
      beast::tcp_stream s(ex);
      bool ok = co_await Dial(s, src);
      if (!ok) {
        tally.Add("idle", "connect failed");
        co_await Pause(200ms);
        continue;
      }
      idle_open.Up();
      if (i % 2) co_await asio::async_write(s, asio::buffer(half), kTuple);
      char chunk[512];
      auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), kTuple);
      idle_open.Down();
      if (ec || n < 12) {
        tally.Add("idle", "closed");
      } else {
        tally.AddStatus("idle", std::atoi(std::string(chunk + 9, 3).c_str()));  // "HTTP/1.1 503"
        co_await Pause(100ms);
      }
    }
  }

  // Sends streamed messages in one conversation as fast as the server answers: reads a
  // reply to its end when it gets one, else (429, 409) asks again at once.
  awaitable<void> Flood(int account, std::string token, long conv) {
    const std::string src = FloodAddr(account);
    Json body{{"content", "Tell me everything, at length."},
              {"generation", {{"max_tokens", cfg_.flood_max_tokens}, {"ignore_eos", true}}}};
    const std::string text = body.dump();
    const std::string target = "/api/conversations/" + std::to_string(conv) + "/messages";
    auto ex = co_await asio::this_coro::executor;
    std::optional<beast::tcp_stream> s;
    beast::flat_buffer buf;
    while (running_) {
      if (!s) {
        s.emplace(ex);
        buf.clear();
        bool ok = co_await Dial(*s, src);
        if (!ok) {
          tally.Add("flood", "connect failed");
          s.reset();
          co_await Pause(100ms);
          continue;
        }
      }
      auto req = MakeRequest(http::verb::post, target, text, token, /*event_stream=*/true);
      s->expires_after(30s);
      auto [wec, wn] = co_await http::async_write(*s, req, kTuple);
      http::response_parser<http::string_body> parser;
      parser.body_limit(boost::none);
      beast::error_code rec = wec;
      if (!wec)
        std::tie(rec, std::ignore) = co_await http::async_read_header(*s, buf, parser, kTuple);
      if (rec) {
        tally.AddStatus("flood", 0);
        s.reset();
        continue;
      }
      const int status = parser.get().result_int();
      tally.AddStatus("flood", status);
      if (status == 200) {
        std::string ending = co_await ReadEvents(*s, buf, Clock::now() + 120s, nullptr);
        tally.Add("flood", ending.empty() ? "reply unfinished"
                                          : "reply " + ending.substr(0, ending.find(' ')));
        s.reset();  // a stream ends its connection
        continue;
      }
      auto [bec, bn] = co_await http::async_read(*s, buf, parser, kTuple);
      s->expires_never();
      if (bec || !parser.get().keep_alive()) s.reset();
    }
  }

  // Declares a 15 MB JSON body to the sign-in route, sends the first MiB of it, reads the
  // answer (413 expected before a byte is buffered) and hangs up.
  awaitable<void> LoginBody() {
    const std::string head =
        "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(kBigBody) + "\r\n\r\n";
    while (running_) {
      auto ex = co_await asio::this_coro::executor;
      beast::tcp_stream s(ex);
      bool ok = co_await Dial(s, kLoginAddr);
      if (!ok) {
        tally.Add("login 15 MB", "connect failed");
        co_await Pause(100ms);
        continue;
      }
      int status = co_await SendBig(s, head, 1024 * 1024);
      tally.AddStatus("login 15 MB", status);
    }
  }

  // Uploads a 15 MB card file as a signed-in user; the server reads it, fails to parse it.
  awaitable<void> Upload() {
    const std::string head =
        "POST /api/characters/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/octet-stream\r\nX-Filename: card.json\r\n"
        "Authorization: Bearer " +
        upload_token_ + "\r\nContent-Length: " + std::to_string(kBigBody) + "\r\n\r\n";
    while (running_) {
      auto ex = co_await asio::this_coro::executor;
      beast::tcp_stream s(ex);
      bool ok = co_await Dial(s, kUploadAddr);
      if (!ok) {
        tally.Add("import 15 MB", "connect failed");
        co_await Pause(100ms);
        continue;
      }
      int status = co_await SendBig(s, head, kBigBody);
      tally.AddStatus("import 15 MB", status);
    }
  }

  // Writes `head` and `body_bytes` of the big body (stopping early when the server refuses
  // them), then reads the answer's status; 0 when none came.
  awaitable<int> SendBig(beast::tcp_stream& s, const std::string& head, size_t body_bytes) {
    s.expires_after(60s);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(big_->data(), body_bytes)};
    co_await asio::async_write(s, bufs, kTuple);  // may fail: the answer can still be there
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    s.expires_after(10s);
    auto [ec, n] = co_await http::async_read(s, buf, res, kTuple);
    co_return ec ? 0 : res.result_int();
  }

  // Holds a /api/events stream as long as the server keeps it; when refused, asks again
  // after a short pause.
  awaitable<void> Events(int i) {
    const std::string src = EventsAddr(i);
    while (running_) {
      auto ex = co_await asio::this_coro::executor;
      beast::tcp_stream s(ex);
      bool ok = co_await Dial(s, src);
      if (!ok) {
        tally.Add("events", "connect failed");
        co_await Pause(250ms);
        continue;
      }
      auto req = MakeRequest(http::verb::get, "/api/events", "", events_token_, true);
      s.expires_after(30s);
      auto [wec, wn] = co_await http::async_write(s, req, kTuple);
      beast::flat_buffer buf;
      http::response_parser<http::string_body> parser;
      parser.body_limit(boost::none);
      beast::error_code rec = wec;
      if (!wec)
        std::tie(rec, std::ignore) = co_await http::async_read_header(s, buf, parser, kTuple);
      const int status = rec ? 0 : parser.get().result_int();
      tally.AddStatus("events", status);
      if (status == 200) {
        streams_open.Up();
        s.expires_never();
        char chunk[1024];
        for (;;) {
          auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), kTuple);
          if (ec) break;
        }
        streams_open.Down();
      } else {
        co_await Pause(250ms);
      }
    }
  }

  const Settings& cfg_;
  std::vector<std::vector<std::pair<std::string, long>>>
      flooders_;  // per account: (token, conversation)
  std::string upload_token_, events_token_;
  std::shared_ptr<std::string> big_;
  std::atomic<bool> running_{true};
  std::unique_ptr<asio::io_context> ioc_ = std::make_unique<asio::io_context>(1);
  std::thread thread_;
};

// ---------------------------------------------------------------- the normal user

// A step that failed (an error answer, or no token in time) counts as an infinite time:
// it is in the percentiles, printed as "fail".
constexpr double kFailed = std::numeric_limits<double>::infinity();
constexpr auto kFirstTokenWait = 20s;

struct Samples {
  std::vector<double> reg, deck, ttft;
  int failed = 0;
  std::string last_error;
};

// Sends a message and returns the time to its first token (from before the connect), or
// what happened instead.
struct FirstTokenResult {
  std::optional<double> ms;
  std::string why;
};
FirstTokenResult FirstToken(const std::string& token, long conv) {
  return RunSync<FirstTokenResult>([&]() -> awaitable<FirstTokenResult> {
    FirstTokenResult out;
    auto start = Clock::now();
    auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream s(ex);
    bool ok = co_await Dial(s, Addr(1));
    if (!ok) {
      out.why = "connect failed";
      co_return out;
    }
    Json body{{"content", "Hello! How are you today?"}, {"generation", {{"max_tokens", 8}}}};
    auto req =
        MakeRequest(http::verb::post, "/api/conversations/" + std::to_string(conv) + "/messages",
                    body.dump(), token, /*event_stream=*/true);
    s.expires_after(60s);
    auto [wec, wn] = co_await http::async_write(s, req, kTuple);
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    beast::error_code rec = wec;
    if (!wec) std::tie(rec, std::ignore) = co_await http::async_read_header(s, buf, parser, kTuple);
    if (rec || parser.get().result_int() != 200) {
      out.why = rec ? "closed" : "status " + std::to_string(parser.get().result_int());
      co_return out;
    }
    std::optional<Clock::time_point> first;
    std::string ending = co_await ReadEvents(s, buf, start + kFirstTokenWait, &first);
    if (first)
      out.ms = std::chrono::duration<double, std::milli>(*first - start).count();
    else
      out.why = ending.empty() ? "no token within " + std::to_string(kFirstTokenWait.count()) + " s"
                               : "no token, the stream ended with: " + ending;
    co_return out;
  });
}

// One visitor: sign up, open the deck, like the first card, send a message.
void NormalRoundSteps(const std::string& name, Samples* out) {
  auto fail = [&](std::vector<double>* metric, const std::string& what, const Timed& t) {
    metric->push_back(kFailed);
    ++out->failed;
    out->last_error =
        what + ": " + std::to_string(t.reply.status) + " " + t.reply.body.substr(0, 160);
  };
  const std::string me = Addr(1);
  Json cred{{"username", name}, {"password", kPassword}};
  Timed reg = Call(me, http::verb::post, "/api/auth/register", cred.dump());
  if (reg.reply.status != 201) return fail(&out->reg, "register", reg);
  out->reg.push_back(reg.ms);
  const std::string token = Json::parse(reg.reply.body)["token"].get<std::string>();

  Timed deck = Call(me, http::verb::get, "/api/deck?limit=10", "", token);
  if (deck.reply.status != 200) return fail(&out->deck, "deck", deck);
  out->deck.push_back(deck.ms);
  Json cards = Json::parse(deck.reply.body)["cards"];
  if (cards.empty()) return fail(&out->ttft, "deck (empty)", deck);

  Json like{{"character_id", cards[0]["id"]}, {"action", "like"}};
  Timed swipe = Call(me, http::verb::post, "/api/deck/swipes", like.dump(), token);
  if (swipe.reply.status != 201) return fail(&out->ttft, "swipe", swipe);
  const long conv = Json::parse(swipe.reply.body)["conversation_id"].get<long>();

  auto ttft = FirstToken(token, conv);
  if (!ttft.ms) {
    out->ttft.push_back(kFailed);
    ++out->failed;
    out->last_error = ttft.why;
    return;
  }
  out->ttft.push_back(*ttft.ms);
}

void NormalRound(const std::string& name, Samples* out) {
  try {
    NormalRoundSteps(name, out);
  } catch (const std::exception& e) {  // an answer that is not the JSON it should be
    ++out->failed;
    out->last_error = e.what();
  }
}

// ---------------------------------------------------------------- setup

// Registers `name` from `source`; returns the token ("" on failure).
std::string SignUp(const std::string& source, const std::string& name) {
  Json cred{{"username", name}, {"password", kPassword}};
  Timed t = Call(source, http::verb::post, "/api/auth/register", cred.dump());
  if (t.reply.status != 201) {
    std::cerr << "abuse: sign-up of " << name << " failed: " << t.reply.status << " "
              << t.reply.body << "\n";
    return "";
  }
  return Json::parse(t.reply.body)["token"].get<std::string>();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return kFailed;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

bool ParseArgs(int argc, char** argv, Settings* s) {
  if (argc < 3) return false;
  s->port = static_cast<uint16_t>(std::stoi(argv[1]));
  s->server_pid = std::stoi(argv[2]);
  std::map<std::string, int*> opts{{"--rounds", &s->rounds},
                                   {"--idle-conns", &s->idle_conns},
                                   {"--flood-accounts", &s->flood_accounts},
                                   {"--flood-convs", &s->flood_convs},
                                   {"--flood-max-tokens", &s->flood_max_tokens},
                                   {"--uploaders", &s->uploaders},
                                   {"--login-senders", &s->login_senders},
                                   {"--event-streams", &s->event_streams},
                                   {"--attack-min-s", &s->attack_min_s},
                                   {"--attack-max-s", &s->attack_max_s}};
  for (int i = 3; i + 1 < argc; i += 2) {
    auto it = opts.find(argv[i]);
    if (it == opts.end()) return false;
    *it->second = std::stoi(argv[i + 1]);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Settings cfg;
  if (!ParseArgs(argc, argv, &cfg)) {
    std::cerr
        << "usage: abuse PORT SERVER_PID [--rounds N] [--idle-conns N] [--flood-accounts N]\n"
           "       [--flood-convs N] [--flood-max-tokens N] [--uploaders N] [--login-senders N]\n"
           "       [--event-streams N] [--attack-min-s S] [--attack-max-s S]\n";
    return 2;
  }
  g_server = tcp::endpoint(asio::ip::make_address("127.0.0.1"), cfg.port);
  const std::string run =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100000000);

  // The attacker's accounts, signed up from its own addresses before anything is measured.
  Timed list = Call(Addr(1), http::verb::get, "/api/characters?limit=100");
  if (list.reply.status != 200) {
    std::cerr << "abuse: cannot list characters: " << list.reply.status << "\n";
    return 1;
  }
  std::vector<long> character_ids;
  const Json listed = Json::parse(list.reply.body);
  for (auto& c : listed["items"]) character_ids.push_back(c["id"].get<long>());
  if (static_cast<int>(character_ids.size()) < cfg.flood_convs) {
    std::cerr << "abuse: the catalog has too few characters (" << character_ids.size() << ")\n";
    return 1;
  }
  std::vector<std::vector<std::pair<std::string, long>>> flooders;
  for (int a = 0; a < cfg.flood_accounts; ++a) {
    std::string token = SignUp(FloodAddr(a), "flood" + std::to_string(a) + "_" + run);
    if (token.empty()) return 1;
    flooders.emplace_back();
    for (int c = 0; c < cfg.flood_convs; ++c) {
      Json body{{"character_id", character_ids[static_cast<size_t>(c)]}};
      Timed t = Call(FloodAddr(a), http::verb::post, "/api/conversations", body.dump(), token);
      if (t.reply.status != 201) {
        std::cerr << "abuse: cannot start a conversation: " << t.reply.status << " " << t.reply.body
                  << "\n";
        return 1;
      }
      flooders.back().emplace_back(token, Json::parse(t.reply.body)["id"].get<long>());
    }
  }
  std::string upload_token = SignUp(kUploadAddr, "uploader_" + run);
  std::string events_token = SignUp(EventsAddr(0), "streamer_" + run);
  if (upload_token.empty() || events_token.empty()) return 1;

  // Phase 1: the normal user on the idle server (one warm-up round first, not counted).
  Samples idle, attacked;
  {
    Samples warm;
    NormalRound("warmup_" + run, &warm);
  }
  for (int r = 0; r < cfg.rounds; ++r) NormalRound("idle" + std::to_string(r) + "_" + run, &idle);
  std::cout << "idle phase: " << cfg.rounds << " rounds, " << idle.failed << " failed"
            << (idle.failed ? " (" + idle.last_error + ")" : "") << "\n";

  // Phase 2: the same under attack.
  const long rss_before = ProcStatusKb(cfg.server_pid, "VmRSS:");
  const long fds_before = OpenFds(cfg.server_pid);
  std::atomic<long> rss_peak{rss_before}, fds_peak{fds_before};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      rss_peak = std::max(rss_peak.load(), ProcStatusKb(cfg.server_pid, "VmRSS:"));
      fds_peak = std::max(fds_peak.load(), OpenFds(cfg.server_pid));
      std::this_thread::sleep_for(250ms);
    }
  });
  Attack attack(cfg, flooders, upload_token, events_token);
  const auto attack_start = Clock::now();
  attack.Start();
  std::this_thread::sleep_for(std::chrono::seconds(cfg.ramp_s));
  std::cout << "attack running: " << attack.idle_open.now << " idle connections, "
            << attack.streams_open.now << " event streams held\n";
  int measured = 0;
  for (int r = 0; r < cfg.rounds; ++r) {
    if (MsSince(attack_start) > cfg.attack_max_s * 1000.0) break;
    NormalRound("busy" + std::to_string(r) + "_" + run, &attacked);
    ++measured;
  }
  while (MsSince(attack_start) < cfg.attack_min_s * 1000.0) std::this_thread::sleep_for(100ms);
  const double attack_s = MsSince(attack_start) / 1000.0;
  attack.Stop();
  std::this_thread::sleep_for(3s);  // let the server see the connections go
  sampling = false;
  sampler.join();
  const long rss_after = ProcStatusKb(cfg.server_pid, "VmRSS:");
  const long fds_after = OpenFds(cfg.server_pid);
  std::cout << "attack phase: " << measured << " rounds in " << attack_s << " s of attack, "
            << attacked.failed << " failed"
            << (attacked.failed ? " (" + attacked.last_error + ")" : "") << "\n\n";

  // The normal user's figures.
  std::printf("%-18s %22s %26s %8s  %s\n", "metric (ms)", "idle p50 / p90",
              "under attack p50 / p90", "ratio", "target: attack p50 <= 2x idle p50");
  auto fmt = [](double v) {
    char b[32];
    if (std::isinf(v)) return std::string("fail");
    std::snprintf(b, sizeof b, "%.1f", v);
    return std::string(b);
  };
  auto failures = [](const std::vector<double>& v) {
    return std::count(v.begin(), v.end(), kFailed);
  };
  auto row = [&](const char* name, const std::vector<double>& a, const std::vector<double>& b) {
    double a50 = Percentile(a, 0.5), a90 = Percentile(a, 0.9);
    double b50 = Percentile(b, 0.5), b90 = Percentile(b, 0.9);
    std::string ratio =
        a50 > 0 && !std::isinf(a50) && !std::isinf(b50) ? fmt(b50 / a50) + "x" : "-";
    const char* verdict = !b.empty() && !std::isinf(b50) && b50 <= 2.0 * a50 ? "PASS" : "MISS";
    std::printf(
        "%-18s %10s / %-9s %12s / %-11s %8s  %-4s  (failed: idle %ld of %zu, attack %ld of %zu)\n",
        name, fmt(a50).c_str(), fmt(a90).c_str(), fmt(b50).c_str(), fmt(b90).c_str(), ratio.c_str(),
        verdict, failures(a), a.size(), failures(b), b.size());
  };
  row("register", idle.reg, attacked.reg);
  row("deck (limit=10)", idle.deck, attacked.deck);
  row("first token", idle.ttft, attacked.ttft);

  // What the attacker got.
  std::cout << "\nattacker's answers (" << attack_s << " s):\n";
  for (auto& [part, counts] : attack.tally.Get()) {
    std::printf("  %-14s", part.c_str());
    for (auto& [what, n] : counts) std::printf("  %s: %ld", what.c_str(), n);
    std::printf("\n");
  }
  std::printf(
      "  idle connections held at once (peak): %ld; event streams held at once (peak): %ld\n",
      attack.idle_open.peak.load(), attack.streams_open.peak.load());
  std::printf(
      "\nserver RSS: before %.1f MiB, peak %.1f MiB, after %.1f MiB (3 s after the attack)\n",
      rss_before / 1024.0, rss_peak / 1024.0, rss_after / 1024.0);
  std::printf("server open fds: before %ld, peak %ld, after %ld\n", fds_before, fds_peak.load(),
              fds_after);
  return 0;
}
