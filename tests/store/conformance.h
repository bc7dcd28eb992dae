// Store conformance suite: instantiate with a factory for any Store implementation.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "store/store.h"

namespace tokki::store {
using StoreFactory = std::function<std::unique_ptr<Store>()>;

// The value of `r`; when it failed, records a test failure and returns T() instead, so
// that one broken method fails its test rather than aborting the whole suite.
template <typename T>
T Must(Result<T> r) {
  if (r.ok()) return std::move(r).value();
  ADD_FAILURE() << r.status().ToString();
  return T();
}

}  // namespace tokki::store
