#include "persona/png_io.h"

#include <png.h>
#include <zlib.h>

#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace tokki::persona::internal {
namespace {

constexpr uint32_t kMaxSidePx = 4096;
constexpr uint64_t kMaxPixels = 16ull << 20;
// Per chunk, also the decompressed size of zTXt/iTXt (a card never needs more).
constexpr size_t kMaxChunkBytes = (8u << 20) + (64u << 10);
// Text and unknown chunks kept per image; later ones are skipped without being
// decompressed. Bounds the memory a PNG full of compressed text chunks can claim.
constexpr uint32_t kMaxKeptChunks = 16;

struct ReadSource {
  const unsigned char* data;
  size_t size;
  size_t pos;
};

// Error messages are copied here before longjmp so no C++ object is live across it.
struct ErrorSink {
  char message[200];
};

void OnError(png_structp png, png_const_charp msg) {
  auto* sink = static_cast<ErrorSink*>(png_get_error_ptr(png));
  if (sink != nullptr) {
    std::strncpy(sink->message, msg != nullptr ? msg : "unknown error", sizeof(sink->message) - 1);
    sink->message[sizeof(sink->message) - 1] = '\0';
  }
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}

void ReadFromSource(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<ReadSource*>(png_get_io_ptr(png));
  if (src->size - src->pos < n) png_error(png, "truncated PNG data");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

// Copies the text chunks libpng kept in `info` (called after the setjmp region).
// Keywords are always copied; text only for the card keywords "chara" and "ccv3".
void CollectText(png_structp png, png_infop info, PngInfo* out) {
  png_textp text = nullptr;
  int n_text = 0;
  png_get_text(png, info, &text, &n_text);
  for (int i = 0; i < n_text; ++i) {
    PngText t;
    t.keyword = text[i].key != nullptr ? text[i].key : "";
    size_t len = text[i].compression == PNG_ITXT_COMPRESSION_NONE ||
                         text[i].compression == PNG_ITXT_COMPRESSION_zTXt
                     ? text[i].itxt_length
                     : text[i].text_length;
    // Only card chunks need their text; others (possibly megabytes) are not copied.
    std::string key;
    for (char c : t.keyword) key += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (text[i].text != nullptr && (key == "chara" || key == "ccv3"))
      t.text.assign(text[i].text, len);
    out->texts.push_back(std::move(t));
  }
}

struct ReadGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  png_infop end_info = nullptr;
  ~ReadGuard() {
    png_destroy_read_struct(&png, info ? &info : nullptr, end_info ? &end_info : nullptr);
  }
};

// The setjmp region: no object with a destructor is created inside it.
bool ReadPngInner(ReadGuard* g, ReadSource* src, ErrorSink* sink, PngInfo* out,
                  unsigned char* volatile* row_buffer) {
  if (setjmp(png_jmpbuf(g->png))) return false;
  png_set_read_fn(g->png, src, ReadFromSource);
  png_set_user_limits(g->png, kMaxSidePx, kMaxSidePx);
  png_set_chunk_malloc_max(g->png, kMaxChunkBytes);
  png_set_chunk_cache_max(g->png, kMaxKeptChunks);
  // Text chunks are read into `info` before IDAT and into `end_info` after it.
  png_read_info(g->png, g->info);
  png_uint_32 w = 0, h = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(g->png, g->info, &w, &h, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  if (static_cast<uint64_t>(w) * h > kMaxPixels) png_error(g->png, "image has too many pixels");
  out->width = w;
  out->height = h;
  int passes = png_set_interlace_handling(g->png);
  png_read_update_info(g->png, g->info);
  size_t row_bytes = png_get_rowbytes(g->png, g->info);
  *row_buffer = static_cast<unsigned char*>(std::malloc(row_bytes == 0 ? 1 : row_bytes));
  if (*row_buffer == nullptr) png_error(g->png, "out of memory");
  for (int p = 0; p < passes; ++p)
    for (png_uint_32 y = 0; y < h; ++y) png_read_row(g->png, *row_buffer, nullptr);
  png_read_end(g->png, g->end_info);
  return true;
}

struct WriteSink {
  std::string* out;
};

void WriteToString(png_structp png, png_bytep data, png_size_t n) {
  auto* sink = static_cast<WriteSink*>(png_get_io_ptr(png));
  sink->out->append(reinterpret_cast<const char*>(data), n);
}

void FlushNoop(png_structp) {}

uint32_t ReadBe32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Status CheckPngChunks(std::string_view bytes) {
  for (size_t pos = 8; pos + 8 <= bytes.size();) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + pos;
    uint64_t len = ReadBe32(p);
    std::string type(bytes.substr(pos + 4, 4));
    if (len > bytes.size() - pos - 8 || bytes.size() - pos - 8 - len < 4)
      return Status::InvalidArgument("broken PNG: chunk '" + type + "' declares " +
                                     std::to_string(len) + " bytes past the end of the file");
    pos += 12 + len;
    if (type == "IEND") break;
  }
  return Status::Ok();
}

Result<PngInfo> ReadPng(std::string_view bytes) {
  if (!LooksLikePng(bytes)) return Status::InvalidArgument("not a PNG file");
  // libpng reports over-limit dimensions only as "Invalid IHDR data"; check them first.
  if (bytes.size() >= 24 && bytes.substr(12, 4) == "IHDR") {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    uint64_t w = ReadBe32(p + 16), h = ReadBe32(p + 20);
    if (w > kMaxSidePx || h > kMaxSidePx || w * h > kMaxPixels)
      return Status::TooLarge("PNG is " + std::to_string(w) + "x" + std::to_string(h) +
                              " px; the limit is " + std::to_string(kMaxSidePx) + " px per side");
  }
  TOKKI_RETURN_IF_ERROR(CheckPngChunks(bytes));
  ErrorSink sink{};
  ReadGuard g;
  g.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &sink, OnError, OnWarning);
  if (g.png == nullptr) return Status::Internal("png_create_read_struct failed");
  g.info = png_create_info_struct(g.png);
  g.end_info = png_create_info_struct(g.png);
  if (g.info == nullptr || g.end_info == nullptr) return Status::Internal("png info alloc failed");
  ReadSource src{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0};
  PngInfo out;
  unsigned char* volatile row = nullptr;
  bool ok = ReadPngInner(&g, &src, &sink, &out, &row);
  std::free(row);
  if (!ok) {
    std::string msg = sink.message;
    if (msg.find("limit") != std::string::npos || msg.find("too many") != std::string::npos ||
        msg.find("too large") != std::string::npos)
      return Status::TooLarge("PNG is too large: " + msg);
    return Status::InvalidArgument("broken PNG: " + msg);
  }
  CollectText(g.png, g.info, &out);
  CollectText(g.png, g.end_info, &out);
  return out;
}

