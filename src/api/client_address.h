// tokki/api/client_address.h — who the client really is when Tokki runs behind a reverse
// proxy. Only peers inside the --trusted-proxy ranges may speak for the client
// (X-Forwarded-For, X-Forwarded-Proto); anyone else's headers are ignored, so a client
// cannot pick its own address to dodge per-address limits.
//
// Thread safety: immutable after construction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "core/result.h"

namespace tokki::api {

class TrustedProxies {
 public:
  // CIDR ranges ("127.0.0.1/32", "10.0.0.0/8", "::1/128") or single addresses.
  static Result<TrustedProxies> Parse(const std::vector<std::string>& ranges);
  bool Contains(const boost::asio::ip::address& a) const;
  bool Contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

 private:
  struct Range {
    boost::asio::ip::address base;
    int prefix = 0;
  };
  std::vector<Range> ranges_;
};

struct ClientAddress {
  std::string ip;       // the client's address
  bool secure = false;  // it reached the first trusted proxy over HTTPS
};

// `peer` is the TCP peer. When it is a trusted proxy, the client is the right-most
// X-Forwarded-For entry that is not itself a trusted proxy, and `secure` comes from
// X-Forwarded-Proto; otherwise the peer is the client and the headers are ignored.
ClientAddress ResolveClient(const TrustedProxies& proxies, const std::string& peer,
                            std::string_view forwarded_for, std::string_view forwarded_proto);

}  // namespace tokki::api
