// tokki/persona/catalog.h — loads Tokki's shipped character catalog.
//
// The catalog is a folder of V3 JSON cards, <dir>/<lang>/<slug>.json, each with
// extensions.tokki = {id, tagline, language, real_person, avatar{emoji, palette[2], motif}}.
// Every card is imported with ImportCard(), must validate, and gets a procedural avatar
// (avatar.h) rendered from its palette and motif, seeded by its slug.
//
// Thread safety: pure function (reads files). Start with LoadCatalog().
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/records.h"

namespace tokki::persona {

struct CatalogEntry {
  std::string slug;            // extensions.tokki.id, e.g. "aria-vale"
  store::Character character;  // owner kNoId, public, has_avatar
  store::Avatar avatar;        // image/png, 256 px
};

// Loads every <dir>/<lang>/*.json, sorted by language then file name. Any bad file fails
// the whole load with its path in the message (the catalog ships with the program, so a
// bad card is a packaging bug). NotFound when `dir` does not exist.
Result<std::vector<CatalogEntry>> LoadCatalog(const std::filesystem::path& dir);

}  // namespace tokki::persona
