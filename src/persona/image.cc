#include "persona/image.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on
#include <webp/decode.h>
#include <webp/demux.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "persona/png_io.h"

namespace tokki::persona {
namespace {

using internal::PixelSink;

constexpr std::string_view kNotAnImage = "an avatar must be a PNG, JPEG or WebP image";
// A progressive JPEG may hold any number of scans, each a pass over the whole image;
// real encoders write about ten.
constexpr int kMaxJpegScans = 256;

enum class Format { kPng, kJpeg, kWebp };

std::optional<Format> Sniff(std::string_view b) {
  if (internal::LooksLikePng(b)) return Format::kPng;
  if (b.size() >= 3 && b.substr(0, 3) == "\xFF\xD8\xFF") return Format::kJpeg;
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return Format::kWebp;
  return std::nullopt;
}

uint32_t Be16(const unsigned char* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t Be32(const unsigned char* p) { return (Be16(p) << 16) | Be16(p + 2); }

Status DecodeError(std::string_view what) {
  return Status::InvalidArgument("the image could not be decoded: " + std::string(what));
}

// "640×480" (U+00D7).
std::string Dimensions(int64_t w, int64_t h) { return std::to_string(w) + "×" + std::to_string(h); }

// The limits, checked on the size an image declares, before anything is decoded.
Status CheckSize(int64_t w, int64_t h, const ImageLimits& limits) {
  if (w <= 0 || h <= 0) return DecodeError("it is " + Dimensions(w, h));
  if (w > limits.max_side || h > limits.max_side)
    return Status::InvalidArgument("the image is " + Dimensions(w, h) +
                                   "; the largest accepted is " + std::to_string(limits.max_side) +
                                   " pixels per side");
  if (w * h > limits.max_pixels)
    return Status::InvalidArgument("the image is " + Dimensions(w, h) + " (" +
                                   std::to_string(w * h) + " pixels); the largest accepted is " +
                                   std::to_string(limits.max_pixels) + " pixels");
  return Status::Ok();
}

// ---- Scaling ----

// Area-averaging (box filter) downscaler fed one source row at a time, so only a few
// output rows of accumulators exist besides the output. Colour is averaged weighted by
// alpha, so fully transparent pixels do not darken their neighbours' edges.
class Resampler final : public PixelSink {
 public:
  explicit Resampler(const ImageLimits& limits) : limits_(limits) {}

  // Checks the limits on the image's full size and fixes the output size from it.
  // Called by Begin unless a decoder that scales while decoding (JPEG) calls it first.
  Status SetSourceSize(int64_t w, int64_t h) {
    TOKKI_RETURN_IF_ERROR(CheckSize(w, h, limits_));
    const int64_t box = std::max(1, limits_.out_max_side);
    if (w <= box && h <= box) {
      out_w_ = static_cast<int>(w), out_h_ = static_cast<int>(h);
    } else if (w >= h) {
      out_w_ = static_cast<int>(box);
      out_h_ = static_cast<int>(std::max<int64_t>(1, (h * box + w / 2) / w));
    } else {
      out_h_ = static_cast<int>(box);
      out_w_ = static_cast<int>(std::max<int64_t>(1, (w * box + h / 2) / h));
    }
    return Status::Ok();
  }

  int out_width() const { return out_w_; }
  int out_height() const { return out_h_; }

  Status Begin(uint32_t width, uint32_t height) override {
    if (out_w_ == 0) TOKKI_RETURN_IF_ERROR(SetSourceSize(width, height));
    if (width < static_cast<uint32_t>(out_w_) || height < static_cast<uint32_t>(out_h_))
      return Status::Internal("image decoded smaller than its output size");
    in_w_ = width, in_h_ = height;
    // Source column x covers [x * out_w, (x + 1) * out_w) and output column o covers
    // [o * in_w, (o + 1) * in_w): integer overlaps, at most two output columns per x.
    x_out_.resize(in_w_);
    x_weight_.resize(in_w_);
    for (int64_t x = 0; x < in_w_; ++x) {
      int64_t o = x * out_w_ / in_w_;
      int64_t boundary = (o + 1) * in_w_;
      x_out_[x] = static_cast<int>(o);
      x_weight_[x] = static_cast<int>(std::min<int64_t>(out_w_, boundary - x * out_w_));
    }
    const size_t n = static_cast<size_t>(out_w_) * 4;
    row_.assign(n, 0.0);
    cur_.assign(n, 0.0);
    next_.assign(n, 0.0);
    out_.assign(n * out_h_, 0);
    return Status::Ok();
  }

  void Row(const uint8_t* rgba) noexcept override {
    if (in_y_ >= in_h_) return;
    std::fill(row_.begin(), row_.end(), 0.0);
    for (int64_t x = 0; x < in_w_; ++x) {
      const uint8_t* p = rgba + x * 4;
      const double a = p[3];
      const double v[4] = {p[0] * a, p[1] * a, p[2] * a, a};
      double* dst = &row_[static_cast<size_t>(x_out_[x]) * 4];
      const double w0 = x_weight_[x], w1 = out_w_ - x_weight_[x];
      for (int k = 0; k < 4; ++k) dst[k] += v[k] * w0;
      if (w1 > 0)
        for (int k = 0; k < 4; ++k) dst[4 + k] += v[k] * w1;
    }
    const int64_t o = in_y_ * out_h_ / in_h_;
    while (out_y_ < o) EmitRow();
    const double w0 = std::min<int64_t>(out_h_, (o + 1) * in_h_ - in_y_ * out_h_);
    const double w1 = out_h_ - w0;
    for (size_t i = 0; i < row_.size(); ++i) cur_[i] += row_[i] * w0;
    if (w1 > 0)
      for (size_t i = 0; i < row_.size(); ++i) next_[i] += row_[i] * w1;
    ++in_y_;
  }

  // REQUIRES: Begin() succeeded and every row was given. Returns out_w * out_h * 4 RGBA.
  std::vector<uint8_t> Finish() {
    while (out_y_ < out_h_) EmitRow();
    return std::move(out_);
  }

  bool complete() const { return in_h_ > 0 && in_y_ == in_h_; }

 private:
  void EmitRow() noexcept {
    // Each output pixel's weights sum to in_w * in_h.
    const double total = static_cast<double>(in_w_) * static_cast<double>(in_h_);
    uint8_t* dst = &out_[static_cast<size_t>(out_y_) * out_w_ * 4];
    for (int x = 0; x < out_w_; ++x) {
      const double* acc = &cur_[static_cast<size_t>(x) * 4];
      const double a = acc[3];
      const uint8_t alpha = ToByte(a / total);
      // A pixel that ends up fully transparent gets colour 0 too: the output does not
      // depend on colours nobody can see, so sanitising it again gives the same bytes.
      for (int k = 0; k < 3; ++k) dst[x * 4 + k] = alpha > 0 ? ToByte(acc[k] / a) : 0;
      dst[x * 4 + 3] = alpha;
    }
    std::swap(cur_, next_);
    std::fill(next_.begin(), next_.end(), 0.0);
    ++out_y_;
  }

  static uint8_t ToByte(double v) {
    return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
  }

  const ImageLimits limits_;
  int out_w_ = 0, out_h_ = 0;
  int64_t in_w_ = 0, in_h_ = 0;
  int64_t in_y_ = 0;
  int out_y_ = 0;
  // Per source column: the first output column it touches, and its overlap with it (the
  // rest of its width goes to the next column).
  std::vector<int> x_out_;
  std::vector<int> x_weight_;
  std::vector<double> row_, cur_, next_;  // alpha-weighted RGB and alpha sums
  std::vector<uint8_t> out_;
};

// ---- JPEG ----

// What the markers before the first scan say: the frame size and the EXIF orientation.
struct JpegHeader {
  int64_t width = 0;
  int64_t height = 0;
  bool has_frame = false;
  int orientation = 1;  // EXIF 1..8; 1 = as stored
};

// Reads the EXIF orientation (tag 0x0112 of IFD0) from a TIFF structure; 1 if absent.
int ExifOrientation(std::string_view tiff) {
  const auto* p = reinterpret_cast<const unsigned char*>(tiff.data());
  const size_t n = tiff.size();
  if (n < 8) return 1;
  bool little = tiff.substr(0, 2) == "II";
  if (!little && tiff.substr(0, 2) != "MM") return 1;
  auto u16 = [&](size_t at) -> uint32_t {
    return little ? (uint32_t{p[at + 1]} << 8) | p[at] : Be16(p + at);
  };
  auto u32 = [&](size_t at) -> uint32_t {
    return little ? (u16(at + 2) << 16) | u16(at) : Be32(p + at);
  };
  if (u16(2) != 42) return 1;
  const size_t ifd = u32(4);
  if (ifd > n - 2) return 1;
  const size_t count = u16(ifd);
  for (size_t i = 0; i < count; ++i) {
    size_t entry = ifd + 2 + i * 12;
    if (entry + 12 > n) break;
    if (u16(entry) == 0x0112) {
      uint32_t type = u16(entry + 2);
      uint32_t v = type == 3 ? u16(entry + 8) : type == 4 ? u32(entry + 8) : 1;
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

// Walks the marker segments up to the first scan. Gives up quietly on anything odd:
// libjpeg reads the same bytes again and reports the error.
JpegHeader ScanJpegHeader(std::string_view b) {
  JpegHeader out;
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  bool have_exif = false;
  size_t pos = 2;  // after SOI
  while (pos + 4 <= b.size()) {
    if (p[pos] != 0xFF) break;
    const unsigned char marker = p[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    pos += 2;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) break;                         // EOI, SOS
    const size_t len = Be16(p + pos);
    if (len < 2 || len > b.size() - pos) break;
    std::string_view seg = b.substr(pos + 2, len - 2);
    const auto* s = reinterpret_cast<const unsigned char*>(seg.data());
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && !out.has_frame && seg.size() >= 5) {
      out.height = Be16(s + 1);
      out.width = Be16(s + 3);
      out.has_frame = true;
    }
    if (marker == 0xE1 && !have_exif && seg.size() >= 6 &&
        seg.substr(0, 6) == std::string_view("Exif\0\0", 6)) {
      have_exif = true;
      out.orientation = ExifOrientation(seg.substr(6));
    }
    pos += len;
  }
  return out;
}

// libjpeg state and its error handling. libjpeg reports errors through error_exit,
// which must not return: it copies the message and longjmps back into the function
// that called setjmp (ReadJpegHeader or ReadJpegRows), which create no C++ objects.
struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];

  JpegDecoder() {
    std::memset(&cinfo, 0, sizeof(cinfo));
    std::memset(&progress, 0, sizeof(progress));
    std::memset(message, 0, sizeof(message));
  }
  ~JpegDecoder() { jpeg_destroy_decompress(&cinfo); }  // safe when never created
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;
};

[[noreturn]] void JpegFail(j_common_ptr cinfo, const char* text) {
  auto* d = static_cast<JpegDecoder*>(cinfo->client_data);
  if (text != nullptr) {
    std::strncpy(d->message, text, sizeof(d->message) - 1);
  } else {
    (*cinfo->err->format_message)(cinfo, d->message);
  }
  d->message[sizeof(d->message) - 1] = '\0';
  std::longjmp(d->jump, 1);
}

void JpegErrorExit(j_common_ptr cinfo) { JpegFail(cinfo, nullptr); }

// Warnings (level -1) are libjpeg's reports of corrupt data — "premature end of JPEG
// file", "corrupt JPEG data" — after which it would go on with invented pixels: stop.
void JpegEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) JpegFail(cinfo, nullptr);
}

void JpegProgress(j_common_ptr cinfo) {
  auto* dinfo = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (dinfo->input_scan_number > kMaxJpegScans) JpegFail(cinfo, "too many progressive scans");
}

// The setjmp region for the header.
bool ReadJpegHeader(JpegDecoder* d, std::string_view bytes, long max_memory) {
  if (setjmp(d->jump)) return false;
  d->cinfo.err = jpeg_std_error(&d->err);
  d->err.error_exit = JpegErrorExit;
  d->err.emit_message = JpegEmitMessage;
  d->cinfo.client_data = d;
  jpeg_create_decompress(&d->cinfo);
  // Bounds libjpeg's whole-image buffers (progressive and multi-scan files); with no
  // backing store, going over is an error.
  d->cinfo.mem->max_memory_to_use = max_memory;
  d->progress.progress_monitor = JpegProgress;
  d->cinfo.progress = &d->progress;
  jpeg_mem_src(&d->cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(&d->cinfo, TRUE) != JPEG_HEADER_OK)
    JpegFail(reinterpret_cast<j_common_ptr>(&d->cinfo), "no image in the JPEG data");
  return true;
}

// Converts one row of libjpeg's CMYK output to RGBA in place. Adobe writes CMYK
// inverted (0 = full ink), which is what almost every CMYK JPEG is.
void CmykToRgba(uint8_t* row, size_t width, bool inverted) {
  for (size_t x = 0; x < width; ++x) {
    uint8_t* p = row + x * 4;
    int c = p[0], m = p[1], y = p[2], k = p[3];
    if (!inverted) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
    p[0] = static_cast<uint8_t>((c * k + 127) / 255);
    p[1] = static_cast<uint8_t>((m * k + 127) / 255);
    p[2] = static_cast<uint8_t>((y * k + 127) / 255);
    p[3] = 255;
  }
}

// The setjmp region for the pixels: start, read every scanline, finish (through EOI).
bool ReadJpegRows(JpegDecoder* d, uint8_t* row, bool cmyk, PixelSink* sink) {
  if (setjmp(d->jump)) return false;
  jpeg_start_decompress(&d->cinfo);
  if (d->cinfo.output_components != 4)
    JpegFail(reinterpret_cast<j_common_ptr>(&d->cinfo), "unexpected colour layout");
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW rows[1] = {row};
    if (jpeg_read_scanlines(&d->cinfo, rows, 1) != 1)
      JpegFail(reinterpret_cast<j_common_ptr>(&d->cinfo), "truncated JPEG data");
    if (cmyk) CmykToRgba(row, d->cinfo.output_width, d->cinfo.saw_Adobe_marker);
    sink->Row(row);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

Status DecodeJpeg(std::string_view bytes, const ImageLimits& limits, Resampler* out) {
  auto d = std::make_unique<JpegDecoder>();
  // Enough for the coefficients of a 4-component image at max_pixels, plus slack.
  const int64_t max_memory = std::min<int64_t>(limits.max_pixels * 8 + (16 << 20), 1L << 30);
  if (!ReadJpegHeader(d.get(), bytes, static_cast<long>(max_memory)))
    return DecodeError(d->message);
  jpeg_decompress_struct& c = d->cinfo;
  TOKKI_RETURN_IF_ERROR(out->SetSourceSize(c.image_width, c.image_height));
  const bool cmyk = c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK;
  c.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
  // Decode at 1/2, 1/4 or 1/8 size when that still covers the output: the DCT does
  // that scaling almost for free, and the box filter does the rest.
  c.scale_num = 1;
  c.scale_denom = 1;
  for (unsigned denom : {8u, 4u, 2u}) {
    if ((c.image_width + denom - 1) / denom >= static_cast<unsigned>(out->out_width()) &&
        (c.image_height + denom - 1) / denom >= static_cast<unsigned>(out->out_height())) {
      c.scale_denom = denom;
      break;
    }
  }
  jpeg_calc_output_dimensions(&c);
  TOKKI_RETURN_IF_ERROR(out->Begin(c.output_width, c.output_height));
  std::vector<uint8_t> row(static_cast<size_t>(c.output_width) * 4);
  if (!ReadJpegRows(d.get(), row.data(), cmyk, out)) return DecodeError(d->message);
  return Status::Ok();
}

// Turns `pixels` (w × h RGBA, as stored) upright for an EXIF orientation.
std::vector<uint8_t> Orient(std::vector<uint8_t> pixels, int* w, int* h, int orientation) {
  if (orientation <= 1 || orientation > 8) return pixels;
  const int sw = *w, sh = *h;
  const bool swap = orientation >= 5;
  const int dw = swap ? sh : sw, dh = swap ? sw : sh;
  std::vector<uint8_t> out(pixels.size());
  for (int dy = 0; dy < dh; ++dy) {
    for (int dx = 0; dx < dw; ++dx) {
      int sx = dx, sy = dy;
      switch (orientation) {
        case 2:  // mirrored
          sx = sw - 1 - dx;
          break;
        case 3:  // rotated 180°
          sx = sw - 1 - dx, sy = sh - 1 - dy;
          break;
        case 4:  // flipped
          sy = sh - 1 - dy;
          break;
        case 5:  // transposed
          sx = dy, sy = dx;
          break;
        case 6:  // rotated 90° clockwise to display
          sx = dy, sy = sh - 1 - dx;
          break;
        case 7:  // transversed
          sx = sw - 1 - dy, sy = sh - 1 - dx;
          break;
        case 8:  // rotated 90° anticlockwise to display
          sx = sw - 1 - dy, sy = dx;
          break;
      }
      std::memcpy(&out[(static_cast<size_t>(dy) * dw + dx) * 4],
                  &pixels[(static_cast<size_t>(sy) * sw + sx) * 4], 4);
    }
  }
  *w = dw, *h = dh;
  return out;
}

// ---- WebP ----

std::string WebpError(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "corrupt WebP data";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported WebP feature";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "truncated WebP data";
    default:
      return "WebP decoding failed";
  }
}

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* d) const { WebPAnimDecoderDelete(d); }
};

