// tokki/core/types.h — ids and small shared vocabulary types.
#pragma once

#include <cstdint>

namespace tokki {

// Row ids are 64-bit integers assigned by the store; 0 means "none".
using Id = int64_t;
constexpr Id kNoId = 0;

}  // namespace tokki
