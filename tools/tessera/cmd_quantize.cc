// tessera quantize IN.gguf OUT.gguf TYPE [--output-type T] [--embd-type T]
//
// Rewrites a GGUF with its weight matrices converted to TYPE. TYPE is one of
//   f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, iq4_xs
//   (one type for every matrix)
//   q4_k_m, q5_k_m                                                   (llama.cpp-style mixes)
//
// Which tensors: those whose name ends in "weight" and that have at least 2 dimensions (as
// llama.cpp). Everything else (norm gains, biases, any 1-D tensor) is copied byte for byte, and
// so is every metadata pair except general.file_type (set to llama.cpp's LLAMA_FTYPE number for
// TYPE) and general.quantization_version (2 when the result holds quantized blocks).
//
// The recipe below lives in convert/type_plan.h (shared with `tessera convert`).
// The mixes, a documented simplification of llama.cpp's llama_tensor_get_type():
//   base type Q4_K (q4_k_m) or Q5_K (q5_k_m) for every matrix, except
//   * output.weight, or token_embd.weight when there is no output.weight (tied): Q6_K;
//   * attn_v.weight and ffn_down.weight of layer i of n: Q6_K when llama.cpp's use_more_bits
//     holds: i < n / 8, or i >= 7 n / 8, or (i - n / 8) % 3 == 2.
//   Not reproduced: llama.cpp's architecture-specific rules (falcon, MoE experts, fused qkv,
//   GQA-dependent bumps for the 2/3-bit types, importance matrices).
// --output-type / --embd-type override the type of output.weight / token_embd.weight.
//
// Rows that do not fit: a matrix whose row width is not a multiple of the chosen type's block
// size (32, or 256 for K-quants) is stored as F16 instead, with one line on stderr naming it.
// In the mixes only, a K-quant first falls back as llama.cpp's recipe does, Q4_K -> Q5_0,
// Q5_K -> Q5_1, Q6_K -> Q8_0, when the width is a multiple of 32 (so a q4_k_m file of a model
// with rows of 288 or 576 reads about as many bytes per token as llama.cpp's), again with a
// stderr line; F16 remains the fallback for widths that fit no block.
//
// Errors: an unknown TYPE is kInvalidArgument listing the valid ones; a source matrix whose type
// cannot be dequantized is kUnsupported naming the tensor and its type. The output is written
// atomically (gguf::Writer::WriteFile): never a partial file. A size summary goes to stdout.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "convert/type_plan.h"
#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::cli {
namespace {

using tensor::DType;

struct QuantizeFlags {
  std::string in_path;
  std::string out_path;
  std::string type;
  std::string output_type;
  std::string embd_type;
};

// Converts the rows of `src` (any dequantizable type) into `type`, one row at a time.
Status ConvertTensor(const gguf::TensorInfo& src, DType type, std::vector<float>& row_f32,
                     std::vector<std::uint8_t>& out) {
  const tensor::DequantizeRowFn dequantize = tensor::DequantizeRowFor(src.type);
  if (dequantize == nullptr) {
    return Unsupported("quantize: tensor \"" + src.name + "\" has type " +
                       std::string(tensor::TypeName(src.type)) + ", which cannot be dequantized");
  }
  const tensor::QuantizeRowFn quantize = tensor::QuantizeRowFor(type);
  if (quantize == nullptr) {
    return Unsupported("quantize: no quantizer for type " + std::string(tensor::TypeName(type)));
  }
  const std::uint64_t n_cols = src.row_length();
  const std::uint64_t n_rows = src.n_rows();
  TS_ASSIGN_OR_RETURN(const std::uint64_t src_row_bytes, tensor::RowBytes(src.type, n_cols));
  TS_ASSIGN_OR_RETURN(const std::uint64_t dst_row_bytes, tensor::RowBytes(type, n_cols));
  if (src.data.size() != src_row_bytes * n_rows) {
    return Internal("quantize: tensor \"" + src.name + "\" holds " +
                    std::to_string(src.data.size()) + " bytes, expected " +
                    std::to_string(src_row_bytes * n_rows));
  }
  row_f32.resize(n_cols);
  out.resize(dst_row_bytes * n_rows);
  const auto n = static_cast<std::int64_t>(n_cols);
  for (std::uint64_t r = 0; r < n_rows; ++r) {
    dequantize(src.data.data() + r * src_row_bytes, row_f32.data(), n);
    quantize(row_f32.data(), out.data() + r * dst_row_bytes, n);
  }
  return Status::Ok();
}

std::string Mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

Status RunQuantizeImpl(const QuantizeFlags& f) {
  convert::TypePlan plan;
  TS_ASSIGN_OR_RETURN(plan.target, convert::ParseTypeTarget("quantize", f.type));
  if (!f.output_type.empty()) {
    TS_ASSIGN_OR_RETURN(plan.output_type,
                        convert::ParseSingleType("quantize", "--output-type", f.output_type));
    plan.override_output = true;
  }
  if (!f.embd_type.empty()) {
    TS_ASSIGN_OR_RETURN(plan.embd_type,
                        convert::ParseSingleType("quantize", "--embd-type", f.embd_type));
    plan.override_embd = true;
  }
  TS_ASSIGN_OR_RETURN(gguf::File in, gguf::File::Open(f.in_path));
  for (const gguf::TensorInfo& t : in.tensors()) plan.Observe(t.name);

  // Decide and convert every tensor first (checking all of them before writing anything); the
  // writer borrows the converted bytes, kept alive in `converted`.
  std::vector<std::vector<std::uint8_t>> converted;
  converted.reserve(in.tensors().size());
  struct Entry {
    const gguf::TensorInfo* info;
    DType type;
    std::span<const std::uint8_t> bytes;
  };
  std::vector<Entry> entries;
  std::vector<float> row_f32;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  bool any_quantized = false;
  int n_converted = 0, n_mix_fallback = 0, n_f16 = 0;
  for (const gguf::TensorInfo& t : in.tensors()) {
    bytes_in += t.data.size();
    if (!convert::IsPlannedMatrix(t.name, t.dims.size())) {
      entries.push_back({&t, t.type, t.data});
      bytes_out += t.data.size();
      any_quantized = any_quantized || convert::IsQuantizedType(t.type);
      continue;
    }
    const convert::TypeChoice choice = convert::ChooseTensorType(plan, t.name, t.row_length());
    const DType type = choice.type;
    if (choice.fallback == convert::TypeFallback::kMix) {
      std::fprintf(stderr,
                   "tessera: quantize: %s: row width %llu is not a multiple of the %s block size "
                   "%u; using %s (llama.cpp's fallback in this mix)\n",
                   t.name.c_str(), static_cast<unsigned long long>(t.row_length()),
                   std::string(tensor::TypeName(choice.wanted)).c_str(),
                   tensor::BlockSize(choice.wanted), std::string(tensor::TypeName(type)).c_str());
      ++n_mix_fallback;
    } else if (choice.fallback == convert::TypeFallback::kF16) {
      std::fprintf(stderr,
                   "tessera: quantize: %s: row width %llu is not a multiple of the %s block size "
                   "%u; keeping it as f16\n",
                   t.name.c_str(), static_cast<unsigned long long>(t.row_length()),
                   std::string(tensor::TypeName(choice.wanted)).c_str(),
                   tensor::BlockSize(choice.wanted));
      ++n_f16;
    }
    any_quantized = any_quantized || convert::IsQuantizedType(type);
    converted.emplace_back();
    TS_RETURN_IF_ERROR(ConvertTensor(t, type, row_f32, converted.back()));
    entries.push_back({&t, type, converted.back()});
    bytes_out += converted.back().size();
    ++n_converted;
  }

  gguf::Writer w;
  bool wrote_file_type = false, wrote_qv = false;
  for (const gguf::KeyValue& kv : in.metadata()) {
    if (kv.key == gguf::keys::kGeneralFileType) {
      TS_RETURN_IF_ERROR(w.AddKeyValue(kv.key, gguf::Value::U32(plan.target.file_type)));
      wrote_file_type = true;
    } else if (kv.key == "general.quantization_version") {
      TS_RETURN_IF_ERROR(w.AddKeyValue(kv.key, any_quantized ? gguf::Value::U32(2) : kv.value));
      wrote_qv = true;
    } else {
      TS_RETURN_IF_ERROR(w.AddKeyValue(kv.key, kv.value));
    }
  }
  if (!wrote_file_type) {
    TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(gguf::keys::kGeneralFileType),
                                     gguf::Value::U32(plan.target.file_type)));
  }
  if (!wrote_qv && any_quantized) {
    TS_RETURN_IF_ERROR(w.AddKeyValue("general.quantization_version", gguf::Value::U32(2)));
  }
  for (const Entry& e : entries) {
    TS_RETURN_IF_ERROR(w.AddTensor(e.info->name, e.info->dims, e.type, e.bytes));
  }
  TS_RETURN_IF_ERROR(w.WriteFile(f.out_path));
  std::printf(
      "quantize: %s -> %s (%s): %d matrices converted (%d to the mix's 32-wide fallback, %d "
      "kept as f16), %zu tensors; tensor data %s -> %s\n",
      f.in_path.c_str(), f.out_path.c_str(), std::string(plan.target.name).c_str(), n_converted,
      n_mix_fallback, n_f16, entries.size(), Mib(bytes_in).c_str(), Mib(bytes_out).c_str());
  return Status::Ok();
}

}  // namespace

RunFn AddQuantize(CLI::App& app) {
  auto f = std::make_shared<QuantizeFlags>();
  CLI::App* sub = app.add_subcommand("quantize", "Convert a GGUF's weight matrices to a type");
  sub->add_option("input", f->in_path, "Source GGUF")->required();
  sub->add_option("output", f->out_path, "Destination GGUF (written atomically)")->required();
  sub->add_option("type", f->type, "Target: " + convert::ValidTypeTargets())->required();
  sub->add_option("--output-type", f->output_type, "Type of output.weight");
  sub->add_option("--embd-type", f->embd_type, "Type of token_embd.weight");
  return [f] {
    Status s = RunQuantizeImpl(*f);
    return s.ok() ? 0 : ReportError(s);
  };
}

}  // namespace tessera::cli