std::string StripPngText(std::string_view bytes) {
  std::string out(kPngSignature);
  size_t pos = 8;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  while (pos + 12 <= bytes.size()) {
    uint32_t len = ReadBe32(p + pos);
    if (len > bytes.size() - pos - 12) break;
    std::string_view type = bytes.substr(pos + 4, 4);
    size_t total = 12 + static_cast<size_t>(len);
    if (type != "tEXt" && type != "zTXt" && type != "iTXt") out.append(bytes.substr(pos, total));
    pos += total;
    if (type == "IEND") break;
  }
  return out;
}

std::string PngImageWithText(std::string_view bytes, const std::vector<PngText>& texts) {
  std::string out(kPngSignature);
  size_t pos = 8;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  while (pos + 12 <= bytes.size()) {
    uint32_t len = ReadBe32(p + pos);
    if (len > bytes.size() - pos - 12) break;
    std::string_view type = bytes.substr(pos + 4, 4);
    if (type == "IEND") break;
    if (type == "IHDR" || type == "PLTE" || type == "tRNS" || type == "IDAT")
      out.append(bytes.substr(pos, 12 + static_cast<size_t>(len)));
    pos += 12 + static_cast<size_t>(len);
  }
  auto append_chunk = [&out](std::string_view type, std::string_view data) {
    uint32_t len = static_cast<uint32_t>(data.size());
    const char header[4] = {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
                            static_cast<char>(len >> 8), static_cast<char>(len)};
    out.append(header, 4);
    size_t body_start = out.size();
    out.append(type);
    out.append(data);
    uLong crc = crc32(0, reinterpret_cast<const Bytef*>(out.data() + body_start),
                      static_cast<uInt>(out.size() - body_start));
    const char crc_bytes[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                               static_cast<char>(crc >> 8), static_cast<char>(crc)};
    out.append(crc_bytes, 4);
  };
  for (const auto& t : texts) {
    std::string data = t.keyword;
    data.push_back('\0');
    data += t.text;
    append_chunk("tEXt", data);
  }
  append_chunk("IEND", "");
  return out;
}

