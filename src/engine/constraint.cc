#include "engine/constraint.h"

#include <string>

namespace tokki::engine {

namespace {

Status CheckText(const std::string& text, const char* what) {
  if (text.size() > kMaxConstraintBytes)
    return Status::InvalidArgument(std::string(what) + " is over " +
                                   std::to_string(kMaxConstraintBytes) + " bytes");
  if (text.find('\0') != std::string::npos)
    return Status::InvalidArgument(std::string(what) + " must not contain NUL bytes");
  return Status::Ok();
}

}  // namespace

Status CheckConstraint(const SamplingParams& s) {
  if (!s.json_schema.empty() && !s.grammar.empty())
    return Status::InvalidArgument("give a JSON schema or a grammar, not both");
  if (!IsConstrained(s)) return Status::Ok();
  if (s.ignore_eos)
    return Status::InvalidArgument(
        "ignore_eos cannot be used with a JSON schema or grammar: the reply ends when it is complete");
  if (Status st = CheckText(s.json_schema, "the JSON schema"); !st.ok()) return st;
  return CheckText(s.grammar, "the grammar");
}

}  // namespace tokki::engine
