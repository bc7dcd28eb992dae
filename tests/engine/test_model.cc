#include "test_model.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "engine/model_gen.h"

namespace tokki::engine::testing {

namespace {

std::string GeneratedModelPath(const std::string& type) {
  namespace fs = std::filesystem;
  const std::string dir = TOKKI_TEST_MODEL_DIR;
  const std::string path = dir + "/tiny-" + type + ".gguf";
  fs::create_directories(dir);
  const int fd = ::open((dir + "/.gen.lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (fd >= 0) ::flock(fd, LOCK_EX);
  if (!fs::exists(path)) {
    ModelGenOptions o;
    o.preset = "tiny";
    o.type = type;
    o.output_path = path;
    Status st = GenerateModel(o);
    if (!st.ok()) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot generate tiny model: " + st.ToString());
    }
  }
  if (fd >= 0) ::close(fd);
  return path;
}

}  // namespace

std::string TinyModelPath() { return GeneratedModelPath("f16"); }

std::string TinyQ8ModelPath() { return GeneratedModelPath("q8_0"); }

}  // namespace tokki::engine::testing
