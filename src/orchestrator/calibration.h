// Calibration of a module's confidence threshold on its eval set (`tessera calibrate`): every
// case is answered under the contract and scored (its confidence measure, and whether the
// answer was exactly right); the threshold is the lowest confidence at which the answers the
// module would accept are right at least `target` of the time. The accuracy/coverage curve
// comes with it, so that a person can see what the threshold costs.
//
// Accepting means: the answer is valid (passed its type) and its confidence >= threshold.
// Invalid answers are never accepted: they count as answered wrongly with confidence -inf.
//
// Thread safety: pure functions.
#ifndef TESSERA_ORCHESTRATOR_CALIBRATION_H_
#define TESSERA_ORCHESTRATOR_CALIBRATION_H_

#include <cstdint>
#include <vector>

namespace tessera::orchestrator {

struct ScoredCase {
  double confidence = 0;  // the module's measure; ignored when !valid
  bool valid = false;
  bool correct = false;
};

struct CurvePoint {
  double threshold = 0;
  double coverage = 0;  // share of all cases accepted at this threshold
  double accuracy = 0;  // share of the accepted that are correct (1 when none is accepted)
};

struct Calibration {
  double target = 0;
  double threshold = 0;      // accept when confidence >= threshold
  bool reached = false;      // false: no threshold reaches the target; the threshold accepts
                             // only the single most confident answer (near-zero coverage)
  double coverage = 0;       // at the threshold
  double accuracy = 0;       // at the threshold
  double accuracy_all = 0;   // of every valid answer (threshold -inf)
  std::uint64_t cases = 0;
  std::vector<CurvePoint> curve;  // at most max_points, thresholds descending
};

// `target` in (0, 1]. Among the thresholds that reach the target the lowest (most coverage)
// wins. No case: reached false, threshold 0.
Calibration Calibrate(const std::vector<ScoredCase>& cases, double target,
                      std::size_t max_points = 41);

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_CALIBRATION_H_
