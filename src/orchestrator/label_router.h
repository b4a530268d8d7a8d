// The classifier router's decision: a model whose contract output is an enum is used by scoring
// every label (teacher-forced log-probability of the label's tokens + EOS after the request in
// the model's prompt template, Backend::ScoreLabels), never by free generation, so it can only
// pick a real label. The softmax over the labels is the confidence, the gap between the two
// most probable labels the margin.
//
//   top label abstained by the policy ("none"), probability >= threshold: out of domain;
//   top label mapped to a route, probability >= threshold, margin >= min_margin: that route;
//   otherwise (below the threshold, too close, or a label the policy does not map): abstain.
//
// The threshold is the policy's, or a calibrated one (calibration.h) passed in.
// Thread safety: a pure function.
#ifndef TESSERA_ORCHESTRATOR_LABEL_ROUTER_H_
#define TESSERA_ORCHESTRATOR_LABEL_ROUTER_H_

#include "orchestrator/backend.h"
#include "orchestrator/router_outcome.h"
#include "package/policy.h"

namespace tessera::orchestrator {

RouterOutcome DecideByLabels(const package::RouterSpec& spec, const LabelScores& scores,
                             double threshold);

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_LABEL_ROUTER_H_
