// tokki/engine/constraint.h — the rules every engine applies to constrained output
// (SamplingParams::json_schema and ::grammar) before it accepts a request. Engines then
// check the schema or grammar itself: the embedded engine builds it (grammar.h), a remote
// backend parses the schema it sends.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "engine/engine.h"

namespace tokki::engine {

// The longest JSON schema or grammar text an engine accepts.
inline constexpr size_t kMaxConstraintBytes = 64 * 1024;

inline bool IsConstrained(const SamplingParams& s) {
  return !s.json_schema.empty() || !s.grammar.empty();
}

// kInvalidArgument when both a JSON schema and a grammar are set, when either is longer
// than kMaxConstraintBytes or holds a NUL byte, or when a constrained generation asks for
// ignore_eos (it must end when its grammar is complete).
Status CheckConstraint(const SamplingParams& sampling);

}  // namespace tokki::engine
