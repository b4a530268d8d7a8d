// ConvertLora: a PEFT LoRA checkpoint to a GGUF LoRA adapter in llama.cpp's convention, as
// `tessera convert --lora DIR --base BASE.gguf -o OUT.gguf [--type f32|f16] [--name NAME]` does.
//
// Input: DIR/adapter_config.json and DIR/adapter_model.safetensors (or its shards).
//   adapter_config.json must have peft_type "LORA", r (> 0), lora_alpha, target_modules (a list
//   of module names, or one string); fan_in_fan_out, use_dora and use_rslora must be false or
//   absent, bias "none" or absent, modules_to_save null or empty, rank_pattern and
//   alpha_pattern empty or absent. Anything else is refused naming the field.
//   Tensors: base_model.model.<module>.lora_A.weight [r, in] and .lora_B.weight [out, r] for
//   <module> = model.layers.N.self_attn.{q,k,v,o}_proj or model.layers.N.mlp.{gate,up,down}_proj
//   whose last component is in target_modules. Any other tensor is refused naming it; a module
//   with A but no B (or the reverse) is kMissingTensor.
// The base GGUF is read to validate: its architecture (llama or qwen2) and that every adapted
// weight exists in it with dims [in, out] (kIncompatible naming a weight the base lacks,
// kShapeMismatch naming a weight whose dims differ; kShapeMismatch also for r disagreeing with
// adapter_config.json).
//
// Output (llama.cpp's convert_lora_to_gguf.py layout):
//   general.architecture      the base's
//   general.type              "adapter"
//   general.name              --name, else the adapter directory's name
//   general.file_type         0 (f32) or 1 (f16)
//   adapter.type              "lora"
//   adapter.lora.alpha        f32, lora_alpha
//   adapter.base.sha256       string, lowercase hex SHA-256 of the whole base GGUF file (a
//                             Tessera key: the runtime binds an adapter to its exact base)
//   blk.N.<w>.weight.lora_a   GGUF dims [in, r]: PEFT's lora_A bytes as they are
//   blk.N.<w>.weight.lora_b   GGUF dims [r, out]: PEFT's lora_B, rows permuted for llama q and k
//                             exactly as the base q/k weights are (tensor_convert.h)
// Tensors are F32 (default) or F16. Written atomically; on error OUT is not created.
//
// Thread safety: reentrant.
#ifndef TESSERA_CONVERT_CONVERT_LORA_H_
#define TESSERA_CONVERT_CONVERT_LORA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "model/lora_adapter.h"
#include "tessera/status.h"

namespace tessera::convert {

// The metadata key holding the base model's SHA-256 (the engine's loader checks it).
inline constexpr std::string_view kAdapterBaseSha256 = model::kAdapterBaseSha256Key;

struct LoraConvertOptions {
  std::string dir;        // the PEFT adapter directory
  std::string base_path;  // the base model GGUF
  std::string out_path;
  std::string type = "f32";  // f32 or f16
  std::string name;
};

struct LoraConvertReport {
  std::string architecture;
  std::int32_t n_modules = 0;
  std::int32_t rank = 0;
  float alpha = 0.0f;
  std::string base_sha256;
};

Result<LoraConvertReport> ConvertLora(const LoraConvertOptions& options);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_CONVERT_LORA_H_
