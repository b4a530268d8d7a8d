// Damaged copies of GGUF files for the tests of registry/gguf_facts.h.
#include "gguf_edit_fixture.h"

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <system_error>
#include <utility>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "gguf/writer.h"

namespace tessera::registry::gguf_fixture {

gguf::File OpenOrDie(const std::string& path) {
  Result<gguf::File> f = gguf::File::Open(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return std::move(f).value();
}

std::string FileSha256(const std::string& path) {
  Result<base::MappedFile> m = base::MappedFile::Open(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return base::Sha256Hex(m->bytes());
}

// The hash models/SHA256SUMS records for `file` (relative to models/).
std::string RecordedSha256(const std::string& file) {
  std::ifstream in(kModels + "SHA256SUMS");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 66 && line.substr(66) == file) return line.substr(0, 64);
  }
  return "";
}

std::uint64_t SumOfElements(const gguf::File& f) {
  std::uint64_t n = 0;
  for (const gguf::TensorInfo& t : f.tensors()) n += t.n_elements();
  return n;
}

// Writes `src` with `edit` applied to `dst`.
void Rewrite(const std::string& src, const std::string& dst, const Edit& edit) {
  gguf::File file = OpenOrDie(src);
  gguf::Writer w;
  w.SetAlignment(file.alignment());
  std::set<std::string> done;
  for (const gguf::KeyValue& kv : file.metadata()) {
    if (edit.drop_keys.count(kv.key) != 0) continue;
    auto it = edit.set_keys.find(kv.key);
    ASSERT_TRUE(w.AddKeyValue(kv.key, it != edit.set_keys.end() ? it->second : kv.value).ok());
    done.insert(kv.key);
  }
  for (const auto& [key, value] : edit.set_keys) {
    if (done.count(key) == 0) {
      ASSERT_TRUE(w.AddKeyValue(key, value).ok());
    }
  }
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (edit.drop_tensors.count(t.name) != 0) continue;
    std::vector<std::uint64_t> dims = t.dims;
    std::span<const std::uint8_t> bytes = t.data;
    if (auto it = edit.reshape.find(t.name); it != edit.reshape.end()) {
      dims = it->second;
      std::uint64_t n = 1;
      for (std::uint64_t d : dims) n *= d;
      const std::uint64_t size = n / tensor::BlockSize(t.type) * tensor::TypeSize(t.type);
      ASSERT_LE(size, bytes.size());
      bytes = bytes.first(size);
    }
    Status s = w.AddTensor(t.name, dims, t.type, bytes);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  for (const NewTensor& t : edit.add_tensors) {
    Status s = w.AddTensor(t.name, t.dims, t.type, t.bytes);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Status s = w.WriteFile(dst);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

NewTensor ZerosF32(std::string name, std::vector<std::uint64_t> dims) {
  std::uint64_t n = 1;
  for (std::uint64_t d : dims) n *= d;
  return NewTensor{std::move(name), std::move(dims), tensor::DType::kF32,
                   std::vector<std::uint8_t>(n * 4, 0)};
}

void WriteTruncated(const std::string& src, const std::string& dst, std::size_t size) {
  std::ifstream in(src, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_LE(size, bytes.size());
  std::ofstream(dst, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size));
}

void TempDirTest::SetUp() {
  std::string templ = ::testing::TempDir() + "gguf_facts_XXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ + "/";
}

void TempDirTest::TearDown() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace tessera::registry::gguf_fixture
