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

// Walks the chunk headers after the signature, up to IEND: each chunk must fit in the
// bytes that are there (libpng only warns about an oversized chunk and then allocates the
// declared length). Bytes after IEND are not looked at.
Status CheckPngChunks(std::string_view bytes);

// Decodes the whole PNG (so that text chunks after IDAT are seen and the image is known
// to be valid), one row at a time. Limits: 4096 px per side, 16 Mpx, 8 MiB + 64 KiB per
// chunk (decompressed), at most 15 text chunks kept (later ones are skipped).
Result<PngInfo> ReadPng(std::string_view bytes);

// Returns the PNG with every tEXt/zTXt/iTXt chunk removed (other chunks byte-identical).
// REQUIRES: `bytes` passed ReadPng().
std::string StripPngText(std::string_view bytes);

// Returns the image of `bytes` — its IHDR, PLTE, tRNS and IDAT chunks, byte-identical
// and in order, every other chunk dropped — followed by a tEXt chunk per entry of `texts`
// and IEND. No pixel is decoded or re-encoded. Keywords must be 1-79 Latin-1 characters.
// REQUIRES: `bytes` passed ReadPng().
std::string PngImageWithText(std::string_view bytes, const std::vector<PngText>& texts);

struct RgbaImage {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> pixels;  // width * height * 4, row-major
};

// Receives an image's pixels, top row first. Used by DecodePngRows and by the JPEG and
// WebP decoders in image.cc.
class PixelSink {
 public:
  // Called once, before any row, with the size of the rows that follow. A non-OK status
  // stops decoding and is returned as is. May allocate; never called inside a libpng or
  // libjpeg error-handling (setjmp) region.
  virtual Status Begin(uint32_t width, uint32_t height) = 0;
  // Called `height` times with width * 4 bytes of 8-bit RGBA. Must not throw.
  virtual void Row(const uint8_t* rgba) noexcept = 0;

 protected:
  ~PixelSink() = default;
};

// Decodes a whole PNG (through IEND; bytes after IEND are ignored) to 8-bit RGBA rows:
// palette, gray, 16-bit, tRNS and interlaced images are converted; APNG gives its default
// image. Every ancillary chunk except tRNS is skipped unread. A side over `max_side`
// fails in libpng's header check; `sink->Begin` is called before any buffer of more than
// one row is allocated (interlaced images need the whole image), so it can refuse the
// size. Errors: InvalidArgument "the image could not be decoded: …", or Begin's status.
Status DecodePngRows(std::string_view bytes, uint32_t max_side, PixelSink* sink);

// Decodes to 8-bit RGBA (first frame only for APNG).
Result<RgbaImage> DecodePngRgba(std::string_view bytes);

// Encodes 8-bit pixels (`channels` 3 = RGB, 4 = RGBA) with optional tEXt chunks.
Result<std::string> EncodePng(uint32_t width, uint32_t height, int channels, const uint8_t* pixels,
                              const std::vector<PngText>& texts);

}  // namespace tokki::persona::internal
