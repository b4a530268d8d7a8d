#include "tar_fixture.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "base/sha256.h"

namespace tessera::package::fixture {
namespace {

void Put(Bytes& block, std::size_t offset, std::size_t width, const std::string& text) {
  std::memcpy(block.data() + offset, text.data(), std::min(width, text.size()));
}

std::string Octal(std::uint64_t value, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*llo", digits, static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

TempDir::TempDir(const std::string& tag) {
  std::string templ = ::testing::TempDir() + "tessera_pkg_" + tag + "_XXXXXX";
  char* made = ::mkdtemp(templ.data());
  EXPECT_NE(made, nullptr) << templ;
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Bytes ToBytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

Bytes RandomBytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

void WriteFile(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Sha256Hex(const Bytes& bytes) { return base::Sha256Hex(bytes); }

int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool HaveGnuTar() {
  std::string out;
  return RunCommand("tar --version", &out) == 0 && out.find("GNU tar") != std::string::npos;
}

Bytes RawHeader(const RawEntry& e) {
  Bytes block(512, 0);
  Put(block, 0, 100, e.name);
  Put(block, 100, 8, e.mode);
  Put(block, 108, 8, "0000000");
  Put(block, 116, 8, "0000000");
  Put(block, 124, 12, e.size.value_or(Octal(e.data.size(), 11)));
  Put(block, 136, 12, "00000000000");
  block[156] = static_cast<std::uint8_t>(e.type);
  Put(block, 157, 100, e.linkname);
  Put(block, 257, 6, e.magic);
  Put(block, 263, 2, e.version);
  Put(block, 345, 155, e.prefix);
  if (e.checksum.has_value()) {
    Put(block, 148, 8, *e.checksum);
  } else {
    std::memset(block.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (std::uint8_t b : block) sum += b;
    Put(block, 148, 8, Octal(sum, 6) + std::string("\0 ", 2));
  }
  return block;
}

Bytes RawTar(const std::vector<RawEntry>& entries, bool end_marker) {
  Bytes out;
  for (const RawEntry& e : entries) {
    Bytes header = RawHeader(e);
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), e.data.begin(), e.data.end());
    std::size_t pad = (512 - e.data.size() % 512) % 512;
    for (std::size_t i = 0; i < pad; ++i) {
      out.push_back(e.padding_fill.empty()
                        ? 0
                        : static_cast<std::uint8_t>(e.padding_fill[i % e.padding_fill.size()]));
    }
  }
  if (end_marker) out.resize(out.size() + 1024, 0);
  return out;
}

RawEntry File(const std::string& name, const std::string& data) {
  RawEntry e;
  e.name = name;
  e.data = data;
  return e;
}

RawEntry Dir(const std::string& name) {
  RawEntry e;
  e.name = name;
  e.type = '5';
  e.mode = "0000755";
  return e;
}

}  // namespace tessera::package::fixture
