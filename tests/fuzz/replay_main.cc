// Replays saved inputs through a fuzz target without libFuzzer, so any
// compiler's build (and tests/run) re-checks every corpus and regression
// input. A crash or FUZZ_CHECK failure aborts the run.
//
// Usage: causeway_fuzz_replay TARGET PATH...
// Each PATH is a file or a directory (read recursively, in name order). A
// missing directory is skipped (git keeps no empty regression folders), but
// a run that replays nothing at all fails.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace fs = std::filesystem;

namespace {

bool ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in),
              std::istreambuf_iterator<char>());
  return !in.bad();
}

void Collect(const fs::path& root, std::vector<fs::path>* files) {
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    files->push_back(root);
    return;
  }
  if (!fs::is_directory(root, ec)) return;
  for (const auto& entry : fs::recursive_directory_iterator(root, ec)) {
    if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') {
      files->push_back(entry.path());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto& targets = causeway::fuzz::Targets();
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TARGET PATH...\ntargets:", argv[0]);
    for (const auto& [name, fn] : targets)
      std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  auto it = targets.find(argv[1]);
  if (it == targets.end()) {
    std::fprintf(stderr, "unknown target %s\n", argv[1]);
    return 2;
  }
  causeway::fuzz::QuietLogs();

  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    std::vector<fs::path> found;
    Collect(argv[i], &found);
    std::sort(found.begin(), found.end());
    if (found.empty()) std::printf("note: nothing to replay in %s\n", argv[i]);
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) {
    std::fprintf(stderr, "no inputs found for target %s\n", argv[1]);
    return 1;
  }
  for (const auto& path : files) {
    std::string data;
    if (!ReadFile(path, &data)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    // Printed first, so the input that crashes is the last line shown.
    std::printf("replay %s (%zu bytes)\n", path.c_str(), data.size());
    std::fflush(stdout);
    it->second(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::printf("%s: replayed %zu inputs\n", argv[1], files.size());
  return 0;
}
