// Store conformance suite: instantiate with a factory for any Store implementation.
#pragma once

#include <functional>
#include <memory>

#include "store/store.h"

namespace tokki::store {
using StoreFactory = std::function<std::unique_ptr<Store>()>;
}
