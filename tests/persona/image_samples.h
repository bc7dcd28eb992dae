// Test helper: builds PNG, JPEG and WebP files from pixels, so image tests (and the image
// fuzzer's seeds, tools/fuzz/image_seeds.cc) need no binary fixtures. PNGs are written
// byte by byte (any colour type, 8/16-bit, Adam7, extra chunks); JPEGs with libjpeg;
// WebPs with libwebp (and libwebpmux for animations). Inputs are assumed valid: these
// helpers do not report encoder errors.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// clang-format off
#include <jpeglib.h>
// clang-format on
#include <webp/encode.h>
#include <webp/mux.h>
#include <zlib.h>

namespace tokki::persona::testing {

// 8-bit RGBA pixels, row-major.
struct Rgba {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> px;
  uint8_t* at(int x, int y) { return &px[(static_cast<size_t>(y) * width + x) * 4]; }
  const uint8_t* at(int x, int y) const { return &px[(static_cast<size_t>(y) * width + x) * 4]; }
};

// A smooth colour gradient (red across, green down, blue mixed), opaque unless
// `with_alpha`, which makes alpha fall from 255 (top) to 15 (bottom).
inline Rgba Gradient(int w, int h, bool with_alpha = false) {
  Rgba img{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 4)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = static_cast<uint8_t>(w > 1 ? x * 255 / (w - 1) : 0);
      p[1] = static_cast<uint8_t>(h > 1 ? y * 255 / (h - 1) : 0);
      p[2] = static_cast<uint8_t>((x * 7 + y * 3) % 256);
      p[3] = with_alpha ? static_cast<uint8_t>(255 - (h > 1 ? y * 240 / (h - 1) : 0)) : 255;
    }
  return img;
}

inline Rgba Solid(int w, int h, uint8_t r, uint8_t g, uint8_t b, uint8_t a = 255) {
  Rgba img{w, h, {}};
  for (int i = 0; i < w * h; ++i) img.px.insert(img.px.end(), {r, g, b, a});
  return img;
}

// ---- PNG ----

inline void AppendBe32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

inline void AppendPngChunk(std::string* out, std::string_view type, std::string_view data) {
  AppendBe32(out, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type) + std::string(data);
  *out += body;
  AppendBe32(out, static_cast<uint32_t>(
                      crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size())));
}

inline std::string Zlib(std::string_view raw, int level = 6) {
  uLongf n = compressBound(raw.size());
  std::string out(n, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(raw.data()),
            raw.size(), level);
  out.resize(n);
  return out;
}

inline std::string Ihdr(uint32_t w, uint32_t h, int bit_depth, int color_type, bool interlaced) {
  std::string d;
  AppendBe32(&d, w);
  AppendBe32(&d, h);
  d += {static_cast<char>(bit_depth), static_cast<char>(color_type), 0, 0,
        static_cast<char>(interlaced ? 1 : 0)};
  return d;
}

struct PngSpec {
  int bit_depth = 8;   // 8 or 16 (palette: 8)
  int color_type = 6;  // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
  bool interlaced = false;
  std::string plte;                                         // palette: RGB triples
  std::string trns;                                         // tRNS chunk data, if any
  std::vector<std::pair<std::string, std::string>> before;  // chunks before IDAT
  std::vector<std::pair<std::string, std::string>> after;   // chunks after IDAT
};

