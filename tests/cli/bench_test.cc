// End-to-end tests of `tessera bench` and `tessera roofline` on the shipped tiny model: the table
// and JSON shapes, positive rates, and one-line errors for bad flags. No timing is asserted
// beyond "a rate is a positive number".
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_cli.h"

namespace tessera {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::RunCli;

const std::string kModel = std::string(TESSERA_SOURCE_DIR) + "/models/tiny/tiny-random.gguf";

std::vector<std::string> TableRows(const std::string& out) {
  std::vector<std::string> rows;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    if (line.rfind("| tiny-random.gguf ", 0) == 0) rows.push_back(line);
    start = end + 1;
  }
  return rows;
}

void ExpectOneLineError(const CliRun& run, const std::string& code, const std::string& fragment) {
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.err.rfind("tessera: " + code + ": ", 0), 0u) << run.err;
  EXPECT_NE(run.err.find(fragment), std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_EQ(run.out.find("| tiny-random.gguf"), std::string::npos) << "measured anyway";
}

TEST(BenchCliTest, PrintsOneRowPerTest) {
  CliRun run = RunCli({"bench", "-m", kModel, "-p", "8", "-n", "4", "-r", "2", "-t", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  const std::vector<std::string> rows = TableRows(run.out);
  ASSERT_EQ(rows.size(), 2u) << run.out;
  EXPECT_NE(rows[0].find(" pp8 |"), std::string::npos) << rows[0];
  EXPECT_NE(rows[1].find(" tg4 |"), std::string::npos) << rows[1];
  for (const std::string& row : rows) {
    EXPECT_NE(row.find("| Q8_0 "), std::string::npos) << row;
    EXPECT_NE(row.find("| CPU "), std::string::npos) << row;
    EXPECT_NE(row.find(" ± "), std::string::npos) << row;
  }
  EXPECT_NE(run.out.find("peak RSS"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("sha256 "), std::string::npos) << run.out;
}

TEST(BenchCliTest, RowsForEveryModelAndTest) {
  CliRun run = RunCli({"bench", "-m", kModel + "," + kModel, "-p", "4,8", "-n", "2", "-r", "1",
                       "--warmup", "0", "-t", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> rows = TableRows(run.out);
  ASSERT_EQ(rows.size(), 6u) << run.out;
  EXPECT_NE(rows[3].find(" pp4 |"), std::string::npos) << rows[3];
  EXPECT_NE(rows[5].find(" tg2 |"), std::string::npos) << rows[5];
}

TEST(BenchCliTest, JsonHasEveryFieldAndPositiveRates) {
  CliRun run =
      RunCli({"bench", "-m", kModel, "-p", "8", "-n", "4", "-r", "2", "-t", "1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json j = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << run.out;
  EXPECT_TRUE(j["cpu"].is_string());
  EXPECT_GE(j["cores"].get<int>(), 1);
  EXPECT_EQ(j["peak_rss_scope"], "model");
  ASSERT_TRUE(j["rows"].is_array());
  ASSERT_EQ(j["rows"].size(), 2u);
  const std::vector<std::string> tests = {"pp8", "tg4"};
  for (std::size_t i = 0; i < 2; ++i) {
    const json& row = j["rows"][i];
    SCOPED_TRACE(row.dump());
    EXPECT_EQ(row["test"], tests[i]);
    EXPECT_EQ(row["model_file"], "tiny-random.gguf");
    EXPECT_EQ(row["type"], "Q8_0");
    EXPECT_EQ(row["backend"], "CPU");
    EXPECT_EQ(row["n_threads"], 1);
    EXPECT_EQ(row["n_prompt"], i == 0 ? 8 : 0);
    EXPECT_EQ(row["n_gen"], i == 0 ? 0 : 4);
    EXPECT_EQ(row["repetitions"], 2);
    EXPECT_EQ(row["n_ctx"], 8);  // max(p, n + 2)
    ASSERT_TRUE(row["sha256"].is_string());
    EXPECT_EQ(row["sha256"].get<std::string>().size(), 64u);
    EXPECT_GT(row["n_params"].get<double>(), 0.0);
    EXPECT_GT(row["size_bytes"].get<double>(), 0.0);
    EXPECT_GE(row["file_bytes"].get<double>(), row["size_bytes"].get<double>());
    EXPECT_GT(row["kv_bytes"].get<double>(), 0.0);
    EXPECT_GT(row["peak_rss_bytes"].get<double>(), 0.0);
    EXPECT_GT(row["rss_bound_bytes"].get<double>(), row["file_bytes"].get<double>());
    ASSERT_EQ(row["samples_ts"].size(), 2u);
    ASSERT_EQ(row["samples_seconds"].size(), 2u);
    for (const json& ts : row["samples_ts"]) EXPECT_GT(ts.get<double>(), 0.0);
    EXPECT_GT(row["mean_ts"].get<double>(), 0.0);
    EXPECT_GT(row["median_ts"].get<double>(), 0.0);
    EXPECT_GE(row["sd_ts"].get<double>(), 0.0);
  }
  EXPECT_EQ(j["rows"][0]["sha256"], j["rows"][1]["sha256"]);
}

TEST(BenchCliTest, BadFlagsAreOneLineErrors) {
  const std::vector<std::string> base = {"bench", "-m", kModel};
  struct Case {
    std::vector<std::string> extra;
    std::string code;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {{"-t", "4096"}, "invalid_argument", "-t 4096 is outside"},
      {{"-t", "-1"}, "invalid_argument", "-t -1 is outside"},
      {{"-t", "one"}, "invalid_argument", "-t \"one\""},
      {{"-p", "-8"}, "invalid_argument", "-p \"-8\""},
      {{"-p", "8,x"}, "invalid_argument", "-p \"x\""},
      {{"-n", "-1"}, "invalid_argument", "-n \"-1\""},
      {{"-r", "0"}, "invalid_argument", "-r \"0\""},
      {{"-r", "two"}, "invalid_argument", "-r \"two\""},
      {{"--warmup", "-1"}, "invalid_argument", "--warmup \"-1\""},
      {{"-p", "0", "-n", "0"}, "invalid_argument", "no test"},
      {{"-p", "100000"}, "out_of_range", "pp100000 needs n_ctx 100000"},
      {{"-p", "8", "-n", "255"}, "out_of_range", "tg255 needs n_ctx 257"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    SCOPED_TRACE(c.fragment);
    ExpectOneLineError(RunCli(args), c.code, c.fragment);
  }
}

TEST(BenchCliTest, MissingModelIsOneLineError) {
  ExpectOneLineError(RunCli({"bench", "-m", "/nonexistent/model.gguf", "-p", "8", "-n", "4"}),
                     "not_found", "/nonexistent/model.gguf");
  ExpectOneLineError(RunCli({"bench", "-m", kModel + ",", "-p", "8"}), "invalid_argument",
                     "empty file name");
}

TEST(RooflineCliTest, JsonHasPositiveFigures) {
  CliRun run = RunCli({"roofline", "-t", "1", "-r", "1", "--l2-kib", "64", "--l3-mib", "1",
                       "--dram-mib", "2", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json j = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << run.out;
  ASSERT_TRUE(j["probes"].is_array());
  ASSERT_GE(j["probes"].size(), 3u);  // three reads, plus FMA probes where AVX2/AVX-512 exist
  for (const json& p : j["probes"]) {
    SCOPED_TRACE(p.dump());
    EXPECT_EQ(p["threads"], 1);
    EXPECT_GT(p["median"].get<double>(), 0.0);
  }
}

TEST(RooflineCliTest, TooManyThreadsIsOneLineError) {
  CliRun run = RunCli({"roofline", "-t", "4096"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.rfind("tessera: invalid_argument: roofline: -t 4096 is outside", 0), 0u)
      << run.err;
}

}  // namespace
}  // namespace tessera
