// Fuzz target for the card readers (PNG, JSON, CHARX) and what consumes their output.
// Built and run by tools/fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
//
// Besides memory errors, it aborts on contract violations: a card that imports must
// validate, export to JSON and CHARX, and import again with the same name.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "persona/card.h"
#include "persona/lorebook.h"
#include "persona/prompt.h"

namespace {

void Check(bool ok, const char* what, const tokki::Status& st) {
  if (ok) return;
  std::fprintf(stderr, "contract violation: %s: %s\n", what, st.ToString().c_str());
  std::abort();
}

int CountBytes(std::string_view s) { return static_cast<int>(s.size() / 4 + 1); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tokki::persona;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto card = ImportCard(bytes, "fuzz");
  if (!card.ok()) {
    Check(!card.status().message().empty(), "error without a message", card.status());
    return 0;
  }
  const auto& c = card->character;
  Check(ValidateCharacter(c).ok(), "imported card does not validate", ValidateCharacter(c));
  const tokki::store::Avatar* avatar = card->avatar ? &*card->avatar : nullptr;
  for (CardFormat f : {CardFormat::kJson, CardFormat::kCharx}) {
    auto out = ExportCard(c, avatar, f);
    Check(out.ok(), "export failed", out.status());
    auto again = ImportCard(*out);
    Check(again.ok(), "re-import failed", again.status());
    Check(again->character.name == c.name, "name changed in round trip", tokki::Status());
    Check(again->character.character_book_json == c.character_book_json,
          "lorebook changed in round trip", tokki::Status());
  }
  // PNG export re-encodes the avatar; only for small ones to keep the fuzzer fast.
  if (avatar != nullptr && avatar->bytes.size() < 4096) {
    auto out = ExportCard(c, avatar, CardFormat::kPng);
    Check(out.ok(), "png export failed", out.status());
    Check(ImportCard(*out).ok(), "png re-import failed", ImportCard(*out).status());
  }
  // Lorebook activation and prompt assembly on the card's own text.
  auto book = ParseLorebook(c.character_book_json);
  if (book.ok()) {
    LoreScanInput scan;
    scan.book = &*book;
    scan.messages = {c.first_mes, c.description, c.scenario};
    scan.turn_index = static_cast<int64_t>(size % 7);
    scan.token_budget = 200;
    scan.count_tokens = CountBytes;
    (void)ActivateEntries(scan);
  }
  PromptInput in;
  in.character = &c;
  in.user_name = "Fuzz";
  in.history = {{"assistant", c.first_mes}, {"user", c.scenario}};
  in.n_ctx = 4096;
  in.n_reply_tokens = 256;
  in.count_tokens = CountBytes;
  in.conversation_seed = size;
  (void)BuildPrompt(in);
  return 0;
}
