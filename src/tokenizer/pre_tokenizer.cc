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

// Llama 3's expression (tokenizer.json writes the contractions as (?i:...); llama.cpp spells the
// case-insensitivity out, so that no Unicode case folding applies, and so do we).
constexpr std::string_view kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen2's: Llama 3's with one digit per piece.
constexpr std::string_view kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen3.5's: Qwen2's with combining marks (\p{M}) kept inside words.
constexpr std::string_view kQwen35 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?"
    "[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// DeepSeek LLM's letters: the cased letters of its tokenizer.json, as code point ranges.
constexpr std::string_view kDeepseekLlmLetters =
    "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}"
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}"
    "\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}"
    "\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}"
    "\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}"
    "\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
    "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}"
    "\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"
    "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"
    "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}"
    "\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}"
    "\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}"
    "\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}"
    "\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
    "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}"
    "\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}"
    "\\x{1E900}-\\x{1E943}]+";
// U+4E00..U+9FA5, U+0800..U+4E00, U+AC00..U+D7FF (DeepSeek's CJK and Hangul runs).
constexpr std::string_view kDeepseekCjk =
    "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+";

struct Definition {
  std::string_view name;
  std::array<std::string_view, 6> expressions;  // in order; unused slots empty
  // llama.cpp's ignore_merges: a word that is itself a token is that token, unmerged.
  bool ignore_merges = false;
  // The add_bos default llama.cpp gives the vocabulary (tokenizer.ggml.add_bos_token overrides).
  bool add_bos = false;
};

constexpr Definition kDefinitions[] = {
    {"gpt-2", {kGpt2}},
    {"phi-2", {kGpt2}},
    {"mpt", {kGpt2}},
    {"olmo", {kGpt2}},
    {"starcoder", {"\\p{N}", kGpt2}},
    {"refact", {"\\p{N}", kGpt2}},
    {"codeshell", {"\\p{N}", kGpt2}},
    {"smollm", {"\\p{N}", kGpt2}},
    {"command-r", {"\\p{N}", kGpt2}},
    {"exaone", {"\\p{N}", kGpt2}},
    {"falcon", {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2, "[0-9][0-9][0-9]"}},
    {"deepseek-coder", {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kDeepseekCjk, "\\p{N}"}},
    {"deepseek-llm",
     {"[\\r\\n]", kDeepseekLlmLetters,
      "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
      "\\s+$", kDeepseekCjk, "\\p{N}+"}},
    {"llama-bpe", {kLlama3}, true, true},
    {"llama3", {kLlama3}, true, true},
    {"llama-v3", {kLlama3}, true, true},
    {"falcon3", {kLlama3}, true, true},
    {"dbrx", {kLlama3}},
    {"smaug-bpe", {kLlama3}},
    {"qwen2", {kQwen2}},
    {"deepseek-r1-qwen", {kQwen2}},
    {"stablelm2", {kQwen2}},
    {"qwen35", {kQwen35}},
    {"default", {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
};

const Definition* FindDefinition(std::string_view name) {
  for (const Definition& d : kDefinitions) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

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

bool PreTokenizerAddsBos(std::string_view name) {
  const Definition* definition = FindDefinition(name);
  return definition != nullptr && definition->add_bos;
}

Result<PreTokenizer> PreTokenizer::Create(std::string_view name) {
  const Definition* definition = FindDefinition(name);
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
                               PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK | PCRE2_DOLLAR_ENDONLY,
                               &error, &error_offset, nullptr));
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
  PreTokenizer pre(std::string(name), std::move(expressions));
  pre.ignore_merges_ = definition->ignore_merges;
  return pre;
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
