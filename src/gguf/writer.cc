#include "gguf/writer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "base/atomic_file.h"
#include "gguf/keys.h"
#include "gguf/schema.h"

namespace tessera::gguf {
namespace {

constexpr std::uint32_t kVersion = 3;
constexpr std::uint32_t kDefaultAlignment = 32;
constexpr std::size_t kMaxTensorNameBytes = 63;  // llama.cpp: GGML_MAX_NAME (64) with the NUL
constexpr std::uint8_t kZeros[256] = {};

std::string Num(std::uint64_t v) { return std::to_string(v); }

// Appends n bytes. (resize + memcpy rather than insert: GCC 12 at -O3 reports a false
// -Wstringop-overflow for vector::insert of a range.)
void Append(std::vector<std::uint8_t>* out, const void* p, std::size_t n) {
  if (n == 0) return;
  const std::size_t old = out->size();
  out->resize(old + n);
  std::memcpy(out->data() + old, p, n);
}

template <typename T>
void Put(std::vector<std::uint8_t>* out, T v) {
  Append(out, &v, sizeof(T));  // little-endian host (x86-64)
}

void PutString(std::vector<std::uint8_t>* out, std::string_view s) {
  Put<std::uint64_t>(out, s.size());
  Append(out, s.data(), s.size());
}

// Encodes a value without its type tag. Items were checked by CheckValue() when added.
void PutValue(std::vector<std::uint8_t>* out, const Value& v) {
  switch (v.type()) {
    case ValueType::kU8:
      Put(out, static_cast<std::uint8_t>(*v.AsU64()));
      break;
    case ValueType::kI8:
      Put(out, static_cast<std::int8_t>(*v.AsI64()));
      break;
    case ValueType::kU16:
      Put(out, static_cast<std::uint16_t>(*v.AsU64()));
      break;
    case ValueType::kI16:
      Put(out, static_cast<std::int16_t>(*v.AsI64()));
      break;
    case ValueType::kU32:
      Put(out, static_cast<std::uint32_t>(*v.AsU64()));
      break;
    case ValueType::kI32:
      Put(out, static_cast<std::int32_t>(*v.AsI64()));
      break;
    case ValueType::kU64:
      Put(out, *v.AsU64());
      break;
    case ValueType::kI64:
      Put(out, *v.AsI64());
      break;
    case ValueType::kF32:
      Put(out, static_cast<float>(*v.AsF64()));
      break;
    case ValueType::kF64:
      Put(out, *v.AsF64());
      break;
    case ValueType::kBool:
      Put<std::uint8_t>(out, *v.AsBool() ? 1 : 0);
      break;
    case ValueType::kString:
      PutString(out, v.string());
      break;
    case ValueType::kArray: {
      const Array& a = v.array();
      Put(out, static_cast<std::uint32_t>(a.element_type));
      Put<std::uint64_t>(out, a.items.size());
      for (const Value& item : a.items) PutValue(out, item);
      break;
    }
  }
}

// Arrays must be homogeneous: every item has the element type, recursively.
Status CheckValue(std::string_view key, const Value& v) {
  if (!v.is_array()) return Status::Ok();
  const Array& a = v.array();
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i].type() != a.element_type) {
      return InvalidArgument("gguf: array \"" + std::string(key) + "\" of " +
                             std::string(ValueTypeName(a.element_type)) + " has item " + Num(i) +
                             " of type " + std::string(ValueTypeName(a.items[i].type())));
    }
    TS_RETURN_IF_ERROR(CheckValue(key, a.items[i]));
  }
  return Status::Ok();
}

}  // namespace

std::uint64_t Writer::Padded(std::uint64_t n) const {
  return (n + alignment_ - 1) / alignment_ * alignment_;
}

Status Writer::AddKeyValue(std::string key, Value v) {
  if (key.empty()) return InvalidArgument("gguf: metadata key is empty");
  if (keys_.count(key) != 0) {
    return Status(StatusCode::kDuplicate, "gguf: metadata key \"" + key + "\" added twice");
  }
  TS_RETURN_IF_ERROR(CheckValue(key, v));
  if (key == keys::kGeneralAlignment) {
    if (v.type() != ValueType::kU32) {
      return Status(StatusCode::kTypeMismatch,
                    "gguf: key \"general.alignment\" must be u32, found " +
                        std::string(ValueTypeName(v.type())));
    }
    alignment_ = static_cast<std::uint32_t>(*v.AsU64());
  }
  keys_.insert(key);
  metadata_.push_back(KeyValue{std::move(key), std::move(v)});
  return Status::Ok();
}

