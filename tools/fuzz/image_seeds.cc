// Writes small PNG, JPEG and WebP files covering the decoders' branches into a folder:
// the image fuzzer's seeds (tools/fuzz/run.sh). Uses the test helpers that build images
// from pixels, so no binary seeds are kept in the repository.
//   image_seeds OUT_DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "image_samples.h"

using namespace tokki::persona::testing;

namespace {

void Write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

std::vector<uint16_t> Samples(const Rgba& img, int channels) {
  std::vector<uint16_t> s;
  for (size_t i = 0; i < img.px.size(); ++i)
    if (static_cast<int>(i % 4) < channels) s.push_back(img.px[i]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: image_seeds OUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  Rgba small = Gradient(12, 9, /*with_alpha=*/true);
  Write(dir, "rgba.png", PngOf(small));
  Write(dir, "rgb_interlaced.png", PngOf(small, /*alpha=*/false, /*interlaced=*/true));
  PngSpec gray;
  gray.color_type = 0;
  Write(dir, "gray.png", MakePng(12, 9, Samples(small, 1), gray));
  PngSpec rgb16;
  rgb16.color_type = 2;
  rgb16.bit_depth = 16;
  rgb16.after = {{"tEXt", std::string("Comment\0x", 9)}};
  Write(dir, "rgb16_text.png", MakePng(12, 9, Samples(small, 3), rgb16));
  PngSpec palette;
  palette.color_type = 3;
  palette.plte = std::string("\xFF\0\0\0\xFF\0\0\0\xFF", 9);
  palette.trns = std::string("\xFF\x80", 2);
  std::vector<uint16_t> idx;
  for (int i = 0; i < 12 * 9; ++i) idx.push_back(static_cast<uint16_t>(i % 3));
  Write(dir, "palette.png", MakePng(12, 9, idx, palette));

  Rgba photo = Gradient(24, 16);
  Write(dir, "baseline.jpg", MakeJpeg(photo, {.quality = 80}));
  Write(dir, "progressive.jpg", MakeJpeg(photo, {.quality = 80, .progressive = true}));
  Write(dir, "gray.jpg", MakeJpeg(photo, {.quality = 80, .color = JCS_GRAYSCALE}));
  Write(dir, "cmyk.jpg", MakeJpeg(photo, {.quality = 80, .color = JCS_CMYK}));
  Write(dir, "exif6.jpg", MakeJpeg(photo, {.quality = 80, .exif_orientation = 6}));

  Write(dir, "lossless.webp", MakeWebp(small));
  Write(dir, "lossy.webp", MakeWebp(photo, 70));
  Write(dir, "lossy_alpha.webp", MakeWebp(small, 70));
  Write(dir, "animated.webp", MakeAnimatedWebp({Solid(6, 4, 255, 0, 0), Solid(6, 4, 0, 0, 255)}));
  return 0;
}
