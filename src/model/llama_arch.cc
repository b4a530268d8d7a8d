// The `llama` architecture as llama.cpp writes it to GGUF (llama2.c "stories" conversions,
// TinyLlama, SmolLM, ...). llama.cpp's converter permutes the Q and K weights of Hugging Face
// checkpoints so that RoPE rotates adjacent pairs (x[2i], x[2i+1]) ("normal" mode). No biases.
#include "model/architecture.h"

namespace tessera::model {

const ArchitectureTraits& LlamaArchitecture() {
  static constexpr ArchitectureTraits kLlama = {"llama", kernels::RopeMode::kNormal, false};
  return kLlama;
}

}  // namespace tessera::model