// `samples`: width * height * channels values (channels from the colour type; palette:
// the index), each below 2^bit_depth. Filter type 0 on every row.
inline std::string MakePng(int w, int h, const std::vector<uint16_t>& samples,
                           const PngSpec& spec) {
  static constexpr int kChannels[7] = {1, 0, 3, 1, 2, 0, 4};
  const int channels = kChannels[spec.color_type];
  const int bytes_per_sample = spec.bit_depth == 16 ? 2 : 1;
  auto append_row = [&](std::string* raw, int y, int x0, int dx) {
    raw->push_back('\0');
    for (int x = x0; x < w; x += dx)
      for (int c = 0; c < channels; ++c) {
        uint16_t v = samples[(static_cast<size_t>(y) * w + x) * channels + c];
        if (bytes_per_sample == 2) raw->push_back(static_cast<char>(v >> 8));
        raw->push_back(static_cast<char>(v & 0xFF));
      }
  };
  std::string raw;
  if (!spec.interlaced) {
    for (int y = 0; y < h; ++y) append_row(&raw, y, 0, 1);
  } else {
    // Adam7: (x0, y0, dx, dy) of each pass; an empty pass has no rows at all.
    static constexpr int kPass[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                        {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    for (const auto& p : kPass) {
      if (p[0] >= w || p[1] >= h) continue;
      for (int y = p[1]; y < h; y += p[3]) append_row(&raw, y, p[0], p[2]);
    }
  }
  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendPngChunk(&png, "IHDR", Ihdr(w, h, spec.bit_depth, spec.color_type, spec.interlaced));
  for (const auto& [type, data] : spec.before) AppendPngChunk(&png, type, data);
  if (!spec.plte.empty()) AppendPngChunk(&png, "PLTE", spec.plte);
  if (!spec.trns.empty()) AppendPngChunk(&png, "tRNS", spec.trns);
  AppendPngChunk(&png, "IDAT", Zlib(raw));
  for (const auto& [type, data] : spec.after) AppendPngChunk(&png, type, data);
  AppendPngChunk(&png, "IEND", "");
  return png;
}

// An 8-bit RGBA (or RGB when `alpha` is false) PNG of `img`.
inline std::string PngOf(const Rgba& img, bool alpha = true, bool interlaced = false) {
  std::vector<uint16_t> s;
  for (size_t i = 0; i < img.px.size(); ++i)
    if (alpha || i % 4 != 3) s.push_back(img.px[i]);
  PngSpec spec;
  spec.color_type = alpha ? 6 : 2;
  spec.interlaced = interlaced;
  return MakePng(img.width, img.height, s, spec);
}

// ---- JPEG ----

struct JpegSpec {
  int quality = 95;
  J_COLOR_SPACE color = JCS_RGB;  // JCS_RGB (stored as YCbCr), JCS_GRAYSCALE, JCS_CMYK
  bool progressive = false;
  int exif_orientation = 0;  // 0: no EXIF
  std::string comment;       // COM marker, if not empty
};

// For JCS_GRAYSCALE the red channel is written; for JCS_CMYK, Adobe-style inverted
// CMYK made from RGB with K = 255 (no black ink): C = R, M = G, Y = B.
inline std::string MakeJpeg(const Rgba& img, const JpegSpec& spec = {}) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = img.width;
  c.image_height = img.height;
  c.input_components = spec.color == JCS_GRAYSCALE ? 1 : spec.color == JCS_CMYK ? 4 : 3;
  c.in_color_space = spec.color;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, spec.quality, TRUE);
  if (spec.progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  if (spec.exif_orientation > 0) {
    // "Exif\0\0" + a little-endian TIFF header + IFD0 with one entry: 0x0112 SHORT 1.
    std::string exif("Exif\0\0II\x2a\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0", 24);
    exif += {static_cast<char>(spec.exif_orientation), 0, 0, 0, 0, 0, 0, 0};
    jpeg_write_marker(&c, JPEG_APP0 + 1, reinterpret_cast<const JOCTET*>(exif.data()),
                      static_cast<unsigned>(exif.size()));
  }
  if (!spec.comment.empty())
    jpeg_write_marker(&c, JPEG_COM, reinterpret_cast<const JOCTET*>(spec.comment.data()),
                      static_cast<unsigned>(spec.comment.size()));
  std::vector<uint8_t> row(static_cast<size_t>(img.width) * c.input_components);
  while (c.next_scanline < c.image_height) {
    const uint8_t* src = img.at(0, static_cast<int>(c.next_scanline));
    for (int x = 0; x < img.width; ++x)
      for (int k = 0; k < c.input_components; ++k)
        row[static_cast<size_t>(x) * c.input_components + k] = k < 3 ? src[x * 4 + k] : 255;
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&c, rows, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::string out(reinterpret_cast<const char*>(buf), size);
  free(buf);
  return out;
}

// ---- WebP ----

// quality < 0: lossless.
inline std::string MakeWebp(const Rgba& img, float quality = -1) {
  uint8_t* out = nullptr;
  size_t n =
      quality < 0
          ? WebPEncodeLosslessRGBA(img.px.data(), img.width, img.height, img.width * 4, &out)
          : WebPEncodeRGBA(img.px.data(), img.width, img.height, img.width * 4, quality, &out);
  std::string bytes(reinterpret_cast<const char*>(out), n);
  WebPFree(out);
  return bytes;
}

// An animated WebP with one lossless frame per image (all the same size), 100 ms each.
inline std::string MakeAnimatedWebp(const std::vector<Rgba>& frames) {
  WebPAnimEncoderOptions options;
  WebPAnimEncoderOptionsInit(&options);
  options.allow_mixed = 0;
  WebPAnimEncoder* enc = WebPAnimEncoderNew(frames[0].width, frames[0].height, &options);
  WebPConfig config;
  WebPConfigInit(&config);
  config.lossless = 1;
  int timestamp = 0;
  for (const auto& f : frames) {
    WebPPicture pic;
    WebPPictureInit(&pic);
    pic.use_argb = 1;
    pic.width = f.width;
    pic.height = f.height;
    WebPPictureImportRGBA(&pic, f.px.data(), f.width * 4);
    WebPAnimEncoderAdd(enc, &pic, timestamp, &config);
    WebPPictureFree(&pic);
    timestamp += 100;
  }
  WebPAnimEncoderAdd(enc, nullptr, timestamp, nullptr);
  WebPData data;
  WebPDataInit(&data);
  WebPAnimEncoderAssemble(enc, &data);
  std::string bytes(reinterpret_cast<const char*>(data.bytes), data.size);
  WebPDataClear(&data);
  WebPAnimEncoderDelete(enc);
  return bytes;
}

}  // namespace tokki::persona::testing
