#include "persona/avatar.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "persona/macros.h"
#include "persona/png_io.h"

namespace tokki::persona {
namespace {

constexpr double kPi = 3.14159265358979323846;

uint64_t Fnv1a(std::string_view s) { return Fnv1a64(s, kPersonaHashSeed); }

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t Next() { return gen_.Next(); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * gen_.Unit(); }

 private:
  SplitMix64 gen_;
};

struct Pt {
  double x, y;
};

bool InPolygon(double x, double y, const std::vector<Pt>& poly) {
  bool inside = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    if ((poly[i].y > y) != (poly[j].y > y) &&
        x < (poly[j].x - poly[i].x) * (y - poly[i].y) / (poly[j].y - poly[i].y) + poly[i].x)
      inside = !inside;
  }
  return inside;
}

bool InCircle(double x, double y, double cx, double cy, double r) {
  return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
}

bool InRect(double x, double y, double x0, double y0, double x1, double y1) {
  return x >= x0 && x <= x1 && y >= y0 && y <= y1;
}

std::vector<Pt> StarPolygon(int points, double r_outer, double r_inner) {
  std::vector<Pt> poly;
  for (int i = 0; i < points * 2; ++i) {
    double r = i % 2 == 0 ? r_outer : r_inner;
    double a = -kPi / 2 + i * kPi / points;
    poly.push_back({r * std::cos(a), r * std::sin(a)});
  }
  return poly;
}

struct Rotation {
  double c, s;
  explicit Rotation(double angle) : c(std::cos(angle)), s(std::sin(angle)) {}
  Pt operator()(double x, double y) const { return {c * x - s * y, s * x + c * y}; }
};

