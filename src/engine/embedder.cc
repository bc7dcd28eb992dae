// See embedder.h.
#include "engine/embedder.h"

#include <cmath>

namespace tokki::engine {

Status CheckEmbedTexts(const std::vector<std::string>& texts) {
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].empty()) {
      return Status::InvalidArgument("text " + std::to_string(i) + " of " +
                                     std::to_string(texts.size()) + " is empty");
    }
  }
  return Status::Ok();
}

void NormalizeL2(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  const double scale = 1.0 / std::sqrt(sum);
  for (float& x : v) x = static_cast<float>(x * scale);
}

}  // namespace tokki::engine
