// tokki/persona/card.h — character card import/export (V1, V2, V3; JSON, PNG, CHARX).
//
// Start here for anything that reads or writes a card file. ImportCard() detects the
// format from the bytes (the filename only improves error messages), maps the card onto
// store::Character and keeps every field it does not model (unknown extension keys,
// lorebook options, assets) as JSON text, so that ImportCard -> ExportCard keeps them.
// Tokki's own fields live in `extensions.tokki` = {id?, tagline, language, real_person,
// avatar{emoji, palette[2], motif}}; tagline/language/real_person map to the Character
// fields, the rest stays in extensions_json.
//
// Formats read:
//   JSON  V1 (fields at the top level), V2 (spec "chara_card_v2"), V3 ("chara_card_v3").
//   PNG / APNG with base64 card JSON in a tEXt, zTXt or iTXt chunk keyed "chara" or
//         "ccv3" (keyword case-insensitive; "ccv3" wins when both exist). The image,
//         with its text chunks removed, becomes the avatar.
//   CHARX zip with card.json at the root; assets referenced as "embeded://path". The
//         icon asset (name "main" first) becomes the avatar.
// The avatar ImportCard returns is the file's image as it came (only PNG text chunks
// removed): untrusted. Callers must pass it through SanitizeImage() (image.h) before
// storing or serving it.
// Formats written: PNG (V3 in "ccv3" + V2 backfill in "chara"), V3 JSON, CHARX
// (card.json + assets/icon/images/main.png).
//
// Bad input gives InvalidArgument (or TooLarge for size limits) with a message naming
// the problem, and no card.
//
// Thread safety: pure functions; safe to call concurrently.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "store/records.h"

namespace tokki::persona {

// ---- Limits (bytes unless stated) ----
inline constexpr size_t kMaxCardFileBytes = 8u << 20;     // whole file, any format
inline constexpr size_t kMaxTextFieldBytes = 64u << 10;   // each text field / list item
inline constexpr size_t kMaxLongFieldBytes = 256u << 10;  // description, mes_example,
                                                          // character_book (as JSON)
inline constexpr size_t kMaxNameChars = 128;              // code points, required
inline constexpr size_t kMaxTags = 32;                    // tags per character
inline constexpr size_t kMaxTagBytes = 64;                // each tag
inline constexpr size_t kMaxGreetings = 64;               // alternate / group-only
inline constexpr size_t kMaxExtensionsBytes = 1u << 20;   // extensions as JSON
inline constexpr size_t kMaxAssetsBytes = 64u << 10;      // assets array as JSON
inline constexpr int kMaxJsonDepth = 64;                  // nesting in card JSON
// CHARX (zip) limits.
inline constexpr size_t kMaxZipEntries = 256;
inline constexpr size_t kMaxZipEntryBytes = 8u << 20;   // uncompressed, per entry
inline constexpr size_t kMaxZipTotalBytes = 32u << 20;  // uncompressed, all entries read
inline constexpr size_t kMaxZipRatio = 200;             // uncompressed / compressed

struct ImportedCard {
  store::Character character;
  std::optional<store::Avatar> avatar;  // untrusted bytes: SanitizeImage() before storing
  // "v1_json", "v2_json", "v3_json", "v1_png", "v2_png", "v3_png", "v2_charx", "v3_charx".
  std::string format;
  std::vector<std::string> warnings;  // things fixed up on the way in, for the user
};

// Parses a card file. `filename_hint` only sharpens error messages.
Result<ImportedCard> ImportCard(std::string_view bytes, std::string_view filename_hint = "");

enum class CardFormat { kPng, kJson, kCharx };

// Serialises a character. `avatar` may be null: PNG then uses a generated placeholder
// image, CHARX has no icon asset. PNG: a PNG avatar's image chunks (IHDR, PLTE, tRNS,
// IDAT) are copied as they are, not re-encoded, and the card's tEXt chunks added; a JPEG
// or WebP avatar is converted with SanitizeImage(); an avatar that does not decode falls
// back to the placeholder.
Result<std::string> ExportCard(const store::Character& character, const store::Avatar* avatar,
                               CardFormat format);

// Checks a character made or edited through the API: name required, <= kMaxNameChars;
// field sizes as above; valid UTF-8 everywhere; <= kMaxTags tags; JSON-valued fields parse
// and have the right shape; language is a 2-3 letter lower-case tag.
Status ValidateCharacter(const store::Character& character);

}  // namespace tokki::persona
