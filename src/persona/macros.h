// tokki/persona/macros.h — card text macros.
//
//   {{char}} <BOT>          the character's name
//   {{user}} <USER>         the user's name
//   {{original}}            Tokki's default system prompt (inside a card's system prompt)
//   {{random:a,b,c}}        one option, new on every turn ("::" may separate instead of ",")
//   {{pick:a,b,c}}          one option, stable for the whole conversation
//   {{roll:N}} {{roll:dN}} {{roll:XdN}}  dice; stable like {{random}} within a turn
//   {{// anything}}         removed
// Names are case-insensitive; unknown {{...}} is left as written.
//
// A Korean particle written right after {{char}}, <BOT>, {{user}} or <USER> is made to
// agree with the name that replaced it: "{{char}}가" gives 보리가 but 세종이, "{{user}}(으)로"
// gives 서울로 but 세종으로 (josa.h has the rules). Nothing else in the text is changed, and
// a particle after a name whose reading is unknown (Kate, 美咲) stays as written.
//
// Randomness is deterministic: an option depends on a seed, the text's `salt` and the
// macro's byte position in the text, so the same prompt is rebuilt byte for byte.
//
// Thread safety: pure functions. Start with ExpandMacros().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tokki::persona {

struct MacroContext {
  std::string_view char_name;
  std::string_view user_name;
  std::string_view original;  // {{original}}; its own macros are expanded too
  uint64_t pick_seed = 0;     // {{pick}}: the conversation's seed
  uint64_t random_seed = 0;   // {{random}}, {{roll}}: the conversation's seed mixed with the turn
};

// Expands the macros in `text`. `salt` distinguishes texts (e.g. a hash of the field
// name), so {{pick}} at the same position in two fields is independent.
std::string ExpandMacros(std::string_view text, const MacroContext& ctx, uint64_t salt = 0);

// 64-bit mix used for every seeded choice (SplitMix64 finaliser).
uint64_t MixSeed(uint64_t a, uint64_t b);
// The FNV-1a starting value of the persona module's text hashes (HashText, the avatar and
// card-name hashes). It is not FNV's standard offset basis; it is kept because generated
// avatars and seeded macro choices must stay what they were.
inline constexpr uint64_t kPersonaHashSeed = 1469598103934665603ull;

// FNV-1a hash of a string, for salts and seeds.
uint64_t HashText(std::string_view s);

}  // namespace tokki::persona
