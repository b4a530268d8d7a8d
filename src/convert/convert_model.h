// ConvertCheckpoint: a Hugging Face llama / qwen2 checkpoint directory to one GGUF file, as
// `tessera convert DIR -o OUT.gguf [--type T] [--name NAME]` does.
//
// Reads config.json (hf_config.h), model.safetensors or its shards (checkpoint.h), the tokenizer
// (tokenizer_convert.h); maps and checks every tensor (tensor_map.h); converts matrices to the
// target type following the same recipe as `tessera quantize` (type_plan.h: default f16;
// 1-D tensors, norms and biases always F32); permutes llama q/k rows for RoPE
// (tensor_convert.h); and writes the file with gguf::Writer::WriteFile (temporary file + rename).
// Everything is read and checked before the output is opened: on any error OUT is not created
// and an existing OUT keeps its content.
//
// Metadata written: general.architecture, general.type "model", general.name (--name, else the
// directory's name), general.file_type (LLAMA_FTYPE of the target), general.quantization_version
// 2; <arch>.context_length, embedding_length, block_count, feed_forward_length,
// attention.head_count, attention.head_count_kv, attention.layer_norm_rms_epsilon (f32),
// rope.freq_base (f32), rope.dimension_count, vocab_size (u32 except the two f32); and the
// tokenizer keys of gguf_vocab.h.
//
// Errors: those of the parts above; kMissingTensor naming an expected tensor that is absent;
// kShapeMismatch naming a tensor, its shape and the expected one; kUnsupported naming a tensor
// the architecture does not have; kInvalidArgument for an unknown --type.
//
// Cost: the converted tensors are held in memory until the file is written (a tensor already in
// the target type and not permuted is written straight from the mapping).
// Thread safety: reentrant.
#ifndef TESSERA_CONVERT_CONVERT_MODEL_H_
#define TESSERA_CONVERT_CONVERT_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::convert {

struct ConvertOptions {
  std::string dir;       // the checkpoint directory
  std::string out_path;  // OUT.gguf
  std::string type = "f16";
  std::string name;  // general.name; empty: the directory's last component
};

struct ConvertReport {
  std::string architecture;
  std::int32_t n_tensors = 0;
  std::uint64_t bytes_in = 0;   // tensor bytes read
  std::uint64_t bytes_out = 0;  // tensor bytes written
  std::int32_t n_vocab = 0;
  std::vector<std::string> notes;  // one line per type fallback
};

Result<ConvertReport> ConvertCheckpoint(const ConvertOptions& options);

// The last path component of `dir` ("models/foo/" -> "foo").
std::string DirectoryName(const std::string& dir);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_CONVERT_MODEL_H_
