// tokki/persona/png_io.h — internal: the libpng calls behind card import/export and avatars.
// Not part of the public API. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tokki::persona::internal {

constexpr std::string_view kPngSignature{"\x89PNG\r\n\x1a\n", 8};

inline bool LooksLikePng(std::string_view bytes) {
  return bytes.size() >= 8 && bytes.substr(0, 8) == kPngSignature;
}

struct PngText {
  std::string keyword;
  std::string text;
};

struct PngInfo {
  uint32_t width = 0;
  uint32_t height = 0;
  // tEXt, zTXt and iTXt chunks, in file order; `text` is filled only for the card
  // keywords "chara" and "ccv3" (case-insensitive), other chunks give just the keyword.
  std::vector<PngText> texts;
};

// Decodes the whole PNG (so that text chunks after IDAT are seen and the image is known
// to be valid), one row at a time. Limits: 4096 px per side, 16 Mpx, 8 MiB + 64 KiB per
// chunk (decompressed), at most 15 text chunks kept (later ones are skipped).
Result<PngInfo> ReadPng(std::string_view bytes);

// Returns the PNG with every tEXt/zTXt/iTXt chunk removed (other chunks byte-identical).
// REQUIRES: `bytes` passed ReadPng().
std::string StripPngText(std::string_view bytes);

struct RgbaImage {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> pixels;  // width * height * 4, row-major
};

// Decodes to 8-bit RGBA (first frame only for APNG).
Result<RgbaImage> DecodePngRgba(std::string_view bytes);

// Encodes 8-bit pixels (`channels` 3 = RGB, 4 = RGBA) with optional tEXt chunks.
Result<std::string> EncodePng(uint32_t width, uint32_t height, int channels, const uint8_t* pixels,
                              const std::vector<PngText>& texts);

}  // namespace tokki::persona::internal