// Motif shapes in local coordinates: x right, y down, the shape fits in [-1, 1].
bool InMotif(int motif, double x, double y) {
  static const std::vector<Pt> kStar = StarPolygon(5, 0.95, 0.4);
  static const std::vector<Pt> kCompassStar = StarPolygon(4, 0.95, 0.22);
  static const std::vector<Pt> kMountain = {
      {-0.95, 0.7}, {-0.35, -0.35}, {-0.05, 0.05}, {0.35, -0.75}, {0.95, 0.7}};
  static const std::vector<Pt> kCrown = {{-0.8, 0.55}, {-0.8, -0.45}, {-0.4, 0.05}, {0, -0.7},
                                         {0.4, 0.05},  {0.8, -0.45},  {0.8, 0.55}};
  static const std::vector<Pt> kBookLeft = {
      {-0.9, -0.45}, {-0.06, -0.3}, {-0.06, 0.65}, {-0.9, 0.5}};
  static const std::vector<Pt> kBookRight = {{0.9, -0.45}, {0.06, -0.3}, {0.06, 0.65}, {0.9, 0.5}};
  static const std::vector<Pt> kFlameTop = {{0, -0.95}, {-0.5, 0.15}, {0.5, 0.15}};
  static const std::vector<Pt> kNoteFlag = {
      {0.04, -0.8}, {0.55, -0.45}, {0.55, -0.2}, {0.04, -0.5}};
  static const std::vector<Pt> kBrushTip = {{-0.25, 0.45}, {0.25, 0.45}, {0, 0.98}};
  static const std::vector<Pt> kSwordTip = {{-0.1, -0.6}, {0.1, -0.6}, {0, -0.95}};
  static const Rotation kQuarter(kPi / 4), kMinusQuarter(-kPi / 4), kFifth(kPi / 5);
  static const Rotation kThirds[3] = {Rotation(0), Rotation(kPi / 3), Rotation(2 * kPi / 3)};
  const double r = std::sqrt(x * x + y * y);
  // Only the radial motifs need the angle.
  const double a = (motif == 7 || motif == 10) ? std::atan2(y, x) : 0.0;
  switch (motif) {
    case 0:  // crown
      return InPolygon(x, y, kCrown) || InCircle(x, y, 0, -0.78, 0.1) ||
             InCircle(x, y, -0.8, -0.55, 0.09) || InCircle(x, y, 0.8, -0.55, 0.09);
    case 1:  // wave
      for (int k = -1; k <= 1; ++k)
        if (std::abs(x) < 0.9 && std::abs(y - 0.5 * k - 0.15 * std::sin(x * 3 * kPi)) < 0.1)
          return true;
      return false;
    case 2:  // star
      return InPolygon(x, y, kStar);
    case 3: {  // leaf
      Pt p = kQuarter(x, y);
      bool blade = InCircle(p.x, p.y, 0, -0.55, 0.95) && InCircle(p.x, p.y, 0, 0.55, 0.95);
      bool vein = std::abs(p.x) < 0.03 && std::abs(p.y) < 0.35;
      bool stem = std::abs(p.x) < 0.05 && p.y > 0.3 && p.y < 0.95;
      return (blade && !vein) || stem;
    }
    case 4:  // book
      return InPolygon(x, y, kBookLeft) || InPolygon(x, y, kBookRight);
    case 5:  // flame
      return InCircle(x, y, 0, 0.35, 0.5) || InPolygon(x, y, kFlameTop);
    case 6:  // moon
      return InCircle(x, y, 0, 0, 0.85) && !InCircle(x, y, 0.38, -0.22, 0.7);
    case 7:  // sun
      return r < 0.45 || (r > 0.58 && r < 0.92 && std::cos(12 * a) > 0.55);
    case 8:  // mountain
      return InPolygon(x, y, kMountain) && !(y > 0.45 && y < 0.55);
    case 9: {  // flower
      if (r < 0.25) return true;
      for (int i = 0; i < 6; ++i) {
        double pa = i * kPi / 3;
        if (InCircle(x, y, 0.55 * std::cos(pa), 0.55 * std::sin(pa), 0.3)) return r > 0.3;
      }
      return false;
    }
    case 10:  // gear
      return r > 0.22 && (r < 0.62 || (r < 0.88 && std::cos(8 * a) > 0.3));
    case 11:  // note
      return InCircle(x, y, -0.3, 0.5, 0.28) || InRect(x, y, -0.08, -0.8, 0.04, 0.5) ||
             InPolygon(x, y, kNoteFlag);
    case 12: {  // brush
      Pt p = kMinusQuarter(x, y);
      return InRect(p.x, p.y, -0.08, -0.95, 0.08, 0.2) ||
             (InCircle(p.x, p.y, 0, 0.45, 0.25) && p.y > 0.2) || InPolygon(p.x, p.y, kBrushTip);
    }
    case 13:  // sword
      return InRect(x, y, -0.09, -0.6, 0.09, 0.4) || InPolygon(x, y, kSwordTip) ||
             InRect(x, y, -0.4, 0.4, 0.4, 0.5) || InRect(x, y, -0.06, 0.5, 0.06, 0.82) ||
             InCircle(x, y, 0, 0.88, 0.1);
    case 14: {  // heart (implicit curve, y flipped so the point is at the bottom)
      double hx = x * 1.15, hy = -y * 1.15 + 0.15;
      double t = hx * hx + hy * hy - 1;
      return t * t * t - hx * hx * hy * hy * hy <= 0;
    }
    case 15:  // cloud
      return InCircle(x, y, -0.55, 0.2, 0.4) || InCircle(x, y, 0, -0.15, 0.55) ||
             InCircle(x, y, 0.55, 0.15, 0.42) || InRect(x, y, -0.55, 0.2, 0.55, 0.6);
    case 16:  // compass
      return (r > 0.78 && r < 0.9) || InPolygon(x, y, kCompassStar);
    case 17: {  // feather
      Pt p = kFifth(x, y);
      bool vane = (p.x / 0.32) * (p.x / 0.32) + (p.y / 0.85) * (p.y / 0.85) < 1 && p.y < 0.6;
      bool notch = p.x > 0 && std::abs(p.y + 0.1 - p.x * 0.6) < 0.04;
      bool shaft = std::abs(p.x) < 0.03 && p.y > -0.7 && p.y < 0.98;
      return (vane && !notch) || shaft;
    }
    case 18: {  // atom
      if (r < 0.16) return true;
      for (int i = 0; i < 3; ++i) {
        Pt p = kThirds[i](x, y);
        double e = (p.x / 0.9) * (p.x / 0.9) + (p.y / 0.32) * (p.y / 0.32);
        if (e > 0.78 && e < 1.0) return true;
      }
      return false;
    }
    case 19:  // scroll
      return InRect(x, y, -0.55, -0.55, 0.55, 0.55) ||
             (std::abs(y + 0.6) < 0.14 && std::abs(x) < 0.72) ||
             (std::abs(y - 0.6) < 0.14 && std::abs(x) < 0.72);
    default:
      return r < 0.8;
  }
}

