#include "orchestrator/rule_router.h"

#include <algorithm>
#include <map>
#include <string>

#include "base/ascii.h"

namespace tessera::orchestrator {
namespace {

bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || u >= 0x80;
}

// `phrase` occurs in `text` with no word character right before or after it.
bool ContainsWord(std::string_view text, std::string_view phrase) {
  for (std::size_t at = text.find(phrase); at != std::string_view::npos;
       at = text.find(phrase, at + 1)) {
    const bool starts = at == 0 || !IsWordByte(text[at - 1]) || !IsWordByte(phrase.front());
    const std::size_t end = at + phrase.size();
    const bool ends = end == text.size() || !IsWordByte(text[end]) || !IsWordByte(phrase.back());
    if (starts && ends) return true;
  }
  return false;
}

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kRoute:
      return "route";
    case Verdict::kOutOfDomain:
      return "out_of_domain";
    case Verdict::kAbstain:
      return "abstain";
    case Verdict::kError:
      return "error";
  }
  return "abstain";
}

Result<RuleRouter> RuleRouter::Compile(const package::RouterSpec& spec) {
  RuleRouter router;
  router.spec_ = spec;
  for (std::size_t i = 0; i < spec.rules.size(); ++i) {
    const package::Rule& rule = spec.rules[i];
    CompiledRule c;
    c.index = i;
    for (const std::string& k : rule.keywords) {
      c.keywords.push_back(spec.case_sensitive ? k : base::AsciiLower(k));
    }
    for (const std::string& p : rule.patterns) {
      TS_ASSIGN_OR_RETURN(package::SafeRegex re, package::SafeRegex::Compile(p));
      c.patterns.push_back(std::move(re));
    }
    router.rules_.push_back(std::move(c));
  }
  return router;
}

bool RuleRouter::Matches(const CompiledRule& r, std::string_view text, std::size_t chars,
                         std::string* why) const {
  const package::Rule& rule = spec_.rules[r.index];
  if (chars < rule.min_chars || (rule.max_chars != 0 && chars > rule.max_chars)) return false;
  if (r.keywords.empty() && r.patterns.empty()) {
    *why = "length " + std::to_string(chars);
    return true;
  }
  for (const std::string& k : r.keywords) {
    if (ContainsWord(text, k)) {
      *why = "keyword \"" + k + "\"";
      return true;
    }
  }
  for (std::size_t i = 0; i < r.patterns.size(); ++i) {
    if (r.patterns[i].Search(text)) {
      *why = "pattern " + rule.patterns[i];
      return true;
    }
  }
  return false;
}

RouterOutcome RuleRouter::Route(std::string_view request) const {
  RouterOutcome out;
  out.router = spec_.name;
  out.type = "rules";
  out.threshold = spec_.min_margin;
  const std::string lowered = spec_.case_sensitive ? std::string() : base::AsciiLower(request);
  const std::string_view text = spec_.case_sensitive ? request : std::string_view(lowered);
  const std::size_t chars = CodePoints(request);
  std::map<std::string, double> weight;  // by route
  std::map<std::string, std::string> first_why;
  double total = 0;
  for (const CompiledRule& r : rules_) {
    std::string why;
    if (!Matches(r, text, chars, &why)) continue;
    const package::Rule& rule = spec_.rules[r.index];
    if (spec_.mode == package::RuleMode::kFirst) {
      out.verdict = Verdict::kRoute;
      out.route = rule.route;
      out.label = "rule " + std::to_string(r.index);
      out.confidence = 1;
      out.margin = 1;
      out.scores = {{rule.route, rule.weight}};
      out.reason = "rule " + std::to_string(r.index) + " (" + why + ") routes to " + rule.route;
      return out;
    }
    weight[rule.route] += rule.weight;
    total += rule.weight;
    first_why.emplace(rule.route, "rule " + std::to_string(r.index) + " (" + why + ")");
  }
  for (const auto& [route, w] : weight) out.scores.push_back({route, w});
  std::stable_sort(out.scores.begin(), out.scores.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.scores.empty()) {
    if (!spec_.default_route.empty()) {
      out.verdict = Verdict::kRoute;
      out.route = spec_.default_route;
      out.reason = "no rule matched: the default route " + spec_.default_route;
    } else {
      out.verdict = Verdict::kAbstain;
      out.reason = "no rule matched";
    }
    return out;
  }
  const auto& [best, best_weight] = out.scores.front();
  const double second = out.scores.size() > 1 ? out.scores[1].second : 0.0;
  out.margin = best_weight - second;
  out.confidence = best_weight / total;
  out.label = best;
  if (out.scores.size() > 1 && (out.margin <= 0 || out.margin < spec_.min_margin)) {
    out.verdict = Verdict::kAbstain;
    out.reason = "rules disagree: " + best + " (" + std::to_string(best_weight) + ") and " +
                 out.scores[1].first + " (" + std::to_string(second) + "), margin below " +
                 std::to_string(spec_.min_margin);
    return out;
  }
  out.verdict = Verdict::kRoute;
  out.route = best;
  out.reason = first_why[best] + " routes to " + best;
  return out;
}

}  // namespace tessera::orchestrator
