// Fuzz target: the batch request reader's line parser (tools/tessera/batch_line.h:
// ParseBatchLine, strict JSON as for manifests, then "one object per line"). The input is a
// whole requests file: it is cut into lines and blank lines are skipped as ReadBatch does.
//
// Properties: an accepted line is a JSON object that can be written back as JSON (dump with
// the default, throwing, UTF-8 handling: the parser let no invalid UTF-8 through, cf. issue 17
// defect 2); a refused line's message starts with the place it names ("run: FILE:LINE").
// Seeds: fuzz/corpus/batch_line (the lines of examples/*.jsonl); dictionary fuzz/json.dict.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "tools/tessera/batch_line.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  int n = 0;
  for (std::size_t pos = 0; pos < file.size();) {
    std::size_t end = file.find('\n', pos);
    if (end == std::string_view::npos) end = file.size();
    const std::string_view line = file.substr(pos, end - pos);
    pos = end + 1;
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = "run: fuzz.jsonl:" + std::to_string(n);
    Result<nlohmann::json> j = cli::ParseBatchLine(line, where);
    if (!j.ok()) {
      FUZZ_EXPECT(j.status().message().rfind(where, 0) == 0);
      continue;
    }
    FUZZ_EXPECT(j->is_object());
    (void)j->dump();
  }
  return 0;
}
