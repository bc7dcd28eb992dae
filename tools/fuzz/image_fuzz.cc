// Fuzz target for SanitizeImage (PNG, JPEG, WebP decoding, limits, scaling, PNG output).
// Built and run by tools/fuzz/run.sh with TARGET=image (clang -fsanitize=fuzzer,address,
// undefined); seeds come from tools/fuzz/image_seeds.cc.
//
// Besides memory errors, it aborts on contract violations: an error must be
// InvalidArgument or TooLarge with a message; an accepted image must be a PNG that
// decodes at the reported size, fits the output box, holds no text chunk, and comes back
// byte-identical when sanitised again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "persona/image.h"
#include "persona/png_io.h"

namespace {

void Check(bool ok, const char* what, const tokki::Status& st) {
  if (ok) return;
  std::fprintf(stderr, "contract violation: %s: %s\n", what, st.ToString().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tokki::persona;
  // Smaller than the defaults so that a tiny file declaring a large image of zeros costs
  // milliseconds, not seconds; the checks are the same code.
  ImageLimits limits;
  limits.max_side = 4096;
  limits.max_pixels = 2'000'000;
  limits.out_max_side = 96;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto out = SanitizeImage(bytes, limits);
  if (!out.ok()) {
    const tokki::Status& st = out.status();
    Check(!st.message().empty(), "error without a message", st);
    Check(st.code() == tokki::Status::Code::kInvalidArgument ||
              st.code() == tokki::Status::Code::kTooLarge,
          "unexpected error code", st);
    return 0;
  }
  Check(out->mime == "image/png", "output is not image/png", tokki::Status());
  Check(out->width >= 1 && out->height >= 1 && out->width <= limits.out_max_side &&
            out->height <= limits.out_max_side,
        "output does not fit the box", tokki::Status());
  auto info = internal::ReadPng(out->bytes);
  Check(info.ok(), "output does not read as PNG", info.status());
  Check(info->width == static_cast<uint32_t>(out->width) &&
            info->height == static_cast<uint32_t>(out->height),
        "output size differs from the reported size", tokki::Status());
  Check(info->texts.empty(), "output has text chunks", tokki::Status());
  auto again = SanitizeImage(out->bytes, limits);
  Check(again.ok(), "output does not sanitise again", again.status());
  Check(again->bytes == out->bytes, "sanitising the output changed it", tokki::Status());
  return 0;
}
