// LlamaModel: binding llama.cpp's tensors of a `llama` GGUF in place.
#include "model/llama.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "kernels/kernels.h"

namespace tessera::model {

std::string ShapeString(std::span<const std::uint64_t> dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

kernels::WeightMatrix ToKernel(const BoundMatrix& b) {
  kernels::WeightMatrix w;
  w.type = b.type;
  w.data = b.data.data();
  w.n_rows = b.n_rows;
  w.n_cols = b.n_cols;
  w.row_bytes = b.row_bytes;
  w.packed = b.packed.empty() ? nullptr : b.packed.data();
  return w;
}

namespace {

// The tensor `name` with exactly the dims `expected` (innermost first).
Result<const gguf::TensorInfo*> FindShaped(const gguf::File& file, const std::string& name,
                                           std::initializer_list<std::uint64_t> expected) {
  const gguf::TensorInfo* info = file.FindTensor(name);
  if (info == nullptr) {
    return Status(StatusCode::kMissingTensor, "model: llama: tensor \"" + name + "\" is absent");
  }
  const std::span<const std::uint64_t> want(expected.begin(), expected.size());
  bool same = info->dims.size() == want.size();
  for (std::size_t i = 0; same && i < want.size(); ++i) same = info->dims[i] == want[i];
  if (!same) {
    return Status(StatusCode::kShapeMismatch, "model: llama: tensor \"" + name + "\" has shape " +
                                                  ShapeString(info->dims) + ", expected " +
                                                  ShapeString(want) + " (innermost first)");
  }
  if (kernels::Kernels(info->type) == nullptr) {
    return Status(StatusCode::kUnsupported,
                  "model: llama: tensor \"" + name + "\" has type " +
                      std::string(tensor::TypeName(info->type)) +
                      ", which the kernels cannot compute");
  }
  return info;
}

}  // namespace

// Binds tensors into a LlamaModel under construction; a friend so the model stays immutable.
class LlamaBinder {
 public:
  explicit LlamaBinder(LlamaModel& m) : m_(m) {}

  // A matrix of n_rows rows of n_cols elements: GGUF dims [n_cols, n_rows].
  Result<BoundMatrix> Matrix(const std::string& name, std::int64_t n_cols, std::int64_t n_rows) {
    TS_ASSIGN_OR_RETURN(
        const gguf::TensorInfo* info,
        FindShaped(*m_.file_, name,
                   {static_cast<std::uint64_t>(n_cols), static_cast<std::uint64_t>(n_rows)}));
    Result<kernels::WeightMatrix> w =
        kernels::MakeWeightMatrix(info->type, info->data, n_rows, n_cols);
    if (!w.ok()) return w.status().WithContext("model: llama: tensor \"" + name + "\"");
    BoundMatrix b;
    b.name = name;
    b.type = info->type;
    b.data = info->data;
    b.n_rows = n_rows;
    b.n_cols = n_cols;
    b.row_bytes = w->row_bytes;
    m_.mapped_weight_bytes_ += static_cast<std::uint64_t>(n_rows) * w->row_bytes;
    return b;
  }

  // A 1-D vector of n floats, converted to F32.
  Result<std::vector<float>> Vector(const std::string& name, std::int64_t n) {
    TS_ASSIGN_OR_RETURN(const gguf::TensorInfo* info,
                        FindShaped(*m_.file_, name, {static_cast<std::uint64_t>(n)}));
    Result<kernels::WeightMatrix> w = kernels::MakeWeightMatrix(info->type, info->data, 1, n);
    if (!w.ok()) return w.status().WithContext("model: llama: tensor \"" + name + "\"");
    std::vector<float> out(static_cast<std::size_t>(n));
    TS_RETURN_IF_ERROR(kernels::GetRow(*w, 0, out));
    m_.copied_weight_bytes_ += out.size() * sizeof(float);
    return out;
  }

  Status BindAll() {
    const LlamaConfig& c = m_.config_;
    TS_ASSIGN_OR_RETURN(m_.token_embd_, Matrix("token_embd.weight", c.n_embd, c.n_vocab));
    TS_ASSIGN_OR_RETURN(m_.output_norm_, Vector("output_norm.weight", c.n_embd));
    if (m_.file_->FindTensor("output.weight") != nullptr) {
      TS_ASSIGN_OR_RETURN(m_.output_, Matrix("output.weight", c.n_embd, c.n_vocab));
      m_.tied_output_ = false;
    } else {
      m_.output_ = m_.token_embd_;
      m_.tied_output_ = true;
    }
    m_.layers_.resize(static_cast<std::size_t>(c.n_layer));
    for (std::int32_t i = 0; i < c.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      LlamaLayer& l = m_.layers_[static_cast<std::size_t>(i)];
      TS_ASSIGN_OR_RETURN(l.attn_norm, Vector(p + "attn_norm.weight", c.n_embd));
      TS_ASSIGN_OR_RETURN(l.wq, Matrix(p + "attn_q.weight", c.n_embd, c.n_embd_q()));
      TS_ASSIGN_OR_RETURN(l.wk, Matrix(p + "attn_k.weight", c.n_embd, c.n_embd_kv()));
      TS_ASSIGN_OR_RETURN(l.wv, Matrix(p + "attn_v.weight", c.n_embd, c.n_embd_kv()));
      if (c.qkv_bias) {
        TS_ASSIGN_OR_RETURN(l.bq, Vector(p + "attn_q.bias", c.n_embd_q()));
        TS_ASSIGN_OR_RETURN(l.bk, Vector(p + "attn_k.bias", c.n_embd_kv()));
        TS_ASSIGN_OR_RETURN(l.bv, Vector(p + "attn_v.bias", c.n_embd_kv()));
      }
      if (c.qk_norm) {
        TS_ASSIGN_OR_RETURN(l.q_norm, Vector(p + "attn_q_norm.weight", c.head_dim));
        TS_ASSIGN_OR_RETURN(l.k_norm, Vector(p + "attn_k_norm.weight", c.head_dim));
      }
      TS_ASSIGN_OR_RETURN(l.wo, Matrix(p + "attn_output.weight", c.n_embd_q(), c.n_embd));
      if (c.post_norms) {
        TS_ASSIGN_OR_RETURN(l.post_attn_norm, Vector(p + "post_attention_norm.weight", c.n_embd));
        TS_ASSIGN_OR_RETURN(l.post_ffn_norm, Vector(p + "post_ffw_norm.weight", c.n_embd));
      }
      TS_ASSIGN_OR_RETURN(l.ffn_norm, Vector(p + "ffn_norm.weight", c.n_embd));
      TS_ASSIGN_OR_RETURN(l.w_gate, Matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff));
      TS_ASSIGN_OR_RETURN(l.w_up, Matrix(p + "ffn_up.weight", c.n_embd, c.n_ff));
      TS_ASSIGN_OR_RETURN(l.w_down, Matrix(p + "ffn_down.weight", c.n_ff, c.n_embd));
    }
    return Status::Ok();
  }

  // LoadOptions::pack_weights: every matrix a MatMul reads.
  void PackAll() {
    Pack(m_.output_);
    // A tied output's lookups read the copy too, so the released pages stay released.
    if (m_.tied_output_) m_.token_embd_.packed = m_.output_.packed;
    for (LlamaLayer& l : m_.layers_) {
      for (BoundMatrix* b : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) Pack(*b);
    }
  }

 private:
  // Packs b in chunks of rows and releases the file's pages of each chunk as soon as it is
  // copied, so the load's peak resident size grows by one chunk, not by the whole matrix (a
  // tied output of a 49152-token vocabulary is tens of MiB). The copy's pages become resident
  // only as they are written.
  void Pack(BoundMatrix& b) {
    if (!kernels::PackingHelps(b.type)) return;
    const kernels::WeightMatrix w = ToKernel(b);
    const std::size_t bytes = kernels::PackedWeightBytes(w);
    if (bytes == 0) return;
    auto copy = std::make_unique_for_overwrite<std::uint8_t[]>(bytes);
    constexpr std::int64_t kChunkRows = 64 * kernels::kPackRows;
    const std::int64_t packed_rows = kernels::PackedRowCount(w.n_rows);
    const std::span<const std::uint8_t> src = b.data.first(bytes);
    std::size_t released_to = 0;  // src[0, released_to) is released
    for (std::int64_t r0 = 0; r0 < packed_rows; r0 += kChunkRows) {
      kernels::WeightMatrix part = w;
      part.n_rows = std::min(kChunkRows, packed_rows - r0);
      part.data = w.data + static_cast<std::size_t>(r0) * w.row_bytes;
      const std::span<std::uint8_t> dst(copy.get() + (part.data - w.data),
                                        static_cast<std::size_t>(part.n_rows) * w.row_bytes);
      kernels::PackWeights(part, dst);
      // The whole pages copied so far; a page that straddles the chunk's end is offered again
      // with the next chunk.
      const std::size_t end = static_cast<std::size_t>(part.data - w.data) + dst.size();
      const std::span<const std::uint8_t> released =
          m_.file_->ReleasePages(src.subspan(released_to, end - released_to));
      if (!released.empty()) {
        m_.released_file_bytes_ += released.size();
        released_to = static_cast<std::size_t>(released.data() + released.size() - src.data());
      }
    }
    b.packed = std::span<const std::uint8_t>(copy.get(), bytes);
    m_.packed_.push_back(std::move(copy));
    m_.packed_weight_bytes_ += bytes;
  }

  LlamaModel& m_;
};

Result<std::unique_ptr<LlamaModel>> LlamaModel::Load(std::shared_ptr<const gguf::File> file,
                                                     const LoadOptions& options) {
  if (file == nullptr) {
    return Status(StatusCode::kInvalidArgument, "model: llama: Load() given a null file");
  }
  TS_ASSIGN_OR_RETURN(LlamaConfig config, ReadLlamaConfig(*file));
  std::unique_ptr<LlamaModel> model(new LlamaModel());
  model->file_ = std::move(file);
  model->config_ = config;
  LlamaBinder binder(*model);
  TS_RETURN_IF_ERROR(binder.BindAll());
  if (options.pack_weights) binder.PackAll();
  return model;
}

}  // namespace tessera::model
