// tokki/persona/base64.h — internal: standard base64 (RFC 4648) for PNG card chunks.
// Thread-safe (pure functions).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tokki::persona::internal {

std::string Base64Encode(std::string_view data);

// Accepts the standard and URL-safe alphabets, ASCII whitespace anywhere and missing
// padding. nullopt on any other character or an impossible length.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace tokki::persona::internal
