// tessera inspect FILE [--json] [--full]: a GGUF file's metadata and tensors.
// Arrays longer than kSummaryItems are summarised (element type, count, first items) unless
// --full is given.
#include <cinttypes>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "base/printable.h"
#include "command.h"
#include "options.h"
#include "gguf/reader.h"

namespace tessera::cli {
namespace {

using nlohmann::ordered_json;
constexpr std::size_t kSummaryItems = 8;

ordered_json ValueToJson(const gguf::Value& v, bool full) {
  switch (v.type()) {
    case gguf::ValueType::kString:
      return v.string();
    case gguf::ValueType::kBool:
      return *v.AsBool();
    case gguf::ValueType::kF32:
    case gguf::ValueType::kF64:
      return *v.AsF64();
    case gguf::ValueType::kArray: {
      const gguf::Array& a = v.array();
      ordered_json items = ordered_json::array();
      std::size_t n = full ? a.items.size() : std::min(a.items.size(), kSummaryItems);
      for (std::size_t i = 0; i < n; ++i) items.push_back(ValueToJson(a.items[i], full));
      if (full || a.items.size() <= kSummaryItems) return items;
      ordered_json summary;
      summary["array_of"] = gguf::ValueTypeName(a.element_type);
      summary["count"] = a.items.size();
      summary["first"] = std::move(items);
      return summary;
    }
    default:
      if (auto u = v.AsU64()) return *u;
      if (auto i = v.AsI64()) return *i;
      return nullptr;
  }
}

std::string ValueToText(const gguf::Value& v, bool full) {
  if (v.type() == gguf::ValueType::kArray) {
    const gguf::Array& a = v.array();
    std::string out = "[" + std::string(gguf::ValueTypeName(a.element_type)) + " x " +
                      std::to_string(a.items.size()) + "] [";
    std::size_t n = full ? a.items.size() : std::min(a.items.size(), kSummaryItems);
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) out += ", ";
      out += ValueToText(a.items[i], full);
    }
    if (n < a.items.size()) out += ", ...";
    return out + "]";
  }
  // Strings are quoted and escaped (control characters, bidi overrides and bytes that are not
  // UTF-8 are shown as escapes, never sent to the terminal); numbers cannot hold such bytes.
  if (v.type() == gguf::ValueType::kString) return "\"" + base::Printable(v.string()) + "\"";
  return DumpJson(ValueToJson(v, full), -1);
}

std::string ShapeText(const std::vector<std::uint64_t>& dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(dims[i]);
  }
  return out + "]";
}

int RunInspect(const std::string& path, bool json, bool full) {
  Result<gguf::File> file = gguf::File::Open(path);
  if (!file.ok()) return ReportError(file.status());
  const gguf::File& f = *file;
  std::uint64_t tensor_bytes = 0;
  for (const gguf::TensorInfo& t : f.tensors()) tensor_bytes += t.size_bytes;

  if (json) {
    ordered_json out;
    out["file"] = path;
    out["file_bytes"] = f.bytes().size();
    out["version"] = f.version();
    out["alignment"] = f.alignment();
    out["data_offset"] = f.data_offset();
    ordered_json meta = ordered_json::object();
    for (const gguf::KeyValue& kv : f.metadata()) meta[kv.key] = ValueToJson(kv.value, full);
    out["metadata"] = std::move(meta);
    ordered_json tensors = ordered_json::array();
    for (const gguf::TensorInfo& t : f.tensors()) {
      ordered_json jt;
      jt["name"] = t.name;
      jt["type"] = tensor::TypeName(t.type);
      jt["shape"] = t.dims;
      jt["elements"] = t.n_elements();
      jt["bytes"] = t.size_bytes;
      jt["offset"] = t.offset;
      tensors.push_back(std::move(jt));
    }
    out["tensors"] = std::move(tensors);
    out["tensor_bytes"] = tensor_bytes;
    std::printf("%s\n", DumpJson(out).c_str());
    return 0;
  }

  std::printf("file: %s\nGGUF version %u, alignment %u, %zu bytes, data at %" PRIu64 "\n",
              base::Printable(path).c_str(), f.version(), f.alignment(), f.bytes().size(), f.data_offset());
  std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
  for (const gguf::KeyValue& kv : f.metadata()) {
    std::printf("  %-44s %-7s %s\n", base::Printable(kv.key).c_str(),
                std::string(gguf::ValueTypeName(kv.value.type())).c_str(),
                ValueToText(kv.value, full).c_str());
  }
  std::printf("\ntensors (%zu, %" PRIu64 " bytes):\n", f.tensors().size(), tensor_bytes);
  std::printf("  %-36s %-6s %-22s %12s\n", "name", "type", "shape", "bytes");
  for (const gguf::TensorInfo& t : f.tensors()) {
    std::printf("  %-36s %-6s %-22s %12" PRIu64 "\n", base::Printable(t.name).c_str(),
                std::string(tensor::TypeName(t.type)).c_str(), ShapeText(t.dims).c_str(),
                t.size_bytes);
  }
  return 0;
}

}  // namespace

RunFn AddInspect(CLI::App& app) {
  struct Options {
    std::string path;
    bool json = false;
    bool full = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("inspect", "Show a GGUF file's metadata and tensors");
  sub->add_option("file", opts->path, "GGUF file")->required();
  sub->add_flag("--json", opts->json, "Print one JSON document");
  sub->add_flag("--full", opts->full, "Print long arrays in full");
  return [opts] { return RunInspect(opts->path, opts->json, opts->full); };
}

}  // namespace tessera::cli
