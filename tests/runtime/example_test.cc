// The worked example at the top of include/tessera/runtime.h, as code that runs.
#include <cstdio>
#include <string>

#include "runtime_fixture.h"

namespace tessera::testing {
namespace {

int Fail(const Status& s) {
  ADD_FAILURE() << s.ToString();
  return 1;
}

// Returns 0 on success, like a main(); `text` receives what was generated.
int Example(const std::string& home, std::string* text, Status* stale_status) {
  tessera::RuntimeOptions options;
  options.home = home;                                     // the registry (tessera install ...)
  options.budgets.host_bytes = 64'000'000;                 // modules + sessions, measured bytes
  options.budgets.max_active = 4;                          // K_active: modules resident at once
  options.budgets.max_parallel = 1;                        // K_parallel: modules generating at once
  options.on_event = [](const tessera::RuntimeEvent& e) {  // loads, evictions, refusals
    std::fprintf(stderr, "%s %s\n", std::string(e.kind_name()).c_str(), e.module.c_str());
  };
  auto runtime = tessera::Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  tessera::Runtime& rt = **runtime;

  // A lease on the package's current version, loaded (evicting idle modules) if needed and
  // unevictable until released. A plan that cannot fit fails here, before allocating.
  auto module = rt.Acquire("dev.test.skills.date");
  if (!module.ok()) return Fail(module.status());  // kResourceExhausted names why
  auto session = rt.OpenSession(*module);          // KV charged to the budget first
  if (!session.ok()) return Fail(session.status());
  if (auto s = rt.Release(*module); !s.ok()) return Fail(s);  // the session has its own lease
  tessera::GenerateOptions g;
  g.max_tokens = 16;
  auto out = rt.Generate(*session, "date: March 3, 2021\n", g,
                         [](const tessera::TokenEvent& t) {  // streamed as generated
                           std::fwrite(t.text.data(), 1, t.text.size(), stdout);
                           return true;  // false cancels
                         });
  if (!out.ok()) return Fail(out.status());                         // out->text == "2021-03-03"
  if (auto s = rt.CloseSession(*session); !s.ok()) return Fail(s);  // frees KV, the lease
  auto stale = rt.Generate(*session, "date: 1/2/2003\n", g);        // kFailedPrecondition: stale

  *text = out->text;
  *stale_status = stale.status();
  return 0;
}

TEST_F(RuntimeTest, TheHeaderExampleRuns) {
  std::string text;
  Status stale;
  ASSERT_EQ(Example(home_, &text, &stale), 0);
  EXPECT_EQ(text, "2021-03-03");
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
}

TEST_F(RuntimeTest, ACancellationTokenStopsGeneration) {
  std::unique_ptr<Runtime> rt = Open();
  Result<ModuleHandle> m = rt->Acquire("dev.test.skills.date");
  ASSERT_TRUE(m.ok());
  Result<SessionHandle> s = rt->OpenSession(*m);
  ASSERT_TRUE(s.ok());
  CancellationToken cancel;
  GenerateOptions g;
  g.max_tokens = 16;
  int seen = 0;
  Result<GenerateResult> r = rt->Generate(
      *s, "date: March 3, 2021\n", g,
      [&](const TokenEvent&) {
        if (++seen == 3) cancel.Cancel();
        return true;
      },
      &cancel);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stop_reason, StopReason::kCancelled);
  EXPECT_LE(r->tokens.size(), 4u);
}

}  // namespace
}  // namespace tessera::testing
