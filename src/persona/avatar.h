// tokki/persona/avatar.h — procedural character avatars rendered as PNG.
//
// Catalog characters have no photo; each gets a square image painted from its card:
// a two-colour gradient from the palette, a deterministic pattern seeded by the
// character's slug, and a geometric motif shape (crown, wave, star, ...). The same
// inputs always give the same bytes.
//
// Thread safety: pure functions. Start with RenderAvatarPng().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokki::persona {

// 0xRRGGBB colours: palette[0] is the gradient start, palette[1] the end.
using Palette = std::array<uint32_t, 2>;

// Parses "#rrggbb" or "#rgb" (the '#' is optional). nullopt when malformed.
std::optional<uint32_t> ParseHexColor(std::string_view text);

// Motif names the renderer draws as their own shape. Any other name still renders
// (a shape picked from the name's hash), so new motifs never fail.
const std::vector<std::string_view>& KnownMotifs();

// Renders a `size_px` x `size_px` RGB PNG. `seed` (e.g. the slug) varies the gradient
// angle, pattern and motif placement. size_px is clamped to [16, 1024].
std::string RenderAvatarPng(std::string_view seed, const Palette& palette, std::string_view motif,
                            int size_px = 256);

}  // namespace tokki::persona
