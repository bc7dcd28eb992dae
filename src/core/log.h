// tokki/core/log.h — structured logging (logfmt lines on stderr) over spdlog.
//
//   TOKKI_LOG(info, "request", "rid", rid, "route", route, "status", 200);
//
// prints `ts=... level=info msg=request rid=7 route=/healthz status=200`.
// Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <string_view>

namespace tokki::log {

// Sets up the process-wide logger. `level` is trace|debug|info|warn|error|off.
void Init(std::string_view level);

namespace detail {
void AppendValue(std::string& out, std::string_view v);
inline void AppendKv(std::string&) {}
template <typename K, typename V, typename... Rest>
void AppendKv(std::string& out, const K& key, const V& value, const Rest&... rest) {
  out += ' ';
  out += key;
  out += '=';
  if constexpr (std::is_convertible_v<const V&, std::string_view>) {
    AppendValue(out, std::string_view(value));
  } else {
    std::ostringstream os;
    os << value;
    AppendValue(out, os.str());
  }
  AppendKv(out, rest...);
}
}  // namespace detail

template <typename... Kv>
std::string Format(std::string_view msg, const Kv&... kv) {
  std::string out = "msg=";
  detail::AppendValue(out, msg);
  detail::AppendKv(out, kv...);
  return out;
}

}  // namespace tokki::log

#define TOKKI_LOG(level, msg, ...) \
  ::spdlog::level(::tokki::log::Format(msg __VA_OPT__(, ) __VA_ARGS__))