Status DecodeWebp(std::string_view bytes, Resampler* out) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  WebPBitstreamFeatures features;
  VP8StatusCode st = WebPGetFeatures(data, bytes.size(), &features);
  if (st != VP8_STATUS_OK) return DecodeError(WebpError(st));
  const uint32_t w = static_cast<uint32_t>(features.width);
  const uint32_t h = static_cast<uint32_t>(features.height);
  TOKKI_RETURN_IF_ERROR(out->Begin(w, h));
  const size_t stride = size_t{w} * 4;
  if (features.has_animation) {
    // The first frame, composed on the canvas (the animation decoder owns the buffer).
    WebPAnimDecoderOptions options;
    if (!WebPAnimDecoderOptionsInit(&options)) return Status::Internal("libwebp version mismatch");
    options.color_mode = MODE_RGBA;
    options.use_threads = 0;
    WebPData webp{data, bytes.size()};
    std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> dec(WebPAnimDecoderNew(&webp, &options));
    if (dec == nullptr) return DecodeError("corrupt animated WebP");
    WebPAnimInfo info;
    if (!WebPAnimDecoderGetInfo(dec.get(), &info) || info.canvas_width != w ||
        info.canvas_height != h || info.frame_count < 1)
      return DecodeError("inconsistent animated WebP");
    uint8_t* canvas = nullptr;
    int timestamp = 0;
    if (!WebPAnimDecoderGetNext(dec.get(), &canvas, &timestamp) || canvas == nullptr)
      return DecodeError("corrupt first frame in animated WebP");
    for (uint32_t y = 0; y < h; ++y) out->Row(canvas + stride * y);
    return Status::Ok();
  }
  std::vector<uint8_t> pixels(stride * h);
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return Status::Internal("libwebp version mismatch");
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = pixels.data();
  config.output.u.RGBA.stride = static_cast<int>(stride);
  config.output.u.RGBA.size = pixels.size();
  st = WebPDecode(data, bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // external memory: frees nothing of ours
  if (st != VP8_STATUS_OK) return DecodeError(WebpError(st));
  if (config.output.width != features.width || config.output.height != features.height)
    return DecodeError("inconsistent WebP size");
  for (uint32_t y = 0; y < h; ++y) out->Row(pixels.data() + stride * y);
  return Status::Ok();
}

