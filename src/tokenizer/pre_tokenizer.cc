// PCRE2 is confined to this file (docs/adr/0007-pre-tokenizer-regex.md).
#include "tokenizer/pre_tokenizer.h"

#include <array>
#include <limits>
#include <utility>

#include "base/check.h"
#include "base/utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace tessera::tokenizer {
namespace {

// The expressions, written as llama.cpp writes them (\s and \S are expanded by ExpandSpaces).
constexpr std::string_view kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct Definition {
  std::string_view name;
  std::array<std::string_view, 5> expressions;  // in order; unused slots empty
};

constexpr Definition kDefinitions[] = {
    {"gpt-2", {kGpt2}},
    {"phi-2", {kGpt2}},
    {"mpt", {kGpt2}},
    {"olmo", {kGpt2}},
    {"starcoder", {"\\p{N}", kGpt2}},
    {"refact", {"\\p{N}", kGpt2}},
    {"codeshell", {"\\p{N}", kGpt2}},
    {"falcon", {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}},
    {"deepseek-coder",
     {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
      // U+4E00..U+9FA5, U+0800..U+4E00, U+AC00..U+D7FF
      "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"}},
    {"default", {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
};

// The Unicode White_Space property (Oniguruma's \s, which Hugging Face uses, and llama.cpp's
// table), as a class body. PCRE2 10.42's \s under PCRE2_UCP is the same set, but its definition
// has changed between PCRE2 versions, so the set is spelled out. \x0b, not \v: inside a PCRE2
// class \v means every vertical space character.
constexpr std::string_view kWhiteSpaceClass = "\\t\\n\\x0b\\f\\r\\p{Z}\\x{85}";

// Rewrites \s and \S into explicit White_Space classes: \s outside a class -> [WS], inside a
// class -> WS; \S (only used outside classes) -> [^WS].
std::string ExpandSpaces(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        if (!in_class) out += '[';
        out += kWhiteSpaceClass;
        if (!in_class) out += ']';
      } else if (next == 'S') {
        TS_CHECK(!in_class);
        out += "[^";
        out += kWhiteSpaceClass;
        out += ']';
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
    } else if (c == ']' && in_class) {
      in_class = false;
    }
    out += c;
  }
  return out;
}

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;
using MatchDataPtr = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

std::string Pcre2Message(int error) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  const int n = pcre2_get_error_message(error, buffer.data(), buffer.size());
  if (n < 0) return "PCRE2 error " + std::to_string(error);
  return std::string(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(n));
}

std::string SupportedNames() {
  std::string names;
  for (const Definition& d : kDefinitions) {
    if (!names.empty()) names += ", ";
    names += '"';
    names += d.name;
    names += '"';
  }
  return names;
}

}  // namespace

struct PreTokenizer::Expressions {
  std::vector<CodePtr> codes;  // applied in order
};

PreTokenizer::PreTokenizer(std::string name, std::unique_ptr<Expressions> expressions)
    : name_(std::move(name)), expressions_(std::move(expressions)) {}
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;
PreTokenizer::~PreTokenizer() = default;

Result<PreTokenizer> PreTokenizer::Create(std::string_view name) {
  const Definition* definition = nullptr;
  for (const Definition& d : kDefinitions) {
    if (d.name == name) definition = &d;
  }
  if (definition == nullptr) {
    return Status(StatusCode::kUnsupported, "tokenizer: pre-tokenizer \"" + std::string(name) +
                                                "\" (tokenizer.ggml.pre) is not supported "
                                                "(supported: " +
                                                SupportedNames() + ")");
  }
  auto expressions = std::make_unique<Expressions>();
  for (std::string_view source : definition->expressions) {
    if (source.empty()) continue;
    const std::string pattern = ExpandSpaces(source);
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    CodePtr code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                               PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &error_offset,
                               nullptr));
    if (code == nullptr) {
      return Status(StatusCode::kInternal, "tokenizer: pre-tokenizer \"" + std::string(name) +
                                               "\": PCRE2 rejects /" + pattern + "/ at offset " +
                                               std::to_string(error_offset) + ": " +
                                               Pcre2Message(error));
    }
    // JIT compilation is an optimization: when it is unavailable the interpreter runs.
    (void)pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);
    expressions->codes.push_back(std::move(code));
  }
  return PreTokenizer(std::string(name), std::move(expressions));
}

Status PreTokenizer::Split(std::string_view text, std::vector<TextPiece>* pieces) const {
  pieces->clear();
  if (text.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status(StatusCode::kOutOfRange, "tokenizer: pre-tokenizer input of " +
                                               std::to_string(text.size()) +
                                               " bytes exceeds the limit of 4294967295");
  }
  if (Status s = base::ValidateUtf8(text); !s.ok()) return s.WithContext("tokenizer");
  if (text.empty()) return Status::Ok();
  pieces->push_back({0, static_cast<std::uint32_t>(text.size())});

  MatchDataPtr match(pcre2_match_data_create(1, nullptr));
  if (match == nullptr) {
    return Status(StatusCode::kResourceExhausted, "tokenizer: PCRE2 match data allocation failed");
  }
  std::vector<TextPiece> next;
  const auto* subject_base = reinterpret_cast<PCRE2_SPTR>(text.data());
  for (const CodePtr& code : expressions_->codes) {
    next.clear();
    next.reserve(pieces->size());
    for (const TextPiece& piece : *pieces) {
      const PCRE2_SPTR subject = subject_base + piece.offset;
      const PCRE2_SIZE length = piece.length;
      PCRE2_SIZE start = 0;
      PCRE2_SIZE kept = 0;  // end of the last emitted piece, relative to `subject`
      while (start < length) {
        const int rc =
            pcre2_match(code.get(), subject, length, start, PCRE2_NO_UTF_CHECK, match.get(),
                        nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
          const bool limit = rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                             rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT ||
                             rc == PCRE2_ERROR_NOMEMORY;
          return Status(limit ? StatusCode::kResourceExhausted : StatusCode::kInternal,
                        "tokenizer: pre-tokenizer \"" + name_ + "\" failed on a piece of " +
                            std::to_string(length) + " bytes at byte " +
                            std::to_string(piece.offset + start) + ": " + Pcre2Message(rc));
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
        const PCRE2_SIZE match_start = ovector[0];
        const PCRE2_SIZE match_end = ovector[1];
        if (match_end == match_start) {  // an empty match splits nothing: step one character
          start = match_start + base::Utf8SequenceLength(subject[match_start]);
          continue;
        }
        if (match_start > kept) {
          next.push_back({piece.offset + static_cast<std::uint32_t>(kept),
                          static_cast<std::uint32_t>(match_start - kept)});
        }
        next.push_back({piece.offset + static_cast<std::uint32_t>(match_start),
                        static_cast<std::uint32_t>(match_end - match_start)});
        kept = start = match_end;
      }
      if (kept < length) {
        next.push_back({piece.offset + static_cast<std::uint32_t>(kept),
                        static_cast<std::uint32_t>(length - kept)});
      }
    }
    pieces->swap(next);
  }
  return Status::Ok();
}

}  // namespace tessera::tokenizer
