#include "test_model.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "engine/model_gen.h"

namespace tokki::engine::testing {

std::string TinyModelPath() {
  namespace fs = std::filesystem;
  const std::string dir = TOKKI_TEST_MODEL_DIR;
  const std::string path = dir + "/tiny-f16.gguf";
  fs::create_directories(dir);
  const int fd = ::open((dir + "/.gen.lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (fd >= 0) ::flock(fd, LOCK_EX);
  if (!fs::exists(path)) {
    ModelGenOptions o;
    o.preset = "tiny";
    o.type = "f16";
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

}  // namespace tokki::engine::testing
