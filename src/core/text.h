// tokki/core/text.h — UTF-8 validation and small string helpers.
// Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tokki {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Number of code points in valid UTF-8 `s`.
size_t Utf8Length(std::string_view s);

// Cuts `s` to at most `max_bytes` without splitting a code point.
std::string_view Utf8Truncate(std::string_view s, size_t max_bytes);

// Lower-cases ASCII letters only.
std::string AsciiLower(std::string_view s);

// Trims ASCII whitespace at both ends.
std::string_view Trim(std::string_view s);

// Splits on `sep`, trimming and dropping empty parts.
std::vector<std::string> SplitTrimmed(std::string_view s, char sep);

// Lower-case hex of `data`.
std::string HexEncode(std::string_view data);

}  // namespace tokki
