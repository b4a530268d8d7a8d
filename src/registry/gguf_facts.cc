// Facts of model and adapter GGUFs for package manifests, and the adapter's own binding to its
// base; the helpers every file of this part shares (gguf_facts_internal.h).
#include "registry/gguf_facts.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "gguf/keys.h"
#include "model/lora_adapter.h"
#include "registry/gguf_facts_internal.h"
#include "tensor/types.h"

namespace tessera::registry {
namespace internal {
namespace {

// A parsed File together with the mapping it borrows from.
struct MappedGguf {
  base::MappedFile mapping;
  std::optional<gguf::File> file;
};

}  // namespace

Result<std::shared_ptr<const gguf::File>> OpenGguf(const std::string& path) {
  auto holder = std::make_shared<MappedGguf>();
  TS_ASSIGN_OR_RETURN(holder->mapping, base::MappedFile::Open(path));
  TS_ASSIGN_OR_RETURN(gguf::File file, gguf::File::Parse(holder->mapping.bytes()));
  holder->file.emplace(std::move(file));
  // Aliasing: the File shares the holder's lifetime, and so the mapping's.
  return std::shared_ptr<const gguf::File>(holder, &*holder->file);
}

std::string Quoted(std::string_view s) {
  constexpr std::size_t kMaxShown = 80;
  std::string q = "\"";
  q.append(s.substr(0, kMaxShown));
  if (s.size() > kMaxShown) q.append("...");
  q.push_back('"');
  return q;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool IsManifestName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAsciiAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

Status CheckManifestName(std::string_view what, std::string_view value) {
  if (IsManifestName(value)) return Status::Ok();
  return Malformed(std::string(what) + " is " + Quoted(value) +
                   ", expected a name of 1 to 64 characters of [A-Za-z0-9_.-]");
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<std::string_view> RequiredString(const gguf::File& file, std::string_view key) {
  if (file.Find(key) == nullptr) return NotFound(std::string(key) + " is absent");
  return file.GetString(key);
}

Status CheckAdapterKind(const gguf::File& file) {
  if (file.Find(gguf::keys::kGeneralType) == nullptr) {
    return InvalidArgument("not a LoRA adapter file: general.type is absent");
  }
  TS_ASSIGN_OR_RETURN(std::string_view type, file.GetString(gguf::keys::kGeneralType));
  if (type != "adapter") {
    return InvalidArgument("not a LoRA adapter file: general.type is " + Quoted(type) +
                           ", expected \"adapter\"");
  }
  TS_ASSIGN_OR_RETURN(std::string_view adapter_type,
                      RequiredString(file, gguf::keys::kAdapterType));
  if (adapter_type != "lora") {
    return Unsupported(std::string(gguf::keys::kAdapterType) + " is " + Quoted(adapter_type) +
                       ", only \"lora\" is supported");
  }
  return Status::Ok();
}

Result<std::string> ReadBaseSha256(const gguf::File& file) {
  if (file.Find(model::kAdapterBaseSha256Key) == nullptr) return std::string();
  TS_ASSIGN_OR_RETURN(std::string_view sha, file.GetString(model::kAdapterBaseSha256Key));
  if (!IsLowerHex64(sha)) {
    return Malformed(std::string(model::kAdapterBaseSha256Key) + " is " + Quoted(sha) +
                     ", expected 64 lowercase hex digits");
  }
  return std::string(sha);
}

}  // namespace internal

namespace {

using internal::Quoted;

constexpr std::string_view kSuffixA = ".lora_a";
constexpr std::string_view kSuffixB = ".lora_b";

Status WithFile(const Status& s, const std::string& path) {
  return s.WithContext("registry: facts: " + path);
}

// file_type and parameters of `tensors` (non-empty).
struct TensorSummary {
  std::string file_type;  // uppercase type name with the most elements
  std::uint64_t parameters = 0;
};

Result<TensorSummary> Summarize(const std::vector<const gguf::TensorInfo*>& tensors) {
  std::map<std::uint32_t, std::uint64_t> elements_by_type;  // ggml type number -> elements
  TensorSummary out;
  for (const gguf::TensorInfo* t : tensors) {
    const std::uint64_t n = t->n_elements();  // < 2^63 (reader.h)
    if (n > internal::kMaxManifestInt - out.parameters) {
      return OutOfRange("the tensors hold more than 2^53 - 1 elements (at tensor " +
                        Quoted(t->name) + ")");
    }
    out.parameters += n;
    elements_by_type[static_cast<std::uint32_t>(t->type)] += n;
  }
  // The most elements; on a tie the lower type number (the map's order, strict >).
  std::uint32_t best = 0;
  std::uint64_t best_elements = 0;
  for (const auto& [type, n] : elements_by_type) {
    if (n > best_elements) {
      best = type;
      best_elements = n;
    }
  }
  std::string name(tensor::TypeName(static_cast<tensor::DType>(best)));
  for (char& c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  out.file_type = std::move(name);
  return out;
}

Result<std::string> ArchitectureOf(const gguf::File& file) {
  TS_ASSIGN_OR_RETURN(std::string_view arch,
                      internal::RequiredString(file, gguf::keys::kGeneralArchitecture));
  TS_RETURN_IF_ERROR(internal::CheckManifestName(gguf::keys::kGeneralArchitecture, arch));
  return std::string(arch);
}

Result<package::GgufFacts> ModelFactsOf(const gguf::File& file) {
  if (file.Find(gguf::keys::kGeneralType) != nullptr) {
    TS_ASSIGN_OR_RETURN(std::string_view type, file.GetString(gguf::keys::kGeneralType));
    if (type == "adapter") {
      return InvalidArgument("general.type is \"adapter\": a LoRA adapter, not a model");
    }
  }
  package::GgufFacts facts;
  TS_ASSIGN_OR_RETURN(facts.architecture, ArchitectureOf(file));
  facts.version = file.version();
  if (file.tensors().empty()) {
    return Status(StatusCode::kMissingTensor, "the model has no tensors");
  }
  std::vector<const gguf::TensorInfo*> all;
  all.reserve(file.tensors().size());
  for (const gguf::TensorInfo& t : file.tensors()) all.push_back(&t);
  TS_ASSIGN_OR_RETURN(TensorSummary summary, Summarize(all));
  facts.file_type = std::move(summary.file_type);
  facts.parameters = summary.parameters;

  const std::string ctx_key = gguf::keys::ArchKey(facts.architecture, gguf::keys::kContextLength);
  if (file.Find(ctx_key) == nullptr) return NotFound(ctx_key + " is absent");
  TS_ASSIGN_OR_RETURN(facts.context_length, file.GetU64(ctx_key));
  if (facts.context_length == 0) return Malformed(ctx_key + " is 0, expected at least 1");
  if (facts.context_length > internal::kMaxManifestInt) {
    return OutOfRange(ctx_key + " is " + std::to_string(facts.context_length) + ", limit 2^53 - 1");
  }
  TS_ASSIGN_OR_RETURN(facts.tokenizer, internal::TokenizerFactsOf(file));
  return facts;
}

// The adapter's tensors, checked to be <base>.lora_a / <base>.lora_b (kMalformed otherwise).
Result<std::vector<const gguf::TensorInfo*>> LoraTensors(const gguf::File& file) {
  if (file.tensors().empty()) return Malformed("the adapter has no lora_a/lora_b tensors");
  std::vector<const gguf::TensorInfo*> out;
  out.reserve(file.tensors().size());
  for (const gguf::TensorInfo& t : file.tensors()) {
    const std::string_view name = t.name;
    if (!name.ends_with(kSuffixA) && !name.ends_with(kSuffixB)) {
      return Malformed("tensor " + Quoted(name) +
                       " is neither <base tensor>.lora_a nor <base tensor>.lora_b");
    }
    out.push_back(&t);
  }
  return out;
}

Result<package::GgufFacts> AdapterFactsOf(const gguf::File& file) {
  TS_RETURN_IF_ERROR(internal::CheckAdapterKind(file));
  package::GgufFacts facts;
  TS_ASSIGN_OR_RETURN(facts.architecture, ArchitectureOf(file));
  facts.version = file.version();
  TS_ASSIGN_OR_RETURN(std::vector<const gguf::TensorInfo*> tensors, LoraTensors(file));
  TS_ASSIGN_OR_RETURN(TensorSummary summary, Summarize(tensors));
  facts.file_type = std::move(summary.file_type);
  facts.parameters = summary.parameters;
  facts.context_length = 0;
  return facts;
}

// "blk.12.attn_q.weight" -> "attn_q.weight"; other names unchanged.
std::string WithoutLayer(std::string_view name) {
  constexpr std::string_view kBlock = "blk.";
  if (!name.starts_with(kBlock)) return std::string(name);
  std::size_t i = kBlock.size();
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') ++i;
  if (i == kBlock.size() || i >= name.size() || name[i] != '.') return std::string(name);
  return std::string(name.substr(i + 1));
}

// [A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*, at most 64 characters (package.md section 2.5).
bool IsTargetName(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      if (s[i + 1] == '.') return false;  // i + 1 < size: s does not end with '.'
    } else if (!internal::IsAsciiAlnum(c) && c != '_') {
      return false;
    }
  }
  return true;
}

Result<AdapterBinding> BindingOf(const gguf::File& file) {
  TS_RETURN_IF_ERROR(internal::CheckAdapterKind(file));
  AdapterBinding binding;
  TS_ASSIGN_OR_RETURN(binding.base_sha256, internal::ReadBaseSha256(file));
  if (file.Find(gguf::keys::kAdapterLoraAlpha) != nullptr) {
    TS_ASSIGN_OR_RETURN(float alpha, file.GetF32(gguf::keys::kAdapterLoraAlpha));
    if (!std::isfinite(alpha)) {
      return Malformed(std::string(gguf::keys::kAdapterLoraAlpha) + " is " + std::to_string(alpha) +
                       ", expected a finite number");
    }
    binding.alpha = alpha;
  }
  TS_ASSIGN_OR_RETURN(std::vector<const gguf::TensorInfo*> tensors, LoraTensors(file));
  // base tensor name -> {A, B}
  std::map<std::string, std::pair<const gguf::TensorInfo*, const gguf::TensorInfo*>> pairs;
  for (const gguf::TensorInfo* t : tensors) {
    const std::string_view name = t->name;
    const bool is_a = name.ends_with(kSuffixA);
    auto& slot = pairs[std::string(name.substr(0, name.size() - kSuffixA.size()))];
    (is_a ? slot.first : slot.second) = t;
  }
  std::set<std::string> targets;
  const gguf::TensorInfo* first_a = nullptr;  // the pair that set binding.rank
  for (const auto& [base_name, ab] : pairs) {
    const auto [a, b] = ab;
    if (a == nullptr || b == nullptr) {
      const std::string have = base_name + std::string(a == nullptr ? kSuffixB : kSuffixA);
      const std::string lack = base_name + std::string(a == nullptr ? kSuffixA : kSuffixB);
      return Status(StatusCode::kMissingTensor,
                    "tensor " + Quoted(have) + " has no partner " + Quoted(lack));
    }
    for (const gguf::TensorInfo* t : {a, b}) {
      if (t->dims.size() != 2) {
        return Status(StatusCode::kShapeMismatch, "tensor " + Quoted(t->name) + " has " +
                                                      std::to_string(t->dims.size()) +
                                                      " dimensions, expected 2");
      }
    }
    // A: dims [n_in, r]; B: dims [r, n_out].
    const std::uint64_t rank = a->dims[1];
    if (b->dims[0] != rank) {
      return Status(StatusCode::kShapeMismatch,
                    "rank of " + Quoted(a->name) + " (" + std::to_string(rank) +
                        ") differs from the rank of " + Quoted(b->name) + " (" +
                        std::to_string(b->dims[0]) + ")");
    }
    if (first_a == nullptr) {
      first_a = a;
      binding.rank = rank;
    } else if (rank != binding.rank) {
      return Malformed("tensor " + Quoted(a->name) + " has rank " + std::to_string(rank) + " but " +
                       Quoted(first_a->name) + " has rank " + std::to_string(binding.rank) +
                       ": a package adapter has one rank");
    }
    std::string target = WithoutLayer(base_name);
    if (!IsTargetName(target)) {
      return Malformed("tensor " + Quoted(a->name) + " adapts " + Quoted(target) +
                       ", expected a target name of at most 64 characters of "
                       "[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");
    }
    targets.insert(std::move(target));
  }
  binding.targets.assign(targets.begin(), targets.end());
  return binding;
}

}  // namespace

Result<package::GgufFacts> ReadModelFacts(const std::string& gguf_path) {
  Result<std::shared_ptr<const gguf::File>> file = internal::OpenGguf(gguf_path);
  if (!file.ok()) return WithFile(file.status(), gguf_path);
  Result<package::GgufFacts> facts = ModelFactsOf(**file);
  if (!facts.ok()) return WithFile(facts.status(), gguf_path);
  return facts;
}

Result<package::GgufFacts> ReadAdapterFacts(const std::string& gguf_path) {
  Result<std::shared_ptr<const gguf::File>> file = internal::OpenGguf(gguf_path);
  if (!file.ok()) return WithFile(file.status(), gguf_path);
  Result<package::GgufFacts> facts = AdapterFactsOf(**file);
  if (!facts.ok()) return WithFile(facts.status(), gguf_path);
  return facts;
}

Result<AdapterBinding> ReadAdapterBinding(const std::string& gguf_path) {
  Result<std::shared_ptr<const gguf::File>> file = internal::OpenGguf(gguf_path);
  if (!file.ok()) return WithFile(file.status(), gguf_path);
  Result<AdapterBinding> binding = BindingOf(**file);
  if (!binding.ok()) return WithFile(binding.status(), gguf_path);
  return binding;
}

}  // namespace tessera::registry