struct Rgb {
  double r, g, b;
};

Rgb FromHex(uint32_t v) {
  return {double((v >> 16) & 0xFF), double((v >> 8) & 0xFF), double(v & 0xFF)};
}

Rgb Mix(const Rgb& a, const Rgb& b, double t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

uint8_t Clamp8(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

}  // namespace

const std::vector<std::string_view>& KnownMotifs() {
  static const std::vector<std::string_view> kMotifs = {
      "crown", "wave",     "star",    "leaf",    "book", "flame", "moon",
      "sun",   "mountain", "flower",  "gear",    "note", "brush", "sword",
      "heart", "cloud",    "compass", "feather", "atom", "scroll"};
  return kMotifs;
}

std::optional<uint32_t> ParseHexColor(std::string_view text) {
  if (!text.empty() && text.front() == '#') text.remove_prefix(1);
  if (text.size() != 6 && text.size() != 3) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    v = (v << 4) | static_cast<uint32_t>(d);
    if (text.size() == 3) v = (v << 4) | static_cast<uint32_t>(d);
  }
  return v;
}

std::string RenderAvatarPng(std::string_view seed, const Palette& palette, std::string_view motif,
                            int size_px) {
  const int n = std::clamp(size_px, 16, 1024);
  const auto& motifs = KnownMotifs();
  int motif_index = -1;
  for (size_t i = 0; i < motifs.size(); ++i)
    if (motifs[i] == motif) motif_index = static_cast<int>(i);
  const uint64_t seed_hash = Fnv1a(seed);
  if (motif_index < 0) motif_index = static_cast<int>(Fnv1a(motif) % motifs.size());

  Rng rng(seed_hash);
  const Rgb c0 = FromHex(palette[0]), c1 = FromHex(palette[1]);
  const double grad_angle = rng.Uniform(0, 2 * kPi);
  const double gdx = std::cos(grad_angle), gdy = std::sin(grad_angle);
  const int pattern = static_cast<int>(rng.Next() % 3);
  struct Bubble {
    double x, y, r, strength;
  };
  std::vector<Bubble> bubbles;
  for (int i = 0; i < 14; ++i)
    bubbles.push_back(
        {rng.Uniform(-1, 1), rng.Uniform(-1, 1), rng.Uniform(0.06, 0.3), rng.Uniform(0.05, 0.14)});
  const double stripe_angle = rng.Uniform(0, kPi);
  const double stripe_freq = rng.Uniform(5, 11);
  const double dot_step = rng.Uniform(0.14, 0.24);
  const double motif_rot = rng.Uniform(-0.3, 0.3);
  const double motif_scale = rng.Uniform(0.5, 0.6);
  const double motif_dx = rng.Uniform(-0.06, 0.06), motif_dy = rng.Uniform(-0.06, 0.06);
  const Rotation rot(motif_rot);
  const Rotation stripe_rot(stripe_angle);
  // Light ink on dark palettes, dark ink on light ones (with the background glow added).
  const Rgb mid = Mix(c0, c1, 0.5);
  const double luminance = 0.2126 * mid.r + 0.7152 * mid.g + 0.0722 * mid.b;
  const bool light_palette = luminance > 150;
  const Rgb ink = light_palette ? Mix(mid, Rgb{0, 0, 0}, 0.72) : Mix(mid, Rgb{255, 255, 255}, 0.9);
  const Rgb shadow =
      light_palette ? Mix(mid, Rgb{255, 255, 255}, 0.7) : Mix(c1, Rgb{0, 0, 0}, 0.55);

  std::vector<uint8_t> pixels(static_cast<size_t>(n) * n * 3);
  constexpr int kSamples = 3;
  constexpr double kShadowDx = 0.035, kShadowDy = 0.05;
  // Pixel position (in pixels) -> motif coordinates, optionally offset for the shadow.
  auto to_local = [&](double fx, double fy, double ox, double oy) {
    double ux = fx / n * 2 - 1 - motif_dx - ox;
    double uy = fy / n * 2 - 1 - motif_dy - oy;
    return rot(ux / motif_scale, uy / motif_scale);
  };
  std::vector<uint8_t> motif_corners(static_cast<size_t>(n + 1) * (n + 1));
  std::vector<uint8_t> shadow_corners(motif_corners.size());
  for (int cy = 0; cy <= n; ++cy)
    for (int cx = 0; cx <= n; ++cx) {
      size_t k = static_cast<size_t>(cy) * (n + 1) + cx;
      Pt p = to_local(cx, cy, 0, 0);
      motif_corners[k] = InMotif(motif_index, p.x, p.y);
      Pt q = to_local(cx, cy, kShadowDx, kShadowDy);
      shadow_corners[k] = InMotif(motif_index, q.x, q.y);
    }
  for (int py = 0; py < n; ++py) {
    for (int px = 0; px < n; ++px) {
      double x = (px + 0.5) / n * 2 - 1, y = (py + 0.5) / n * 2 - 1;
      double t = std::clamp((x * gdx + y * gdy) * 0.5 / 1.2 + 0.5, 0.0, 1.0);
      Rgb c = Mix(c0, c1, t);
      double light = 0;
      switch (pattern) {
        case 0:
          for (const auto& b : bubbles)
            if (InCircle(x, y, b.x, b.y, b.r)) light += b.strength;
          break;
        case 1: {
          Pt p = stripe_rot(x, y);
          light += std::sin(p.x * stripe_freq * kPi) > 0.55 ? 0.1 : 0;
          break;
        }
        default: {
          double gx = std::fmod(x + 2, dot_step) - dot_step / 2;
          double gy = std::fmod(y + 2, dot_step) - dot_step / 2;
          light += std::sqrt(gx * gx + gy * gy) < dot_step * 0.18 ? 0.13 : 0;
          break;
        }
      }
      // Soft glow behind the motif.
      light += 0.18 * std::max(0.0, 1 - std::sqrt(x * x + y * y) / 0.9);
      c = Mix(c, Rgb{255, 255, 255}, std::min(light, 0.5));
      // Coverage of the motif and its shadow: exact 0/1 where all four pixel corners
      // agree, supersampled only on edges.
      const size_t c00 = static_cast<size_t>(py) * (n + 1) + px, c10 = c00 + 1;
      const size_t c01 = c00 + (n + 1), c11 = c01 + 1;
      auto coverage = [&](const std::vector<uint8_t>& corners, double ox, double oy) {
        int sum = corners[c00] + corners[c10] + corners[c01] + corners[c11];
        if (sum == 0) return 0;
        if (sum == 4) return kSamples * kSamples;
        int hits = 0;
        for (int sy = 0; sy < kSamples; ++sy)
          for (int sx = 0; sx < kSamples; ++sx) {
            Pt p = to_local(px + (sx + 0.5) / kSamples, py + (sy + 0.5) / kSamples, ox, oy);
            hits += InMotif(motif_index, p.x, p.y);
          }
        return hits;
      };
      const int n_in = coverage(motif_corners, 0, 0);
      const int n_shadow = coverage(shadow_corners, kShadowDx, kShadowDy);
      constexpr double kAll = kSamples * kSamples;
      c = Mix(c, shadow, 0.3 * n_shadow / kAll);
      c = Mix(c, ink, 0.95 * n_in / kAll);
      // 4x4 ordered dither against gradient banding (repeats, so it compresses well).
      static constexpr int kBayer[4][4] = {
          {0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};
      double grain = (kBayer[py & 3][px & 3] - 7.5) / 8.0;
      uint8_t* out = &pixels[(static_cast<size_t>(py) * n + px) * 3];
      out[0] = Clamp8(c.r + grain);
      out[1] = Clamp8(c.g + grain);
      out[2] = Clamp8(c.b + grain);
    }
  }
  auto png = internal::EncodePng(n, n, 3, pixels.data(), {});
  return png.ok() ? std::move(png).value() : std::string();
}

}  // namespace tokki::persona
