// Helpers shared by gguf_facts.cc, vocab_bytes.cc and structure_check.cc; not part of the
// registry's interface (use gguf_facts.h). Every message is returned without a prefix, so each
// caller adds its own "registry: <what>: <file>: " once.
//
// Thread safety: reentrant functions.
#ifndef TESSERA_REGISTRY_GGUF_FACTS_INTERNAL_H_
#define TESSERA_REGISTRY_GGUF_FACTS_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gguf/reader.h"
#include "package/manifest.h"
#include "tessera/status.h"

namespace tessera::registry::internal {

// Manifest integers are below 2^53 (package.md section 2).
inline constexpr std::uint64_t kMaxManifestInt = (std::uint64_t{1} << 53) - 1;

// Maps and parses `path`. The File owns its mapping (shared ownership, so the model layer can
// keep it); its path() is empty. Errors: base::MappedFile's (kNotFound, kIoError) and
// gguf::File::Parse's, without the path prefix gguf::File::Open would add.
Result<std::shared_ptr<const gguf::File>> OpenGguf(const std::string& path);

// "\"text\"" (at most 80 bytes of it, for messages about strangers' strings).
std::string Quoted(std::string_view s);

// [0-9A-Za-z], whatever the locale.
bool IsAsciiAlnum(char c);
// 1 to 64 characters of [A-Za-z0-9_.-]: a manifest "name".
bool IsManifestName(std::string_view s);
// kMalformed "<what> is <quoted>, expected a name of 1 to 64 characters of [A-Za-z0-9_.-]".
Status CheckManifestName(std::string_view what, std::string_view value);

bool IsLowerHex64(std::string_view s);

// The string under `key`; kNotFound "<key> is absent" when absent, kTypeMismatch otherwise.
Result<std::string_view> RequiredString(const gguf::File& file, std::string_view key);

// kInvalidArgument unless general.type is "adapter"; kNotFound if adapter.type is absent,
// kUnsupported unless it is "lora".
Status CheckAdapterKind(const gguf::File& file);

// adapter.base.sha256, or "" when absent; kMalformed unless 64 lowercase hex digits.
Result<std::string> ReadBaseSha256(const gguf::File& file);

// The canonical vocabulary of package.md section 5 and what the tokenizer facts need from it.
struct CanonicalVocab {
  std::string bytes;
  std::string model;  // tokenizer.ggml.model
  std::string pre;    // tokenizer.ggml.pre or "default"
  std::uint64_t n_tokens = 0;
};
// Messages without a prefix (the Vocab's own start "tokenizer: ").
Result<CanonicalVocab> BuildCanonicalVocab(const gguf::File& file);
// ReadTokenizerFacts without its prefix.
Result<package::TokenizerFacts> TokenizerFactsOf(const gguf::File& file);

}  // namespace tessera::registry::internal

#endif  // TESSERA_REGISTRY_GGUF_FACTS_INTERNAL_H_
