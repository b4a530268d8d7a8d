// The rule router: keywords, regular expressions (package/safe_regex.h, linear time) and length
// bounds per route, declared in the policy (package/policy.h, "type": "rules").
//
// Matching. Unless case_sensitive, the request is ASCII-lower-cased first, and so are keywords
// (patterns are taken as written: write them in lower case). A rule matches when the request's
// length in code points is within [min_chars, max_chars] and (it has neither keywords nor
// patterns, or a keyword occurs as a whole word or phrase — not inside a longer word — or a
// pattern matches anywhere).
//   mode "first":  the first matching rule decides, confidence 1.
//   mode "scored": each matching rule adds its weight to its route; the best route decides
//                  when its lead over the second is at least min_margin (confidence: its share
//                  of the matched weight), else the router abstains (a tie).
// No rule matches: the default route when there is one (confidence 0), else abstain.
//
// Cost: one pass per keyword and one linear regex scan per pattern; no allocation beyond the
// lower-cased copy and the outcome. Thread safety: immutable after Compile.
#ifndef TESSERA_ORCHESTRATOR_RULE_ROUTER_H_
#define TESSERA_ORCHESTRATOR_RULE_ROUTER_H_

#include <string_view>
#include <vector>

#include "orchestrator/router_outcome.h"
#include "package/policy.h"
#include "package/safe_regex.h"
#include "tessera/status.h"

namespace tessera::orchestrator {

class RuleRouter {
 public:
  // Errors: a pattern that does not compile (the policy parser refuses those already).
  static Result<RuleRouter> Compile(const package::RouterSpec& spec);

  RouterOutcome Route(std::string_view request) const;

 private:
  struct CompiledRule {
    std::size_t index = 0;  // into spec_.rules
    std::vector<std::string> keywords;  // lower-cased unless case-sensitive
    std::vector<package::SafeRegex> patterns;
  };
  bool Matches(const CompiledRule& r, std::string_view text, std::size_t chars,
               std::string* why) const;

  package::RouterSpec spec_;
  std::vector<CompiledRule> rules_;
};

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_RULE_ROUTER_H_
