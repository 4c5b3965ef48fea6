#include "tests/sim/seed_replay.h"

#include <cstdio>
#include <utility>

namespace causeway::sim {
namespace {
CurrentSeed* current = nullptr;
}  // namespace

CurrentSeed::CurrentSeed(uint64_t seed, std::string replay_command)
    : seed_(seed),
      replay_command_(std::move(replay_command)),
      outer_(current),
      previous_hook_(SetAssertHook(&CurrentSeed::OnAssertionFailed)) {
  current = this;
}

CurrentSeed::~CurrentSeed() {
  current = outer_;
  SetAssertHook(previous_hook_);
}

void CurrentSeed::OnAssertionFailed() {
  if (current == nullptr) return;
  std::fprintf(stderr, "seed %llu failed an assertion; replay: %s\n",
               static_cast<unsigned long long>(current->seed_),
               current->replay_command_.c_str());
  std::fflush(stderr);
}

}  // namespace causeway::sim
