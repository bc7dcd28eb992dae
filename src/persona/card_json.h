// tokki/persona/card_json.h — internal: card JSON <-> store::Character.
// Not part of the public API. Thread-safe (pure functions).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace tokki::persona::internal {

// Parses JSON text with the card limits (nesting depth, UTF-8). `what` names the source
// in error messages, e.g. "card JSON" or "ccv3 chunk".
Result<nlohmann::json> ParseJsonLimited(std::string_view text, std::string_view what);

struct ParsedCard {
  store::Character character;
  int spec_version = 0;  // 1, 2 or 3
  std::vector<std::string> warnings;
};

// Maps a parsed card JSON document (V1, V2 or V3) onto a Character and checks limits.
Result<ParsedCard> CardFromJson(const nlohmann::json& doc);

// Builds card JSON for `c`: version 3 (chara_card_v3) or 2 (chara_card_v2 with V1 mirror
// fields at the top level). `assets` replaces the stored assets array when set.
nlohmann::json CardToJson(const store::Character& c, int version,
                          const std::optional<nlohmann::json>& assets = std::nullopt);

// Field limits and UTF-8 shared by import and ValidateCharacter.
Status CheckCharacterLimits(const store::Character& c);

// Checks that the JSON-valued fields parse and have the right shape (extensions object,
// character_book object with an entries list, assets list, multilingual notes object).
Status CheckJsonFields(const store::Character& c);

// Compact JSON text; invalid UTF-8 is replaced rather than thrown on.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace tokki::persona::internal
