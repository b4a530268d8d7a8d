// The embedding router: exemplar utterances per label (shipped signed in the policy package,
// role "router-exemplars"), embedded once by the router's module (Backend::Embed: the mean of
// its final normed hidden states), compared with the request's embedding by cosine similarity.
//
// Decision: the top_k exemplars most similar to the request (ties: the earlier exemplar) vote
// for their labels with their similarities; the label with the largest sum wins (ties: the label
// whose best exemplar came first). Confidence: the similarity of the winner's nearest exemplar;
// margin: (winner's sum - runner-up's sum) / top_k.
//   confidence < threshold or margin < min_margin: abstain;
//   the winner is an abstained label ("none"): out of domain;   otherwise its route.
//
// Cost: one embedding per request and n_exemplars dot products of n_embd floats.
// Thread safety: immutable after Build; Route may be called from many threads.
#ifndef TESSERA_ORCHESTRATOR_EMBEDDING_ROUTER_H_
#define TESSERA_ORCHESTRATOR_EMBEDDING_ROUTER_H_

#include <span>
#include <string>
#include <vector>

#include "orchestrator/router_outcome.h"
#include "package/policy.h"
#include "tessera/status.h"

namespace tessera::orchestrator {

class EmbeddingIndex {
 public:
  // `vectors[i]` embeds `exemplars[i]`; all of one length >= 1 (kInvalidArgument otherwise,
  // and for a zero vector). Vectors are normalised here.
  static Result<EmbeddingIndex> Build(const package::RouterSpec& spec,
                                      std::vector<package::Exemplar> exemplars,
                                      std::vector<std::vector<float>> vectors);

  // `query`: the request's embedding (any norm). kInvalidArgument for a length mismatch or a
  // zero vector.
  Result<RouterOutcome> Route(std::span<const float> query) const;

  std::size_t size() const { return exemplars_.size(); }

 private:
  package::RouterSpec spec_;
  std::vector<package::Exemplar> exemplars_;
  std::vector<float> unit_;  // [n_exemplars, dim], rows of norm 1
  std::size_t dim_ = 0;
};

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_EMBEDDING_ROUTER_H_
