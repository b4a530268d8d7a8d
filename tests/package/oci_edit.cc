#include "oci_edit.h"

#include <gtest/gtest.h>

namespace tessera::package::fixture {

using Json = nlohmann::json;

std::string ModelBlob(const Env& env) { return "blobs/sha256/" + Sha256Hex(env.sample.model); }

Maker EditParts(std::function<void(Env&, std::vector<Part>&)> edit) {
  return [edit](Env& env) {
    edit(env, env.parts);
    return WriteParts(env.parts, env.sample.dir.path());
  };
}

Maker RemovePart(EntryName name) {
  return EditParts([name](Env& env, std::vector<Part>& parts) {
    int at = FindPart(parts, name(env));
    ASSERT_GE(at, 0);
    parts.erase(parts.begin() + at);
  });
}

Maker AddPart(std::string name, std::string data, bool directory) {
  return EditParts([=](Env&, std::vector<Part>& parts) {
    parts.push_back(Part{name, directory, ToBytes(data)});
  });
}

Maker SetPart(std::string name, std::string data) {
  return EditParts([=](Env&, std::vector<Part>& parts) {
    int at = FindPart(parts, name);
    ASSERT_GE(at, 0);
    parts[static_cast<std::size_t>(at)].data = ToBytes(data);
  });
}

Maker EditIndex(std::function<void(Json&)> edit) {
  return EditParts([edit](Env&, std::vector<Part>& parts) {
    int at = FindPart(parts, "index.json");
    ASSERT_GE(at, 0);
    Bytes& data = parts[static_cast<std::size_t>(at)].data;
    Json j = Json::parse(data.begin(), data.end(), nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded());
    edit(j);
    data = ToBytes(j.dump());
  });
}

Maker EditManifestText(std::function<std::string(std::string)> edit) {
  return EditParts([edit](Env&, std::vector<Part>& parts) {
    ReplaceManifest(parts, edit(CurrentManifest(parts)));
  });
}

Maker EditManifest(std::function<void(Json&)> edit) {
  return EditManifestText([edit](std::string text) {
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded());
    edit(j);
    return j.dump();
  });
}

Maker FlipDataByte(EntryName name, std::size_t offset) {
  return [name, offset](Env& env) {
    // TarWriter's layout: each entry is a header block and its data padded to 512 bytes.
    std::size_t pos = 0;
    for (const Part& part : env.parts) {
      pos += 512;
      if (part.name == name(env)) break;
      pos += (part.data.size() + 511) / 512 * 512;
    }
    Bytes bytes = env.bytes;
    bytes.at(pos + offset) ^= 0x01;
    return bytes;
  };
}

Maker Append(std::function<std::vector<RawEntry>(const Env&)> entries) {
  return [entries](Env& env) {
    Bytes bytes(env.bytes.begin(), env.bytes.end() - 1024);
    Bytes more = RawTar(entries(env));
    bytes.insert(bytes.end(), more.begin(), more.end());
    return bytes;
  };
}

Maker Repack(std::function<void(PackageFileInput&)> edit) {
  return [edit](Env& env) {
    PackageFileInput input = env.sample.Input();
    edit(input);
    const std::string path = env.sample.dir.File("repacked.tpkg");
    auto written = WritePackageFile(path, input);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    return ReadFile(path);
  };
}

}  // namespace tessera::package::fixture
