// Hostile inputs to the commands that read files (issue 17): GGUF strings that are not UTF-8 or
// hold terminal escapes, FIFOs given where a file is expected, and JSONL request lines that are
// truncated, not UTF-8, hold a lone surrogate or repeat a member. No command may abort, hang or
// pass control characters to the terminal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run_cli.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

const std::string kModel = std::string(TESSERA_SOURCE_DIR) + "/models/tiny/tiny-random.gguf";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "hostile-" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The tiny model with `find` replaced by `replace` (same length: offsets stay valid).
std::string PatchedModel(const std::string& name, const std::string& find,
                         const std::string& replace) {
  EXPECT_EQ(find.size(), replace.size());
  std::string bytes = ReadAll(kModel);
  const std::size_t at = bytes.find(find);
  EXPECT_NE(at, std::string::npos) << find;
  if (at != std::string::npos) bytes.replace(at, find.size(), replace);
  return WriteTemp(name, bytes);
}

bool HasTerminalControl(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\n') || u == 0x7f;
  });
}

// general.name "tessera-tiny-random" (19 bytes) becomes 0xFF, an ESC sequence, BEL and a
// right-to-left override.
const std::string kHostileName = std::string("t\xFF\x1b[31mX\a\xE2\x80\xAE") + "evil123";

TEST(HostileInputTest, InspectEscapesInvalidUtf8AndControlsInStrings) {
  const std::string path = PatchedModel("name.gguf", "tessera-tiny-random", kHostileName);
  CliRun text = RunCli({"inspect", path});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_FALSE(HasTerminalControl(text.out));
  EXPECT_NE(text.out.find("\"t\\xFF\\x1B[31mX\\x07\\u{202E}evil123\""), std::string::npos)
      << text.out.substr(0, 600);

  CliRun json = RunCli({"inspect", path, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;  // was: abort on nlohmann type_error.316
  EXPECT_FALSE(HasTerminalControl(json.out));
  nlohmann::json j = nlohmann::json::parse(json.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << json.out.substr(0, 300);
  EXPECT_EQ(j["metadata"]["general.name"].get<std::string>().rfind("t\xEF\xBF\xBD", 0), 0u)
      << "the bad byte is U+FFFD in JSON";
}

TEST(HostileInputTest, InspectSurvivesAVocabularyTokenThatIsNotUtf8) {
  // "<unk>" is token 0's piece; 0xFF in it is not UTF-8.
  const std::string path = PatchedModel("vocab.gguf", "<unk>", "<u\xFFk>");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--json", "--full"}}) {
    std::vector<std::string> args = {"inspect", path};
    args.insert(args.end(), extra.begin(), extra.end());
    CliRun r = RunCli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(HasTerminalControl(r.out));
  }
}

TEST(HostileInputTest, FileArgumentsThatAreFifosAreRefusedAtOnce) {
  const std::string fifo = ::testing::TempDir() + "hostile.fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<std::vector<std::string>> commands = {
      {"inspect", fifo},
      {"tokenize", "-m", fifo, "-p", "x"},
      {"generate", "-m", fifo, "-p", "x", "-n", "1"},
      {"facts", fifo},
  };
  for (const std::vector<std::string>& args : commands) {
    SCOPED_TRACE(args[0]);
    // A command that blocks (the defect) is released by a writer after 10 s and then fails
    // the time check instead of hanging the suite.
    bool done = false;
    std::thread rescuer([&] {
      for (int i = 0; i < 100 && !__atomic_load_n(&done, __ATOMIC_SEQ_CST); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0) ::close(w);
    });
    const auto start = std::chrono::steady_clock::now();
    CliRun r = RunCli(args);
    const auto took = std::chrono::steady_clock::now() - start;
    __atomic_store_n(&done, true, __ATOMIC_SEQ_CST);
    rescuer.join();
    EXPECT_LT(took, std::chrono::seconds(5));
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("is a FIFO, not a regular file"), std::string::npos) << r.err;
  }
  ::unlink(fifo.c_str());
}

TEST(HostileInputTest, ErrorMessagesNeverCarryControlCharacters) {
  // A path with an ESC sequence and a bidi override, echoed by the not-found error.
  CliRun r = RunCli({"inspect", "/nonexistent/\x1b]0;owned\a\xE2\x80\xAE.gguf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(HasTerminalControl(r.err.substr(0, r.err.size() - 1))) << r.err;
  EXPECT_NE(r.err.find("\\x1B]0;owned\\x07\\u{202E}"), std::string::npos) << r.err;
}

struct BadLine {
  std::string name;
  std::string line;
  std::string expect;  // in the error message
};

TEST(HostileInputTest, BatchLinesSayWhatIsWrongWithThem) {
  const std::vector<BadLine> cases = {
      {"truncated", R"({"package": "dev.x.y", "prompt": "a")", "unexpected end of input"},
      {"cut_in_a_string", R"({"package": "dev.x.y", "prom)", "missing closing quote"},
      {"not_utf8", "{\"package\": \"dev.x.y\", \"prompt\": \"a\xFF\"}", "ill-formed UTF-8"},
      {"lone_surrogate", R"({"package": "dev.x.y", "prompt": "\ud800"})", "surrogate"},
      {"duplicate", R"({"package": "dev.x.y", "prompt": "a", "prompt": "b"})",
       "member /prompt occurs twice"},
      {"array", R"(["dev.x.y", "a"])", "not a JSON object"},
  };
  const std::string home = ::testing::TempDir() + "hostile-batch-home";
  for (const BadLine& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = WriteTemp(c.name + ".jsonl", "\n" + c.line + "\n");
    CliRun run = RunCli({"run", "--batch", file, "--home", home});
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_NE(run.err.find(file + ":2"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(c.expect), std::string::npos) << run.err;
    EXPECT_FALSE(HasTerminalControl(run.err.substr(0, run.err.size() - 1))) << run.err;
    std::string ask_line = c.line;
    const std::size_t at = ask_line.find("\"package\": \"dev.x.y\", ");
    if (at != std::string::npos) ask_line.erase(at, 22);
    const std::string ask_file = WriteTemp(c.name + ".ask.jsonl", ask_line + "\n");
    CliRun ask = RunCli({"ask", "--batch", ask_file, "--home", home});
    EXPECT_EQ(ask.exit_code, 1) << ask.err;
    EXPECT_NE(ask.err.find(c.expect), std::string::npos) << ask.err;
  }
}

}  // namespace
}  // namespace tessera