// ---- Header sizes, before any decoder runs ----

// The size a PNG or WebP declares in its header (JPEG: ScanJpegHeader), read without a
// decoder; nullopt when the header is not there (the decoder then reports it).
std::optional<std::pair<int64_t, int64_t>> DeclaredSize(Format format, std::string_view b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  if (format == Format::kPng && b.size() >= 24 && b.substr(12, 4) == "IHDR")
    return std::pair<int64_t, int64_t>{Be32(p + 16), Be32(p + 20)};
  int w = 0, h = 0;
  if (format == Format::kWebp && WebPGetInfo(p, b.size(), &w, &h))
    return std::pair<int64_t, int64_t>{w, h};
  return std::nullopt;
}

Result<SafeImage> Sanitize(std::string_view bytes, const ImageLimits& limits) {
  if (bytes.size() > limits.max_input_bytes)
    return Status::TooLarge("the image is " + std::to_string(bytes.size()) +
                            " bytes; the largest accepted is " +
                            std::to_string(limits.max_input_bytes) + " bytes");
  if (bytes.empty())
    return Status::InvalidArgument(std::string(kNotAnImage) + "; the file is empty");
  std::optional<Format> format = Sniff(bytes);
  if (!format.has_value()) return Status::InvalidArgument(std::string(kNotAnImage));
  JpegHeader jpeg;
  if (*format == Format::kJpeg) {
    jpeg = ScanJpegHeader(bytes);
    if (jpeg.has_frame) TOKKI_RETURN_IF_ERROR(CheckSize(jpeg.width, jpeg.height, limits));
  } else if (auto size = DeclaredSize(*format, bytes); size.has_value()) {
    TOKKI_RETURN_IF_ERROR(CheckSize(size->first, size->second, limits));
  }

  Resampler resampler(limits);
  switch (*format) {
    case Format::kPng:
      TOKKI_RETURN_IF_ERROR(internal::DecodePngRows(
          bytes, static_cast<uint32_t>(std::max(1, limits.max_side)), &resampler));
      break;
    case Format::kJpeg:
      TOKKI_RETURN_IF_ERROR(DecodeJpeg(bytes, limits, &resampler));
      break;
    case Format::kWebp:
      TOKKI_RETURN_IF_ERROR(DecodeWebp(bytes, &resampler));
      break;
  }
  if (!resampler.complete()) return Status::Internal("the decoder stopped before the last row");
  int w = resampler.out_width(), h = resampler.out_height();
  std::vector<uint8_t> rgba = Orient(resampler.Finish(), &w, &h, jpeg.orientation);

  // RGB unless some pixel is not opaque.
  const size_t n_pixels = static_cast<size_t>(w) * h;
  bool opaque = true;
  for (size_t i = 0; i < n_pixels && opaque; ++i) opaque = rgba[i * 4 + 3] == 255;
  int channels = 4;
  if (opaque) {
    for (size_t i = 0; i < n_pixels; ++i) std::memmove(&rgba[i * 3], &rgba[i * 4], 3);
    channels = 3;
  }
  TOKKI_ASSIGN_OR_RETURN(std::string png, internal::EncodePng(w, h, channels, rgba.data(), {}));
  return SafeImage{"image/png", std::move(png), w, h};
}

}  // namespace

Result<SafeImage> SanitizeImage(std::string_view bytes, const ImageLimits& limits) {
  try {
    return Sanitize(bytes, limits);
  } catch (const std::bad_alloc&) {
    return Status::Unavailable("not enough memory to decode the image; try again later");
  }
}

}  // namespace tokki::persona
