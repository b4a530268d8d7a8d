#include "registry/records.h"

#include <array>

namespace tessera::registry {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"installed", "verified", "suspended",
                                                         "retired", "quarantined"};

}  // namespace

std::string_view StateName(State state) { return kStateNames[static_cast<std::size_t>(state)]; }

std::optional<State> ParseState(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<State>(i);
  }
  return std::nullopt;
}

bool IsUsable(State state) { return state == State::kInstalled || state == State::kVerified; }

}  // namespace tessera::registry
