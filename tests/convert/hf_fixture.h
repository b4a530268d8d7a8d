// Builders of Hugging Face-style checkpoint directories for the convert tests: safetensors files,
// a SentencePiece tokenizer.model (serialized with a minimal protobuf writer), tokenizer.json,
// config.json, and a tiny llama / qwen2 model with seeded random weights.
#ifndef TESSERA_TESTS_CONVERT_HF_FIXTURE_H_
#define TESSERA_TESTS_CONVERT_HF_FIXTURE_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tessera::convert::testing {

using nlohmann::json;

// A tensor to serialize: values are stored as `dtype` ("F32", "F16", "BF16", or any other
// string, which is written with 4 bytes per element to test refusals).
struct FixtureTensor {
  std::string dtype = "F32";
  std::vector<std::uint64_t> shape;  // outermost first
  std::vector<float> values;
};
using TensorMap = std::map<std::string, FixtureTensor>;

// Safetensors bytes of `tensors` (in name order, contiguous).
std::string SafetensorsBytes(const TensorMap& tensors);

// A fresh empty directory under the test temp dir.
std::string MakeTempDir(const std::string& tag);
void WriteFile(const std::string& path, const std::string& bytes);
std::string ReadFile(const std::string& path);
bool Exists(const std::string& path);
// Removes a directory made by MakeTempDir and everything in it (errors ignored).
void RemoveDir(const std::string& dir);

// The fixture's SentencePiece vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then
// "▁h", "▁he", "▁hel", "▁hell", "▁hello", "▁w", "▁wo", "▁wor", "▁worl", "▁world" (ids 259..268).
inline constexpr int kSpmPieces = 269;
inline constexpr int kSpmHello = 263;  // "▁hello"
inline constexpr int kSpmWorld = 268;  // "▁world"
struct SpmOptions {
  int model_type = 2;  // BPE
  std::string normalizer = "identity";
  bool remove_extra_whitespaces = false;
  // Single-character pieces "▁", "h", "e", "l", "o", "w", "r", "d" (ids 259..266) instead of the
  // words above (a CHAR model).
  bool char_pieces = false;
};
std::string SpmModelBytes(const SpmOptions& options = {});

// tokenizer.json of a byte-level BPE: the 256 GPT-2 byte symbols (ids 0..255), then merges
// "h e" -> "he", "l l" -> "ll", "he ll" -> "hell", "hell o" -> "hello", "Ġ w" -> "Ġw"
// (ids 256..260), then an added special token "<|endoftext|>" (id 261).
json BpeTokenizerJson();
// The id of a GPT-2 byte symbol for byte b.
int Gpt2ByteId(unsigned char b);

struct ModelShape {
  std::string arch = "llama";  // or "qwen2", "qwen3", "gemma3"
  int head_dim = 0;  // qwen3, gemma3: config.json's head_dim (0: n_embd / n_head, not written)
  // gemma3: sliding window, layer_types with every `pattern`th layer full, the sliding layers'
  // RoPE base, final_logit_softcapping (0: null), linear rope_scaling factor (0: null).
  int window = 3, pattern = 3;
  double local_base = 100.0, softcap = 0.0, rope_linear = 0.0;
  int n_vocab = 300;
  int n_embd = 64;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 96;
  int n_layer = 2;
  int n_ctx = 64;
  bool tied = false;
  std::uint32_t seed = 7;
};

json ConfigJson(const ModelShape& shape);
// Every tensor of the model, F32, seeded.
TensorMap ModelTensors(const ModelShape& shape);

// Writes config.json, model.safetensors and tokenizer.model (llama) or tokenizer.json (qwen2)
// into a new directory and returns it.
std::string WriteModelDir(const std::string& tag, const ModelShape& shape,
                          const TensorMap& tensors);

}  // namespace tessera::convert::testing

#endif  // TESSERA_TESTS_CONVERT_HF_FIXTURE_H_
