// GGUF facts for package manifests, and the structural checks `tessera install` applies to the
// GGUF files of a package before it admits them.
//
// Facts (docs/formats/package.md section 2.3) are written into a manifest by `tessera pack` and
// read again by `tessera install`, which refuses the package when any differs:
//   architecture     general.architecture (an adapter's is its base's architecture)
//   version          the GGUF format version (2 or 3)
//   file_type        the tensor type holding the most elements, uppercase as llama.cpp prints
//                    it ("F32", "F16", "Q8_0", "Q4_K", ...); ties go to the lower ggml type number
//   parameters       elements of every tensor (of the lora_a/lora_b tensors for an adapter)
//   context_length   <arch>.context_length (>= 1) for a model, 0 for an adapter
//   tokenizer        models only: tokenizer.ggml.model, tokenizer.ggml.pre ("default" when
//                    absent), the number of tokens and the sha256 of the canonical vocabulary
//                    bytes (package.md section 5, built by CanonicalVocabBytes below)
// Names (architecture, tokenizer model and pre) must be 1 to 64 characters of [A-Za-z0-9_.-]
// and counts below 2^53, as the manifest requires; otherwise the facts are refused (kMalformed,
// kOutOfRange) rather than written into a manifest that could never parse.
//
// An adapter's binding to its base (package.md section 2.5) comes from the adapter GGUF itself
// (model/lora_adapter.h describes its layout): adapter.base.sha256, the adapted tensor names
// without their layer index, the one LoRA rank and adapter.lora.alpha.
//
// Structural checks bind the file with the model layer exactly as the engine does when it opens
// a model or an adapter (weights, shapes, types, tokenizer), without allocating a KV cache or
// running inference. They keep the model layer's codes.
//
// Errors name the file: "registry: facts: <file>: ..." (facts and bindings),
// "registry: structure: <file>: ..." (checks), "registry: vocab: ..." (canonical vocabulary of an
// open file). A file from a stranger yields a Status, never a crash: the GGUF reader bounds
// every offset and count, and this layer bounds what it derives from them.
//
// Thread safety: the functions are reentrant; each opens (maps) its own files. Cost: each call
// maps the file once; the vocabulary functions copy the token table once (Vocab::FromGguf);
// the structural checks convert the norm vectors to F32 once, like Model::Open. Nothing here
// hashes a whole file: callers that know a file's sha256 pass it in.
#ifndef TESSERA_REGISTRY_GGUF_FACTS_H_
#define TESSERA_REGISTRY_GGUF_FACTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/reader.h"
#include "package/manifest.h"
#include "tessera/status.h"

