// Test helper: a JSON schema with bounded strings and arrays, and a hand-written check
// of a document against exactly that schema (no C++ JSON Schema validator is packaged).
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace tokki::engine::testing {

// Every string and array is bounded, so a generation under it ends by its grammar.
inline const char* kPetSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 16},
    "age": {"type": "integer", "minimum": 0, "maximum": 30},
    "kind": {"enum": ["cat", "dog", "rabbit"]},
    "friendly": {"type": "boolean"},
    "toys": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3}
  },
  "required": ["name", "age", "kind", "friendly", "toys"],
  "additionalProperties": false
})";

// Code points of a UTF-8 string (JSON Schema lengths count characters).
inline size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// "" when `doc` is valid under kPetSchema, else what is wrong.
inline std::string CheckPet(const nlohmann::json& doc) {
  if (!doc.is_object()) return "not an object";
  const std::set<std::string> keys = {"name", "age", "kind", "friendly", "toys"};
  for (auto& [k, v] : doc.items())
    if (!keys.count(k)) return "unexpected property " + k;
  for (auto& k : keys)
    if (!doc.contains(k)) return "missing " + k;
  const auto& name = doc["name"];
  if (!name.is_string()) return "name is not a string";
  const size_t n = CodePoints(name.get<std::string>());
  if (n < 1 || n > 16) return "name has " + std::to_string(n) + " characters";
  const auto& age = doc["age"];
  if (!age.is_number_integer()) return "age is not an integer";
  if (age.get<int64_t>() < 0 || age.get<int64_t>() > 30) return "age out of range";
  const auto& kind = doc["kind"];
  if (!kind.is_string() || (kind != "cat" && kind != "dog" && kind != "rabbit")) return "bad kind";
  if (!doc["friendly"].is_boolean()) return "friendly is not a boolean";
  const auto& toys = doc["toys"];
  if (!toys.is_array() || toys.size() > 3) return "toys is not an array of at most 3";
  for (auto& t : toys) {
    if (!t.is_string()) return "a toy is not a string";
    if (CodePoints(t.get<std::string>()) > 8) return "a toy is too long";
  }
  return "";
}

}  // namespace tokki::engine::testing
