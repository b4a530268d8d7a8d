// The canonical vocabulary bytes of docs/formats/package.md section 5, their sha256, and the
// tokenizer facts of a model GGUF.
#include <bit>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/sha256.h"
#include "gguf/keys.h"
#include "registry/gguf_facts.h"
#include "registry/gguf_facts_internal.h"
#include "tokenizer/vocab.h"

namespace tessera::registry {
namespace {

namespace keys = gguf::keys;

constexpr std::string_view kMagic = "tessera-vocab-v1\n";
constexpr std::string_view kDefaultPre = "default";
constexpr std::int32_t kAbsentId = -1;
constexpr std::int32_t kDefaultTokenType = static_cast<std::int32_t>(keys::TokenType::kNormal);

// Appends little-endian integers and length-prefixed strings to a byte string.
class ByteSink {
 public:
  explicit ByteSink(std::string& out) : out_(out) {}

  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) U8(static_cast<std::uint8_t>(v >> shift));
  }
  void I32(std::int32_t v) { U32(static_cast<std::uint32_t>(v)); }
  void F32(float v) { U32(std::bit_cast<std::uint32_t>(v)); }
  // u32 length, then the bytes; false (nothing appended) for 2^32 bytes or more.
  [[nodiscard]] bool LenBytes(std::string_view s) {
    if (s.size() > std::numeric_limits<std::uint32_t>::max()) return false;
    U32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
    return true;
  }

 private:
  std::string& out_;
};

Status TooLong(std::string_view what, std::size_t size) {
  return OutOfRange(std::string(what) + " is " + std::to_string(size) +
                    " bytes long, limit 4294967295");
}

std::string Element(std::string_view key, std::size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

// The optional array under `key` (nullptr when absent). Vocab::FromGguf has already checked
// that scores and token_type, when present, hold one element per token.
Result<const gguf::Array*> OptionalArray(const gguf::File& file, std::string_view key) {
  if (file.Find(key) == nullptr) return static_cast<const gguf::Array*>(nullptr);
  return file.GetArray(key);
}

// A score as the tokenizer reads it: f32 (or f64), or an integer converted to f32.
Result<float> ScoreOf(const gguf::Value& v, std::size_t i) {
  if (auto f = v.AsF64()) return static_cast<float>(*f);
  if (auto k = v.AsI64()) return static_cast<float>(*k);
  return Status(StatusCode::kTypeMismatch, Element(keys::kTokenizerScores, i) + " is " +
                                               std::string(gguf::ValueTypeName(v.type())) +
                                               ", expected f32 or i32");
}

Result<std::int32_t> TokenTypeOf(const gguf::Value& v, std::size_t i) {
  auto k = v.AsI64();
  if (!k) {
    return Status(StatusCode::kTypeMismatch, Element(keys::kTokenizerTokenType, i) + " is " +
                                                 std::string(gguf::ValueTypeName(v.type())) +
                                                 ", expected i32");
  }
  if (*k < std::numeric_limits<std::int32_t>::min() ||
      *k > std::numeric_limits<std::int32_t>::max()) {
    return OutOfRange(Element(keys::kTokenizerTokenType, i) + " = " + std::to_string(*k) +
                      " does not fit in i32");
  }
  return static_cast<std::int32_t>(*k);
}

// tokenizer.ggml.<key> as stored, or -1 when absent or outside the vocabulary (the tokenizer
// ignores such an id, as llama.cpp does, so it is the same vocabulary as one without the key).
Result<std::int32_t> SpecialIdOf(const gguf::File& file, std::string_view key,
                                 std::int64_t n_tokens) {
  if (file.Find(key) == nullptr) return kAbsentId;
  const gguf::Value& value = *file.Find(key);
  if (!value.is_integer()) {
    return Status(StatusCode::kTypeMismatch, std::string(key) + " holds " +
                                                 std::string(gguf::ValueTypeName(value.type())) +
                                                 ", expected an integer");
  }
  const std::optional<std::int64_t> id = value.AsI64();
  if (!id.has_value() || *id < 0 || *id >= n_tokens) return kAbsentId;
  return static_cast<std::int32_t>(*id);
}

std::string VocabContext(const gguf::File& file) {
  return file.path().empty() ? "registry: vocab" : "registry: vocab: " + file.path();
}

}  // namespace

