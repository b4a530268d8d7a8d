#include "options.h"

#include <unistd.h>

#include <charconv>
#include <thread>

#include "base/printable.h"

namespace tessera::cli {

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

Result<std::vector<std::int32_t>> ParseIdList(std::string_view flag, std::string_view text) {
  std::vector<std::int32_t> ids;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(start, end - start);
    std::int32_t id = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return InvalidArgument(std::string(flag) + ": \"" + std::string(item) +
                             "\" is not a token id (expected comma-separated integers)");
    }
    ids.push_back(id);
    start = end + 1;
  }
  return ids;
}

Result<std::int32_t> ResolveThreads(std::int32_t requested) {
  const std::int32_t cores =
      std::max<std::int32_t>(1, static_cast<std::int32_t>(std::thread::hardware_concurrency()));
  if (requested == 0) return cores;
  if (requested < 0 || requested > cores) {
    return InvalidArgument("-t " + std::to_string(requested) + " is outside 1.." +
                           std::to_string(cores) + " (the cores of this machine)");
  }
  return requested;
}

std::string DumpJson(const nlohmann::ordered_json& json, int indent) {
  return json.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string ForStream(std::string_view text, std::FILE* stream) {
  if (::isatty(::fileno(stream)) == 1) return base::PrintableLines(text);
  return std::string(text);
}

std::string DumpJson(const nlohmann::json& json, int indent) {
  return json.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tessera::cli