Result<RgbaImage> DecodePngRgba(std::string_view bytes) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    std::string msg = image.message;
    png_image_free(&image);
    return Status::InvalidArgument("cannot decode PNG: " + msg);
  }
  if (image.width > kMaxSidePx || image.height > kMaxSidePx ||
      uint64_t{image.width} * image.height > kMaxPixels) {
    png_image_free(&image);
    return Status::TooLarge("PNG image dimensions are too large");
  }
  image.format = PNG_FORMAT_RGBA;
  RgbaImage out;
  out.width = image.width;
  out.height = image.height;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    std::string msg = image.message;
    png_image_free(&image);
    return Status::InvalidArgument("cannot decode PNG: " + msg);
  }
  return out;
}

namespace {

// libpng may allocate a known chunk's data up to this size; DecodePngRows keeps only PLTE
// and tRNS (under 1 KiB each).
constexpr size_t kMaxDecodeChunkBytes = 64u << 10;

struct RowLayout {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int passes = 1;
  size_t row_bytes = 0;
  int channels = 0;
};

// The setjmp region for the header: no object with a destructor is created inside it.
bool ReadRowLayout(ReadGuard* g, ReadSource* src, uint32_t max_side, RowLayout* out) {
  if (setjmp(png_jmpbuf(g->png))) return false;
  png_set_read_fn(g->png, src, ReadFromSource);
  png_set_user_limits(g->png, max_side, max_side);
  png_set_chunk_malloc_max(g->png, kMaxDecodeChunkBytes);
  png_set_chunk_cache_max(g->png, kMaxKeptChunks);
  // Every chunk but IHDR, PLTE, tRNS, IDAT and IEND is skipped without being read into
  // memory or decompressed (text, ICC profiles, EXIF, APNG frames, unknown chunks).
  png_set_keep_unknown_chunks(g->png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
  png_read_info(g->png, g->info);
  out->width = png_get_image_width(g->png, g->info);
  out->height = png_get_image_height(g->png, g->info);
  png_set_expand(g->png);  // palette -> RGB, gray below 8 bits -> 8 bits, tRNS -> alpha
  png_set_scale_16(g->png);
  png_set_gray_to_rgb(g->png);
  png_set_add_alpha(g->png, 0xFF, PNG_FILLER_AFTER);  // only when there is no alpha yet
  out->passes = png_set_interlace_handling(g->png);
  png_read_update_info(g->png, g->info);
  out->row_bytes = png_get_rowbytes(g->png, g->info);
  out->channels = png_get_channels(g->png, g->info);
  return true;
}

// The setjmp region for the pixels. `buffer` holds one row, or the whole image when
// interlaced (the passes fill it in place).
bool ReadRows(ReadGuard* g, const RowLayout* layout, unsigned char* buffer, PixelSink* sink) {
  if (setjmp(png_jmpbuf(g->png))) return false;
  if (layout->passes > 1) {
    for (int p = 0; p < layout->passes; ++p)
      for (png_uint_32 y = 0; y < layout->height; ++y)
        png_read_row(g->png, buffer + layout->row_bytes * y, nullptr);
    for (png_uint_32 y = 0; y < layout->height; ++y) sink->Row(buffer + layout->row_bytes * y);
  } else {
    for (png_uint_32 y = 0; y < layout->height; ++y) {
      png_read_row(g->png, buffer, nullptr);
      sink->Row(buffer);
    }
  }
  png_read_end(g->png, g->info);
  return true;
}

}  // namespace

Status DecodePngRows(std::string_view bytes, uint32_t max_side, PixelSink* sink) {
  const std::string kFailed = "the image could not be decoded: ";
  if (!LooksLikePng(bytes)) return Status::InvalidArgument(kFailed + "no PNG signature");
  if (Status chunks = CheckPngChunks(bytes); !chunks.ok())
    return Status::InvalidArgument(kFailed + chunks.message());
  ErrorSink err{};
  ReadGuard g;
  g.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, OnError, OnWarning);
  if (g.png == nullptr) return Status::Internal("png_create_read_struct failed");
  g.info = png_create_info_struct(g.png);
  if (g.info == nullptr) return Status::Internal("png info alloc failed");
  ReadSource src{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0};
  RowLayout layout;
  if (!ReadRowLayout(&g, &src, max_side, &layout))
    return Status::InvalidArgument(kFailed + err.message);
  if (layout.channels != 4 || layout.row_bytes != size_t{layout.width} * 4)
    return Status::InvalidArgument(kFailed + "unsupported PNG pixel layout");
  TOKKI_RETURN_IF_ERROR(sink->Begin(layout.width, layout.height));
  std::vector<unsigned char> buffer(layout.row_bytes *
                                    (layout.passes > 1 ? size_t{layout.height} : size_t{1}));
  if (!ReadRows(&g, &layout, buffer.data(), sink))
    return Status::InvalidArgument(kFailed + err.message);
  return Status::Ok();
}

