// One line of a JSONL request file (`run --batch`, `ask --batch`), read as strictly as a
// manifest: text that is not JSON says why and where (truncated, not UTF-8, a lone surrogate
// escape, …), a member given twice is refused rather than silently taking the last value, and
// only then is a value that is not an object reported as such.
#ifndef TESSERA_TOOLS_TESSERA_BATCH_LINE_H_
#define TESSERA_TOOLS_TESSERA_BATCH_LINE_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera::cli {

// Longest line parsed. Generous: an oversized request inside a valid line is the runtime's to
// refuse, as one failed request of the batch rather than the whole file.
inline constexpr std::size_t kMaxBatchLineBytes = std::size_t{16} << 20;

// The object on `line`; `where` ("run: requests.jsonl:3") starts every message.
Result<nlohmann::json> ParseBatchLine(std::string_view line, const std::string& where);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_BATCH_LINE_H_