namespace tessera::registry {

// Facts of a model GGUF. Errors: those of gguf::File (kNotFound, kIoError, kMalformed,
// kTruncated, kUnsupported, ...); kInvalidArgument for an adapter file (general.type
// "adapter"); kNotFound for an absent general.architecture, <arch>.context_length or tokenizer
// key; kMissingTensor for a file without tensors; kMalformed for a name outside the manifest's
// alphabet or a context length of 0; kOutOfRange for a count of 2^53 or more; and the errors of
// ReadTokenizerFacts.
Result<package::GgufFacts> ReadModelFacts(const std::string& gguf_path);

// Facts of a LoRA adapter GGUF: general.architecture, version, file_type and parameters of its
// lora_a/lora_b tensors, context_length 0, no tokenizer. Errors: those of gguf::File;
// kInvalidArgument (general.type absent or not "adapter"), kUnsupported (adapter.type not
// "lora"), kNotFound (adapter.type or general.architecture absent), kMalformed (no tensors, a
// tensor name without .lora_a/.lora_b, a bad name), kOutOfRange.
Result<package::GgufFacts> ReadAdapterFacts(const std::string& gguf_path);

// What an adapter GGUF itself says about its base.
struct AdapterBinding {
  std::string base_sha256;           // adapter.base.sha256, empty if absent
  std::vector<std::string> targets;  // sorted unique names without the layer index:
                                     // "attn_q.weight", "output.weight"
  std::uint64_t rank = 0;            // the LoRA rank, the same for every pair
  double alpha = 0;                  // adapter.lora.alpha (0 if absent)
  friend bool operator==(const AdapterBinding&, const AdapterBinding&) = default;
};

// Reads the binding without a base model. Errors: those of ReadAdapterFacts' kind checks;
// kMalformed (adapter.base.sha256 not 64 lowercase hex digits, a non-finite alpha, a tensor
// name without .lora_a/.lora_b, a target name outside [A-Za-z0-9_]+(\.[A-Za-z0-9_]+)* or longer
// than 64 characters, pairs of different ranks, naming the tensor), kMissingTensor (a lora_a
// without its lora_b or the reverse), kShapeMismatch (a tensor that is not 2-D, A's rank unlike
// B's), kTypeMismatch (a key of the wrong type).
Result<AdapterBinding> ReadAdapterBinding(const std::string& gguf_path);

// The canonical vocabulary bytes of package.md section 5 for an open GGUF (little-endian):
//   "tessera-vocab-v1\n"
//   u32 len + bytes   tokenizer.ggml.model
//   u32 len + bytes   tokenizer.ggml.pre ("default" when absent)
//   u32 n_tokens, then per token: u32 len + bytes, f32 score (0 when absent), i32 type (1 when
//                     absent)
//   u32 n_merges, then per merge: u32 len + bytes   (0 merges when the key is absent)
//   i32 bos, eos, unk, pad ids: tokenizer.ggml.{bos,eos,unknown,padding}_token_id, -1 when the
//                     key is absent (the metadata, not the tokenizer model's default ids)
//   u8 add_bos, add_eos: the values the tokenizer uses (the metadata, or the tokenizer
//                     model's default when absent: "llama" adds BOS, no model adds EOS)
// Token texts, scores (f32, or i32 converted to f32) and types are the metadata's, unmodified.
// The vocabulary must load (tokenizer::Vocab::FromGguf): its errors are returned, as are
// kTypeMismatch for a merge that is not a string and kOutOfRange for a token type outside i32
// or a string longer than 2^32 - 1 bytes. Messages start "registry: vocab: " (then the file's
// path when it has one).
Result<std::string> CanonicalVocabBytes(const gguf::File& file);
// Their sha256, 64 lowercase hex digits.
Result<std::string> CanonicalVocabSha256(const gguf::File& file);

// The tokenizer facts of a model file: model, pre, vocab_size, sha256 (of CanonicalVocabBytes).
// Errors: those of CanonicalVocabBytes; kMalformed for a model or pre name outside the
// manifest's alphabet. Messages start "registry: vocab: ".
Result<package::TokenizerFacts> ReadTokenizerFacts(const gguf::File& file);

// Structural check at install: the file is a GGUF (gguf::File's codes), it is not an adapter
// (kInvalidArgument), its architecture is supported by this runtime (kUnsupported naming it and
// the supported ones), every tensor the architecture needs is present with the right shape and
// type (model::LlamaModel::Load: kMissingTensor, kShapeMismatch, kUnsupported, and the config's
// kNotFound, kMalformed, kOutOfRange), the tokenizer builds from its metadata
// (tokenizer::CreateTokenizer) and has as many tokens as token_embd.weight has rows
// (kIncompatible). Messages start "registry: structure: <file>: ".
Status CheckModelStructure(const std::string& gguf_path);

// Structural check of an adapter against its base model file: the adapter is a LoRA adapter
// file (kInvalidArgument, kUnsupported, kNotFound as ReadAdapterFacts); if it carries
// adapter.base.sha256, that must equal `base_sha256_hex` (kIncompatible, checked before the base
// is loaded); the base's weights bind (model::LlamaModel::Load, its codes, the message naming
// the base: "registry: structure: <adapter>: base \"<base>\": ..."); and
// model::LoraAdapter::Bind fits every adapter tensor to the base (kIncompatible architecture,
// kNotFound or kUnsupported target, kShapeMismatch, kMissingTensor, ...). `base_sha256_hex` is
// the base file's sha256 as the caller knows it (the registry verified it against the blob);
// kInvalidArgument unless it is 64 lowercase hex digits. The base file is not hashed again.
// Messages start "registry: structure: <adapter file>: ".
Status CheckAdapterStructure(const std::string& adapter_path, const std::string& base_path,
                             std::string_view base_sha256_hex);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_GGUF_FACTS_H_
