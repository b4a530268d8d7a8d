#include "convert/checkpoint.h"

#include <sys/stat.h>

#include <set>
#include <utility>

#include "convert/json_file.h"

namespace tessera::convert {
namespace {

bool IsPlainFileName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

const StTensor* Checkpoint::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> Checkpoint::file_names() const {
  std::vector<std::string> names;
  for (const auto& f : files_) names.push_back(f->path());
  return names;
}

Result<Checkpoint> Checkpoint::Open(const std::string& dir, std::string_view stem) {
  const std::string single = JoinPath(dir, std::string(stem) + ".safetensors");
  const std::string index = JoinPath(dir, std::string(stem) + ".safetensors.index.json");
  Checkpoint c;
  auto add_file = [&](const std::string& path) -> Result<SafetensorsFile*> {
    TS_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(path));
    c.files_.push_back(std::make_unique<SafetensorsFile>(std::move(f)));
    return c.files_.back().get();
  };

  if (FileExists(index)) {
    TS_ASSIGN_OR_RETURN(Json j, ReadJsonFile(index));
    auto wm = j.find("weight_map");
    if (wm == j.end() || !wm->is_object()) {
      return Malformed("convert: \"" + index + "\" has no object \"weight_map\"");
    }
    std::map<std::string, std::string> weight_map;  // tensor -> shard
    std::set<std::string> shards;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it->is_string() || !IsPlainFileName(it->get<std::string>())) {
        return Malformed("convert: \"" + index + "\": weight_map[\"" + it.key() +
                         "\"] is not a plain file name in the checkpoint directory");
      }
      weight_map[it.key()] = it->get<std::string>();
      shards.insert(it->get<std::string>());
    }
    for (const std::string& shard : shards) {
      TS_ASSIGN_OR_RETURN(SafetensorsFile * f, add_file(JoinPath(dir, shard)));
      for (const StTensor& t : f->tensors()) {
        auto wit = weight_map.find(t.name);
        if (wit == weight_map.end()) {
          return Malformed("convert: tensor \"" + t.name + "\" of shard \"" + shard +
                           "\" is not in the weight_map of \"" + index + "\"");
        }
        if (wit->second != shard) continue;  // a stale copy; the index names another shard
        if (!c.by_name_.emplace(t.name, &t).second) {
          return Status(StatusCode::kDuplicate,
                        "convert: tensor \"" + t.name + "\" occurs twice in the shards");
        }
      }
    }
    for (const auto& [name, shard] : weight_map) {
      if (c.by_name_.count(name) == 0) {
        return Malformed("convert: \"" + index + "\" places tensor \"" + name + "\" in \"" + shard +
                         "\", which does not hold it");
      }
    }
    return c;
  }
  if (FileExists(single)) {
    TS_ASSIGN_OR_RETURN(SafetensorsFile * f, add_file(single));
    for (const StTensor& t : f->tensors()) c.by_name_.emplace(t.name, &t);
    return c;
  }
  const std::string pickle =
      JoinPath(dir, stem == "model" ? "pytorch_model.bin" : "adapter_model.bin");
  if (FileExists(pickle)) {
    return Unsupported("convert: \"" + pickle +
                       "\" is a PyTorch pickle, which is not read (it can run code); convert "
                       "the checkpoint to safetensors first");
  }
  return NotFound("convert: \"" + dir + "\" has no " + std::string(stem) + ".safetensors or " +
                  std::string(stem) + ".safetensors.index.json");
}

}  // namespace tessera::convert