namespace {
struct WriteGuard {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteGuard() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

bool EncodeInner(WriteGuard* g, WriteSink* sink, uint32_t width, uint32_t height, int channels,
                 const uint8_t* pixels, png_textp texts, int n_texts) {
  if (setjmp(png_jmpbuf(g->png))) return false;
  png_set_write_fn(g->png, sink, WriteToString, FlushNoop);
  png_set_IHDR(g->png, g->info, width, height, 8,
               channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(g->png, 6);
  png_write_info(g->png, g->info);
  size_t stride = static_cast<size_t>(width) * channels;
  for (uint32_t y = 0; y < height; ++y)
    png_write_row(g->png, const_cast<png_bytep>(pixels + stride * y));
  // Card text goes after the image data, where SillyTavern puts it too.
  if (n_texts > 0) png_set_text(g->png, g->info, texts, n_texts);
  png_write_end(g->png, g->info);
  return true;
}
}  // namespace

Result<std::string> EncodePng(uint32_t width, uint32_t height, int channels, const uint8_t* pixels,
                              const std::vector<PngText>& texts) {
  if (channels != 3 && channels != 4) return Status::Internal("EncodePng: bad channel count");
  if (width == 0 || height == 0) return Status::InvalidArgument("EncodePng: empty image");
  ErrorSink err{};
  WriteGuard g;
  g.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, OnError, OnWarning);
  if (g.png == nullptr) return Status::Internal("png_create_write_struct failed");
  g.info = png_create_info_struct(g.png);
  if (g.info == nullptr) return Status::Internal("png info alloc failed");
  std::vector<png_text> ptexts(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::memset(&ptexts[i], 0, sizeof(png_text));
    ptexts[i].compression = PNG_TEXT_COMPRESSION_NONE;
    ptexts[i].key = const_cast<char*>(texts[i].keyword.c_str());
    ptexts[i].text = const_cast<char*>(texts[i].text.c_str());
    ptexts[i].text_length = texts[i].text.size();
  }
  std::string out;
  WriteSink sink{&out};
  if (!EncodeInner(&g, &sink, width, height, channels, pixels, ptexts.data(),
                   static_cast<int>(ptexts.size())))
    return Status::Internal(std::string("PNG encoding failed: ") + err.message);
  return out;
}

}  // namespace tokki::persona::internal
