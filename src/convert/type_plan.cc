#include "convert/type_plan.h"

#include "base/ascii.h"

namespace tessera::convert {
namespace {

using tensor::DType;

constexpr TypeTarget kTargets[] = {
    {"f32", DType::kF32, false, 0},     {"f16", DType::kF16, false, 1},
    {"bf16", DType::kBF16, false, 32},  {"q8_0", DType::kQ8_0, false, 7},
    {"q4_0", DType::kQ4_0, false, 2},   {"q4_1", DType::kQ4_1, false, 3},
    {"q5_0", DType::kQ5_0, false, 8},   {"q5_1", DType::kQ5_1, false, 9},
    {"q4_k", DType::kQ4_K, false, 14},  {"q5_k", DType::kQ5_K, false, 16},
    {"q6_k", DType::kQ6_K, false, 18},  {"q2_k", DType::kQ2_K, false, 10},
    {"q3_k", DType::kQ3_K, false, 11},  {"iq4_nl", DType::kIQ4_NL, false, 25},
    {"iq4_xs", DType::kIQ4_XS, false, 30}, {"q4_k_m", DType::kQ4_K, true, 15},
    {"q5_k_m", DType::kQ5_K, true, 17},
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// llama.cpp's use_more_bits(i_layer, n_layers).
bool UseMoreBits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// The 32-element type llama.cpp's mixes use for a K-quant whose rows do not fit 256 (the type
// itself for others).
DType MixFallback(DType t) {
  switch (t) {
    case DType::kQ4_K:
      return DType::kQ5_0;
    case DType::kQ5_K:
      return DType::kQ5_1;
    case DType::kQ6_K:
      return DType::kQ8_0;
    default:
      return t;
  }
}

// The type the recipe chooses for matrix `name` (before the block-size fallback).
DType RecipeType(const TypePlan& plan, std::string_view name) {
  const bool is_output = name == "output.weight";
  const bool is_embd = name == "token_embd.weight";
  if (is_output && plan.override_output) return plan.output_type;
  if (is_embd && plan.override_embd) return plan.embd_type;
  if (!plan.target.mix) return plan.target.base;
  if (is_output || (is_embd && !plan.has_output)) return DType::kQ6_K;
  const int layer = LayerOfTensor(name);
  if (layer >= 0 && EndsWith(name, ".attn_v.weight") && UseMoreBits(layer, plan.n_attn_v)) {
    return DType::kQ6_K;
  }
  if (layer >= 0 && EndsWith(name, ".ffn_down.weight") && UseMoreBits(layer, plan.n_ffn_down)) {
    return DType::kQ6_K;
  }
  return plan.target.base;
}

}  // namespace

std::string ValidTypeTargets() {
  std::string s;
  for (const TypeTarget& t : kTargets) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s;
}

Result<TypeTarget> ParseTypeTarget(std::string_view context, std::string_view name) {
  const std::string lower = base::AsciiLower(name);
  for (const TypeTarget& t : kTargets) {
    if (t.name == lower) return t;
  }
  return InvalidArgument(std::string(context) + ": unknown type \"" + std::string(name) +
                         "\"; valid: " + ValidTypeTargets());
}

Result<DType> ParseSingleType(std::string_view context, std::string_view flag,
                              std::string_view name) {
  Result<TypeTarget> t = ParseTypeTarget(context, name);
  if (!t.ok() || t->mix) {
    std::string valid;
    for (const TypeTarget& target : kTargets) {
      if (!target.mix) valid += (valid.empty() ? "" : ", ") + std::string(target.name);
    }
    return InvalidArgument(std::string(context) + ": " + std::string(flag) + " \"" +
                           std::string(name) + "\" is not one of " + valid);
  }
  return t->base;
}

int LayerOfTensor(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int i = 0;
  std::size_t p = 4;
  if (p >= name.size() || name[p] < '0' || name[p] > '9') return -1;
  while (p < name.size() && name[p] >= '0' && name[p] <= '9' && i < 1000000) {
    i = i * 10 + (name[p] - '0');
    ++p;
  }
  return i;
}

bool IsPlannedMatrix(std::string_view name, std::size_t n_dims) {
  return n_dims >= 2 && EndsWith(name, "weight");
}

bool IsQuantizedType(DType t) { return t != DType::kF32 && t != DType::kF16 && t != DType::kBF16; }

void TypePlan::Observe(std::string_view name) {
  if (name == "output.weight") has_output = true;
  if (EndsWith(name, ".attn_v.weight")) ++n_attn_v;
  if (EndsWith(name, ".ffn_down.weight")) ++n_ffn_down;
}

TypeChoice ChooseTensorType(const TypePlan& plan, std::string_view name, std::uint64_t row_length) {
  TypeChoice choice;
  choice.wanted = RecipeType(plan, name);
  choice.type = choice.wanted;
  const DType mix_fallback = plan.target.mix ? MixFallback(choice.type) : choice.type;
  if (row_length % tensor::BlockSize(choice.type) != 0 && mix_fallback != choice.type &&
      row_length % tensor::BlockSize(mix_fallback) == 0) {
    choice.type = mix_fallback;
    choice.fallback = TypeFallback::kMix;
  }
  if (row_length % tensor::BlockSize(choice.type) != 0) {
    choice.type = DType::kF16;
    choice.fallback = TypeFallback::kF16;
  }
  return choice;
}

}  // namespace tessera::convert
