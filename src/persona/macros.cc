#include "persona/macros.h"

#include <charconv>
#include <vector>

#include "core/hash.h"
#include "core/text.h"
#include "persona/josa.h"

namespace tokki::persona {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

std::vector<std::string_view> SplitOptions(std::string_view args) {
  std::vector<std::string_view> out;
  bool double_colon = args.find("::") != std::string_view::npos;
  std::string_view sep = double_colon ? "::" : ",";
  size_t start = 0;
  while (true) {
    size_t end = args.find(sep, start);
    out.push_back(Trim(args.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) break;
    start = end + sep.size();
  }
  return out;
}

// "20", "d20", "2d6" -> total of the dice; nullopt-like -1 when malformed.
int64_t Roll(std::string_view spec, uint64_t seed) {
  spec = Trim(spec);
  int64_t count = 1, sides = 0;
  size_t d = spec.find_first_of("dD");
  std::string_view count_text = d == std::string_view::npos ? "" : spec.substr(0, d);
  std::string_view sides_text = d == std::string_view::npos ? spec : spec.substr(d + 1);
  if (!count_text.empty()) {
    auto r = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (r.ec != std::errc() || r.ptr != count_text.data() + count_text.size()) return -1;
  }
  auto r = std::from_chars(sides_text.data(), sides_text.data() + sides_text.size(), sides);
  if (r.ec != std::errc() || r.ptr != sides_text.data() + sides_text.size()) return -1;
  if (count < 1 || count > 100 || sides < 1 || sides > 1000000) return -1;
  int64_t total = 0;
  for (int64_t i = 0; i < count; ++i) {
    seed = MixSeed(seed, static_cast<uint64_t>(i));
    total += 1 + static_cast<int64_t>(seed % static_cast<uint64_t>(sides));
  }
  return total;
}

}  // namespace

uint64_t MixSeed(uint64_t a, uint64_t b) { return Mix64(a + kGoldenGamma * (b + 1)); }

uint64_t HashText(std::string_view s) { return Fnv1a64(s, kPersonaHashSeed); }

// Enough bytes to tell every macro name and prefix apart ("original", "random::").
constexpr size_t kMacroNameBytes = 16;

std::string ExpandMacros(std::string_view text, const MacroContext& ctx, uint64_t salt) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  size_t close = std::string_view::npos;
  bool close_valid = false;
  while (i < text.size()) {
    char c = text[i];
    if (c == '<') {
      std::string_view rest = text.substr(i);
      if (StartsWithNoCase(rest, "<bot>")) {
        i += 5;
        i += AppendNameAndParticle(&out, ctx.char_name, text.substr(i));
        continue;
      }
      if (StartsWithNoCase(rest, "<user>")) {
        i += 6;
        i += AppendNameAndParticle(&out, ctx.user_name, text.substr(i));
        continue;
      }
    }
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      // The next "}}" at or after i + 2; cached because i only grows, which keeps
      // texts full of unclosed "{{" linear.
      if (!close_valid || (close != std::string_view::npos && close < i + 2)) {
        close = text.find("}}", i + 2);
        close_valid = true;
      }
      if (close != std::string_view::npos) {
        std::string_view body = text.substr(i + 2, close - i - 2);
        std::string_view name = Trim(body);
        // Only a macro's first bytes name it: lower-casing the whole body at every "{{"
        // would make a text of many "{{" before one "}}" quadratic.
        const std::string lower = AsciiLower(name.substr(0, kMacroNameBytes));
        const bool whole = name.size() <= kMacroNameBytes;
        const uint64_t pos = static_cast<uint64_t>(i);
        if (whole && (lower == "char" || lower == "user")) {
          // A Korean particle right after the name is made to agree with it (josa.h).
          i = close + 2;
          i += AppendNameAndParticle(&out, lower == "char" ? ctx.char_name : ctx.user_name,
                                     text.substr(i));
          continue;
        }
        bool handled = true;
        if (whole && lower == "original") {
          MacroContext inner = ctx;
          inner.original = "";
          out += ExpandMacros(ctx.original, inner, MixSeed(salt, 0x0819));
        } else if (lower.rfind("//", 0) == 0) {
          // comment: dropped
        } else if (lower.rfind("random:", 0) == 0 || lower.rfind("random::", 0) == 0 ||
                   lower.rfind("pick:", 0) == 0 || lower.rfind("pick::", 0) == 0) {
          bool pick = lower[0] == 'p';
          std::string_view args = name.substr(pick ? 5 : 7);
          if (args.substr(0, 1) == ":") args.remove_prefix(1);
          auto options = SplitOptions(args);
          uint64_t seed = MixSeed(MixSeed(pick ? ctx.pick_seed : ctx.random_seed, salt), pos);
          out += options[seed % options.size()];
        } else if (lower.rfind("roll:", 0) == 0 || lower.rfind("roll ", 0) == 0) {
          int64_t v = Roll(name.substr(5), MixSeed(MixSeed(ctx.random_seed, salt), pos));
          if (v < 0)
            handled = false;
          else
            out += std::to_string(v);
        } else {
          handled = false;
        }
        if (handled) {
          i = close + 2;
          continue;
        }
      }
    }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace tokki::persona