Status Writer::AddTensor(std::string name, std::vector<std::uint64_t> dims, tensor::DType type,
                         std::span<const std::uint8_t> bytes) {
  if (name.empty()) return InvalidArgument("gguf: tensor name is empty");
  if (name.size() > kMaxTensorNameBytes) {
    return InvalidArgument("gguf: tensor name \"" + name + "\" is " + Num(name.size()) +
                           " bytes, over llama.cpp's limit of " + Num(kMaxTensorNameBytes));
  }
  if (names_.count(name) != 0) {
    return Status(StatusCode::kDuplicate, "gguf: tensor \"" + name + "\" added twice");
  }
  if (dims.empty() || dims.size() > 4) {
    return InvalidArgument("gguf: tensor \"" + name + "\" has " + Num(dims.size()) +
                           " dims, expected 1..4");
  }
  std::uint64_t n_elements = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (dims[d] == 0 || dims[d] > kMax / n_elements) {
      return InvalidArgument("gguf: tensor \"" + name + "\" dims[" + Num(d) +
                             "] = " + Num(dims[d]) + " is zero or overflows the element count");
    }
    n_elements *= dims[d];
  }
  const tensor::TypeTraits& traits = tensor::Traits(type);
  if (dims[0] % traits.block_size != 0) {
    return InvalidArgument("gguf: tensor \"" + name + "\" row length " + Num(dims[0]) +
                           " is not a multiple of the " + std::string(traits.name) +
                           " block size " + Num(traits.block_size));
  }
  std::uint64_t n_blocks = n_elements / traits.block_size;
  if (n_blocks > std::numeric_limits<std::uint64_t>::max() / traits.type_size ||
      n_blocks * traits.type_size != bytes.size()) {
    return InvalidArgument("gguf: tensor \"" + name + "\" has " + Num(bytes.size()) +
                           " bytes, its shape and type need " + Num(n_blocks * traits.type_size));
  }
  names_.insert(name);
  tensors_.push_back(PendingTensor{std::move(name), std::move(dims), type, bytes});
  return Status::Ok();
}

Status Writer::AddAllFrom(const File& file) {
  SetAlignment(file.alignment());
  for (const KeyValue& kv : file.metadata()) TS_RETURN_IF_ERROR(AddKeyValue(kv.key, kv.value));
  for (const TensorInfo& t : file.tensors()) {
    TS_RETURN_IF_ERROR(AddTensor(t.name, t.dims, t.type, t.data));
  }
  return Status::Ok();
}

Result<std::vector<std::uint8_t>> Writer::BuildPrefix() const {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0) {
    return InvalidArgument("gguf: alignment " + Num(alignment_) +
                           " is not a non-zero power of two");
  }
  std::vector<KeyValue> extra;  // general.alignment, when not added explicitly and not default
  bool has_alignment_key = keys_.count(std::string(keys::kGeneralAlignment)) != 0;
  if (!has_alignment_key && alignment_ != kDefaultAlignment) {
    extra.push_back(KeyValue{std::string(keys::kGeneralAlignment), Value::U32(alignment_)});
  }
  TS_RETURN_IF_ERROR(CheckWellKnownTypes(metadata_));

  std::vector<std::uint8_t> out;
  Append(&out, "GGUF", 4);
  Put(&out, kVersion);
  Put<std::uint64_t>(&out, tensors_.size());
  Put<std::uint64_t>(&out, metadata_.size() + extra.size());
  auto put_kv = [&](const std::string& key, const Value& v) {
    PutString(&out, key);
    Put(&out, static_cast<std::uint32_t>(v.type()));
    PutValue(&out, v);
  };
  for (const KeyValue& kv : metadata_) {
    if (kv.key == keys::kGeneralAlignment) {
      put_kv(kv.key, Value::U32(alignment_));  // SetAlignment() may have changed it since
    } else {
      put_kv(kv.key, kv.value);
    }
  }
  for (const KeyValue& kv : extra) put_kv(kv.key, kv.value);
  std::uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    PutString(&out, t.name);
    Put(&out, static_cast<std::uint32_t>(t.dims.size()));
    for (std::uint64_t d : t.dims) Put(&out, d);
    Put(&out, static_cast<std::uint32_t>(t.type));
    Put(&out, offset);
    offset += Padded(t.bytes.size());
  }
  // A file without tensors ends after its tensor infos (as vocabulary-only files written by
  // llama.cpp's tools do); otherwise the data section starts at the next aligned offset.
  if (!tensors_.empty()) out.resize(Padded(out.size()), 0);
  return out;
}

Result<std::vector<std::uint8_t>> Writer::WriteToBuffer() const {
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> out, BuildPrefix());
  for (const PendingTensor& t : tensors_) {
    Append(&out, t.bytes.data(), t.bytes.size());
    out.resize(Padded(out.size()), 0);
  }
  return out;
}

Status Writer::WriteFile(const std::string& path, base::FileEnv& env) const {
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> prefix, BuildPrefix());
  TS_ASSIGN_OR_RETURN(base::AtomicFile file, base::AtomicFile::Create(env, path));
  TS_RETURN_IF_ERROR(file.Write(prefix));
  for (const PendingTensor& t : tensors_) {
    TS_RETURN_IF_ERROR(file.Write(t.bytes));
    std::uint64_t pad = Padded(t.bytes.size()) - t.bytes.size();  // < alignment
    while (pad > 0) {
      std::size_t n = std::min<std::uint64_t>(pad, sizeof(kZeros));
      TS_RETURN_IF_ERROR(file.Write(std::span<const std::uint8_t>(kZeros, n)));
      pad -= n;
    }
  }
  return file.Commit();
}

}  // namespace tessera::gguf
