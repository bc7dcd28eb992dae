// tokki/persona/image.h — user-supplied images (avatars) decoded, checked and re-encoded.
//
// Start with SanitizeImage(). An uploaded avatar, the image of a PNG card and a CHARX
// icon are all untrusted: a decompression bomb, a header declaring 65535×65535 or a
// PNG signature in front of HTML must never be stored or served. SanitizeImage decodes
// the whole image (PNG, JPEG or WebP), checks its size from the header before any pixel
// buffer exists, scales it down and writes a fresh PNG from the pixels alone, so nothing
// of the input (text chunks, EXIF, ICC profiles, trailing bytes) reaches the output.
//
// Thread safety: pure function, no shared state; safe to call concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tokki::persona {

struct ImageLimits {
  size_t max_input_bytes = 4 * 1024 * 1024;
  int max_side = 8192;              // width or height, checked from the header before decoding
  int64_t max_pixels = 24'000'000;  // width*height, checked before any pixel buffer exists
  int out_max_side = 512;           // the output is scaled down to fit this square
};

struct SafeImage {
  std::string mime;   // always "image/png"
  std::string bytes;  // 8-bit RGB, or RGBA when some pixel is not opaque
  int width = 0;      // of the output
  int height = 0;
};

// Decodes a PNG (also interlaced, palette, gray, 16-bit; APNG gives its default image),
// a JPEG (gray, YCbCr, RGB, CMYK/YCCK; progressive; EXIF orientation applied) or a WebP
// (lossy, lossless, with alpha; animated gives its first frame) completely, then scales
// it to fit out_max_side × out_max_side (area average, aspect ratio kept, never
// enlarged) and re-encodes it as PNG.
//
// Errors:
//   TooLarge         more than max_input_bytes.
//   InvalidArgument  empty; not a PNG, JPEG or WebP ("an avatar must be a PNG, JPEG or
//                    WebP image"); wider or taller than max_side or more than max_pixels
//                    (said from the header, nothing decoded); anything that does not
//                    decode cleanly — truncated data, a bad checksum, a corrupt stream
//                    ("the image could not be decoded: …"). Bytes after the end of a
//                    complete image (after PNG IEND, JPEG EOI, the WebP RIFF chunk) are
//                    ignored: they never reach the output.
//   Unavailable      the server ran out of memory.
Result<SafeImage> SanitizeImage(std::string_view bytes, const ImageLimits& limits = {});

}  // namespace tokki::persona
