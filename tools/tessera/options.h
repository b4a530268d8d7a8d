// Helpers shared by the subcommands: comma lists, id-list parsing, thread-count checks, JSON output
// that never throws on bytes that are not UTF-8.
#ifndef TESSERA_TOOLS_TESSERA_OPTIONS_H_
#define TESSERA_TOOLS_TESSERA_OPTIONS_H_

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::cli {

// "a,,b" -> {"a", "", "b"}: every item, empty ones kept for the caller to refuse by position;
// "" -> {""}.
std::vector<std::string> SplitCommas(const std::string& text);

// "1,2,3" -> {1, 2, 3}. kInvalidArgument naming the flag and the bad item.
Result<std::vector<std::int32_t>> ParseIdList(std::string_view flag, std::string_view text);

// -t: 0 = every core; 1..cores; more than the machine's cores is refused (oversubscription
// slows tiny models by an order of magnitude).
Result<std::int32_t> ResolveThreads(std::int32_t requested);

// Serialises with invalid UTF-8 replaced by U+FFFD instead of throwing.
// Untrusted text (model output, a request) for `stream`: escaped (base::PrintableLines) when
// the stream is a terminal, so that escape sequences in it cannot act on the terminal; byte for
// byte when it is a pipe or a file, where the bytes are the data.
std::string ForStream(std::string_view text, std::FILE* stream);

// Every JSON the CLI prints goes through one of these two.
std::string DumpJson(const nlohmann::ordered_json& json, int indent = 2);
std::string DumpJson(const nlohmann::json& json, int indent = 2);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_OPTIONS_H_
