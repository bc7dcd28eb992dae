#include "api/client_address.h"

#include "core/text.h"

namespace tokki::api {

namespace {

std::vector<unsigned char> Bytes(const boost::asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return {b.begin(), b.end()};
  }
  auto b = a.to_v6().to_bytes();
  return {b.begin(), b.end()};
}

// True when the first `prefix` bits of a and b agree (same family).
bool PrefixMatch(const boost::asio::ip::address& a, const boost::asio::ip::address& b, int prefix) {
  if (a.is_v4() != b.is_v4()) return false;
  const auto bytes_a = Bytes(a);
  const auto bytes_b = Bytes(b);
  for (int i = 0; i < prefix; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((bytes_a[byte] >> bit) & 1) != ((bytes_b[byte] >> bit) & 1)) return false;
  }
  return true;
}

boost::asio::ip::address Unmapped(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& ranges) {
  TrustedProxies out;
  for (const auto& raw : ranges) {
    std::string r(Trim(raw));
    if (r.empty()) continue;
    std::string addr = r;
    int prefix = -1;
    if (auto slash = r.find('/'); slash != std::string::npos) {
      addr = r.substr(0, slash);
      try {
        prefix = std::stoi(r.substr(slash + 1));
      } catch (...) {
        return Status::InvalidArgument("bad --trusted-proxy '" + r + "': the prefix is not a number");
      }
    }
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(addr, ec);
    if (ec) return Status::InvalidArgument("bad --trusted-proxy '" + r + "': " + ec.message());
    int max = a.is_v4() ? 32 : 128;
    if (prefix < 0) prefix = max;
    if (prefix > max) return Status::InvalidArgument("bad --trusted-proxy '" + r + "': prefix over " + std::to_string(max));
    out.ranges_.push_back(Range{a, prefix});
  }
  return out;
}

bool TrustedProxies::Contains(const boost::asio::ip::address& a) const {
  auto u = Unmapped(a);
  for (const auto& r : ranges_)
    if (PrefixMatch(u, r.base, r.prefix)) return true;
  return false;
}

bool TrustedProxies::Contains(std::string_view address) const {
  if (ranges_.empty()) return false;
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(Trim(address)), ec);
  return !ec && Contains(a);
}

ClientAddress ResolveClient(const TrustedProxies& proxies, const std::string& peer,
                            std::string_view forwarded_for, std::string_view forwarded_proto) {
  ClientAddress out{peer, false};
  if (!proxies.Contains(peer)) return out;
  // Right to left: each hop appended the address it saw; the first untrusted one is the client.
  auto hops = SplitTrimmed(std::string(forwarded_for), ',');
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    boost::system::error_code ec;
    auto a = boost::asio::ip::make_address(*it, ec);
    if (ec) break;  // garbage: stop at what we can trust
    out.ip = Unmapped(a).to_string();
    if (!proxies.Contains(a)) break;
  }
  auto proto = SplitTrimmed(std::string(forwarded_proto), ',');
  out.secure = !proto.empty() && AsciiLower(proto.front()) == "https";
  return out;
}

}  // namespace tokki::api
