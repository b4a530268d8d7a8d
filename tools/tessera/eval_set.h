// An evaluation set for `tessera eval`: JSON Lines, one case per line.
//
// Format (UTF-8; blank lines are skipped; lines may end in "\r\n"):
//   {"id": "add-1", "skill": "arithmetic", "prompt": "2+2=", "answer": "4", "split": "test"}
//   id      string  unique within the set
//   skill   string  the group the case is reported under
//   prompt  string  the exact text given to the model (tokenized with BOS as
//                   Model::Tokenize(add_bos=true) does; special-token text is not parsed)
//   answer  string  the exact text the model must generate (before its end-of-generation token)
//   split   string  optional: a second grouping ("train", "test", ...)
// Other keys are ignored.
//
// Errors name the file and the 1-based line: kMalformed (not JSON, not an object, a required
// field missing), kTypeMismatch (a field that is not a string), kDuplicate (an id seen before,
// naming both lines), kInvalidArgument (no cases), kNotFound / kIoError / kOutOfRange (the file
// cannot be read or exceeds kMaxSetBytes).
// Thread safety: pure functions.
#ifndef TESSERA_TOOLS_TESSERA_EVAL_SET_H_
#define TESSERA_TOOLS_TESSERA_EVAL_SET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::cli {

inline constexpr std::uint64_t kMaxSetBytes = std::uint64_t{1} << 30;  // 1 GiB

struct EvalCase {
  std::int64_t line = 0;  // 1-based line in the set file
  std::string id;
  std::string skill;
  std::string prompt;
  std::string answer;
  std::string split;  // empty when the case has none
  bool has_split = false;
};

struct EvalSet {
  std::string path;
  std::string sha256;  // of the file's bytes
  std::vector<EvalCase> cases;
};

// Parses set text; `name` prefixes error messages ("set.jsonl:3: ...").
Result<std::vector<EvalCase>> ParseEvalSet(std::string_view text, const std::string& name);

// Reads and parses the file at `path`, and hashes its bytes.
Result<EvalSet> ReadEvalSet(const std::string& path);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_EVAL_SET_H_
