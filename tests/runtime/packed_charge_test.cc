// The runtime charges a model with packed weights what it holds (ADR 0023): a Q8_0 copy of the
// date specialist, loaded with and without RuntimeOptions::pack_weights, is charged about its
// file's size both ways (the packed copy replaces the file pages it releases; it is not counted
// on top of them), and answers the same.
#include <sys/stat.h>

#include <deque>
#include <fstream>

#include "base/clock.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "runtime_fixture.h"
#include "tensor/quantize.h"

namespace tessera::testing {
namespace {

// `src` with every 2-D float matrix whose rows are whole Q8_0 blocks stored as Q8_0.
void WriteQ8_0Copy(const std::string& src, const std::string& dst) {
  Result<gguf::File> f = gguf::File::Open(src);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  gguf::Writer w;
  for (const gguf::KeyValue& kv : f->metadata()) {
    if (kv.key != "general.alignment") {
      ASSERT_TRUE(w.AddKeyValue(kv.key, kv.value).ok());
    }
  }
  std::deque<std::vector<std::uint8_t>> keep;  // the writer borrows the bytes
  for (const gguf::TensorInfo& t : f->tensors()) {
    const bool matrix = t.dims.size() == 2 && t.dims[0] % 32 == 0 &&
                        (t.type == tensor::DType::kF16 || t.type == tensor::DType::kF32);
    if (!matrix) {
      keep.emplace_back(t.data.begin(), t.data.end());
      ASSERT_TRUE(w.AddTensor(t.name, t.dims, t.type, keep.back()).ok());
      continue;
    }
    const auto n_cols = static_cast<std::int64_t>(t.dims[0]);
    std::vector<float> floats(t.dims[0] * t.dims[1]);
    ASSERT_TRUE(tensor::Dequantize(t.type, t.data, floats).ok());
    keep.emplace_back(t.dims[1] * tensor::RowBytes(tensor::DType::kQ8_0, n_cols).value());
    ASSERT_TRUE(tensor::Quantize(tensor::DType::kQ8_0, floats, n_cols, keep.back()).ok());
    ASSERT_TRUE(w.AddTensor(t.name, t.dims, tensor::DType::kQ8_0, keep.back()).ok());
  }
  Result<std::vector<std::uint8_t>> bytes = w.WriteToBuffer();
  ASSERT_TRUE(bytes.ok());
  std::ofstream(dst, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes->data()), static_cast<std::streamsize>(bytes->size()));
}

TEST_F(RuntimeTest, APackedModelIsChargedOnce) {
  const std::string q8 = work_ + "/date-q8_0.gguf";
  WriteQ8_0Copy(registry::fixture::ModelPath("specialists/date.gguf"), q8);
  struct stat st {};
  ASSERT_EQ(::stat(q8.c_str(), &st), 0);
  const auto file_bytes = static_cast<std::uint64_t>(st.st_size);
  {
    std::unique_ptr<registry::Registry> store =
        registry::fixture::OpenStore(home_, key_, &base::SystemClock());
    ASSERT_NE(store, nullptr);
    registry::fixture::Spec spec;
    spec.id = "dev.test.skills.date8";
    spec.weights = q8;
    Result<registry::InstallResult> r = store->Install(registry::fixture::Pack(work_, spec, &key_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::uint64_t charged[2] = {0, 0};
  for (bool pack : {false, true}) {
    RuntimeOptions o;
    o.home = home_;
    o.n_threads = 1;
    o.pack_weights = pack;
    Result<std::unique_ptr<Runtime>> rt = Runtime::Open(std::move(o));
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    Result<ModuleHandle> m = (*rt)->Acquire("dev.test.skills.date8");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    RuntimeReport r = (*rt)->Report();
    ASSERT_EQ(r.modules.size(), 1u);
    ASSERT_TRUE(r.modules[0].measured.measured);
    charged[pack ? 1 : 0] = r.modules[0].measured.artifact_bytes;
    Result<SessionHandle> s = (*rt)->OpenSession(*m);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(Generate(**rt, *s, "convert 13th of February, 1994 to YYYY-MM-DD\n"), "1994-02-13")
        << (pack ? "packed" : "file layout");
  }
  // Both about the file: its bytes plus the load's other heap (vocabulary, norms), never the
  // file and the copy.
  EXPECT_GE(charged[0], file_bytes);
  EXPECT_GE(charged[1], file_bytes * 9 / 10);
  EXPECT_LT(charged[1], charged[0] + file_bytes / 4) << "the copy is counted on top of the file";
  EXPECT_GT(charged[1] + file_bytes / 4, charged[0]);
}

}  // namespace
}  // namespace tessera::testing
