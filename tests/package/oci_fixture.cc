#include "oci_fixture.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "package/oci_layout.h"
#include "package/tar_reader.h"
#include "package/tar_writer.h"

namespace tessera::package::fixture {

SamplePackage::SamplePackage(const std::string& tag)
    : dir(tag),
      model(RandomBytes(300000, 11)),
      eval(ToBytes("{\"prompt\":\"2+2\",\"answer\":\"4\"}\n")),
      config(ToBytes("{\"id\":\"org.example.adder\",\"version\":\"1.0.0\"}")),
      signature(RandomBytes(64, 12)),
      package_path(dir.File("sample.tpkg")),
      staging(dir.File("staging")) {
  WriteFile(dir.File("model.gguf"), model);
  WriteFile(dir.File("eval.jsonl"), eval);
  EXPECT_EQ(::mkdir(staging.c_str(), 0755), 0);
  Write(package_path);
}

PackageFileInput SamplePackage::Input(bool sign) const {
  PackageFileInput input;
  input.config = config;
  input.artifacts = {{dir.File("model.gguf"), "model.gguf", kGgufMediaType, std::nullopt},
                     {dir.File("eval.jsonl"), "eval.jsonl", kEvalMediaType, std::nullopt}};
  if (sign) input.signature = std::span<const std::uint8_t>(signature);
  return input;
}

WrittenPackage SamplePackage::Write(const std::string& path, bool sign) const {
  auto written = WritePackageFile(path, Input(sign));
  EXPECT_TRUE(written.ok()) << written.status().ToString();
  return written.ok() ? *written : WrittenPackage{};
}

std::vector<Part> ReadParts(const std::string& package_path) {
  std::vector<Part> parts;
  auto reader = TarReader::Open(package_path, TarLimits{});
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return parts;
  while (true) {
    auto entry = reader->Next();
    EXPECT_TRUE(entry.ok()) << entry.status().ToString();
    if (!entry.ok() || !entry->has_value()) break;
    Part part{(*entry)->name, (*entry)->type == TarEntryType::kDirectory, {}};
    Status s = reader->ReadAll([&](std::span<const std::uint8_t> chunk) {
      part.data.insert(part.data.end(), chunk.begin(), chunk.end());
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    parts.push_back(std::move(part));
  }
  return parts;
}

Bytes WriteParts(const std::vector<Part>& parts, const std::string& scratch_dir) {
  const std::string path = scratch_dir + "/parts.tar";
  auto writer = TarWriter::Create(path);
  EXPECT_TRUE(writer.ok());
  for (const Part& part : parts) {
    Status s =
        part.directory ? writer->AddDirectory(part.name) : writer->AddFile(part.name, part.data);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_TRUE(writer->Finish().ok());
  Bytes bytes = ReadFile(path);
  ::unlink(path.c_str());
  return bytes;
}

int FindPart(const std::vector<Part>& parts, const std::string& name) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

std::string ManifestEntryName(const std::vector<Part>& parts) {
  int index = FindPart(parts, std::string(kOciIndexFile));
  EXPECT_GE(index, 0);
  auto descriptor = ParseOciIndex(parts[static_cast<std::size_t>(index)].data);
  EXPECT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  return BlobEntryName(descriptor->digest);
}

}  // namespace

std::string CurrentManifest(const std::vector<Part>& parts) {
  int at = FindPart(parts, ManifestEntryName(parts));
  EXPECT_GE(at, 0);
  const Bytes& data = parts[static_cast<std::size_t>(at)].data;
  return std::string(data.begin(), data.end());
}

void ReplaceManifest(std::vector<Part>& parts, const std::string& manifest_json) {
  int at = FindPart(parts, ManifestEntryName(parts));
  ASSERT_GE(at, 0);
  Descriptor d;
  d.media_type = std::string(kOciManifestMediaType);
  d.digest = base::Sha256(ToBytes(manifest_json));
  d.size = manifest_json.size();
  parts[static_cast<std::size_t>(at)] =
      Part{BlobEntryName(d.digest), false, ToBytes(manifest_json)};
  int index = FindPart(parts, std::string(kOciIndexFile));
  ASSERT_GE(index, 0);
  parts[static_cast<std::size_t>(index)].data = ToBytes(OciIndexJson(d));
}

}  // namespace tessera::package::fixture