namespace internal {

Result<CanonicalVocab> BuildCanonicalVocab(const gguf::File& file) {
  // The tokenizer's own reading of the metadata: validates every key section 5 reads (types,
  // array lengths, ids inside the vocabulary) and supplies the add_bos/add_eos it uses.
  TS_ASSIGN_OR_RETURN(tokenizer::Vocab vocab, tokenizer::Vocab::FromGguf(file));

  CanonicalVocab out;
  out.model = vocab.model();
  out.pre = std::string(kDefaultPre);
  if (file.Find(keys::kTokenizerPre) != nullptr) {
    TS_ASSIGN_OR_RETURN(std::string_view pre, file.GetString(keys::kTokenizerPre));
    out.pre = std::string(pre);
  }
  TS_ASSIGN_OR_RETURN(const gguf::Array* tokens, file.GetArray(keys::kTokenizerTokens));
  TS_ASSIGN_OR_RETURN(const gguf::Array* scores, OptionalArray(file, keys::kTokenizerScores));
  TS_ASSIGN_OR_RETURN(const gguf::Array* types, OptionalArray(file, keys::kTokenizerTokenType));
  TS_ASSIGN_OR_RETURN(const gguf::Array* merges, OptionalArray(file, keys::kTokenizerMerges));
  const std::size_t n_tokens = tokens->items.size();
  if (static_cast<std::int64_t>(n_tokens) != vocab.size() ||
      (scores != nullptr && scores->items.size() < n_tokens) ||
      (types != nullptr && types->items.size() < n_tokens)) {
    return Internal("token arrays changed size after the vocabulary loaded");
  }
  const std::size_t n_merges = merges == nullptr ? 0 : merges->items.size();
  if (n_merges > std::numeric_limits<std::uint32_t>::max()) {
    return OutOfRange(std::string(keys::kTokenizerMerges) + " has " + std::to_string(n_merges) +
                      " entries, limit 4294967295");
  }
  out.n_tokens = n_tokens;

  // Exact size: 17 + model + pre + tokens (4 + 4 + 4 + text each) + merges + 16 + 2.
  std::size_t size = kMagic.size() + 4 + out.model.size() + 4 + out.pre.size() + 4 + 4 + 16 + 2;
  for (const gguf::Value& t : tokens->items) size += 12 + t.string().size();
  for (std::size_t i = 0; i < n_merges; ++i) {
    const gguf::Value& m = merges->items[i];
    if (!m.is_string()) {
      return Status(StatusCode::kTypeMismatch, Element(keys::kTokenizerMerges, i) + " is " +
                                                   std::string(gguf::ValueTypeName(m.type())) +
                                                   ", expected string");
    }
    size += 4 + m.string().size();
  }
  out.bytes.reserve(size);

  ByteSink sink(out.bytes);
  out.bytes.append(kMagic);
  if (!sink.LenBytes(out.model)) return TooLong(keys::kTokenizerModel, out.model.size());
  if (!sink.LenBytes(out.pre)) return TooLong(keys::kTokenizerPre, out.pre.size());
  sink.U32(static_cast<std::uint32_t>(n_tokens));  // <= Vocab::kMaxTokens
  for (std::size_t i = 0; i < n_tokens; ++i) {
    // The stored text (not the "[EMPTY_<i>]" the tokenizer substitutes for an empty one).
    const std::string& text = tokens->items[i].string();
    if (!sink.LenBytes(text)) return TooLong(Element(keys::kTokenizerTokens, i), text.size());
    float score = 0.0f;
    if (scores != nullptr) {
      TS_ASSIGN_OR_RETURN(score, ScoreOf(scores->items[i], i));
    }
    sink.F32(score);
    std::int32_t type = kDefaultTokenType;
    if (types != nullptr) {
      TS_ASSIGN_OR_RETURN(type, TokenTypeOf(types->items[i], i));
    }
    sink.I32(type);
  }
  sink.U32(static_cast<std::uint32_t>(n_merges));
  for (std::size_t i = 0; i < n_merges; ++i) {
    const std::string& merge = merges->items[i].string();
    if (!sink.LenBytes(merge)) return TooLong(Element(keys::kTokenizerMerges, i), merge.size());
  }
  for (std::string_view key : {keys::kTokenizerBosId, keys::kTokenizerEosId,
                               keys::kTokenizerUnknownId, keys::kTokenizerPaddingId}) {
    TS_ASSIGN_OR_RETURN(std::int32_t id, SpecialIdOf(file, key, vocab.size()));
    sink.I32(id);
  }
  sink.U8(vocab.add_bos() ? 1 : 0);
  sink.U8(vocab.add_eos() ? 1 : 0);
  if (out.bytes.size() != size) return Internal("canonical vocabulary size miscounted");
  return out;
}

Result<package::TokenizerFacts> TokenizerFactsOf(const gguf::File& file) {
  TS_ASSIGN_OR_RETURN(CanonicalVocab canon, BuildCanonicalVocab(file));
  TS_RETURN_IF_ERROR(CheckManifestName(keys::kTokenizerModel, canon.model));
  TS_RETURN_IF_ERROR(CheckManifestName(keys::kTokenizerPre, canon.pre));
  package::TokenizerFacts facts;
  facts.model = std::move(canon.model);
  facts.pre = std::move(canon.pre);
  facts.vocab_size = canon.n_tokens;
  facts.sha256 = base::Sha256Hex(
      std::span(reinterpret_cast<const std::uint8_t*>(canon.bytes.data()), canon.bytes.size()));
  return facts;
}

}  // namespace internal

Result<std::string> CanonicalVocabBytes(const gguf::File& file) {
  Result<internal::CanonicalVocab> canon = internal::BuildCanonicalVocab(file);
  if (!canon.ok()) return canon.status().WithContext(VocabContext(file));
  return std::move(canon->bytes);
}

Result<std::string> CanonicalVocabSha256(const gguf::File& file) {
  TS_ASSIGN_OR_RETURN(std::string bytes, CanonicalVocabBytes(file));
  return base::Sha256Hex(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Result<package::TokenizerFacts> ReadTokenizerFacts(const gguf::File& file) {
  Result<package::TokenizerFacts> facts = internal::TokenizerFactsOf(file);
  if (!facts.ok()) return facts.status().WithContext(VocabContext(file));
  return facts;
}

}  // namespace tessera::registry
