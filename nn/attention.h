// nn/attention.h — attention: score every source position against a query, softmax, weighted sum.
//
// Dimensions:
//   B    batch
//   Tq   query steps: the decoder steps that ask "where in the source should I look?"
//   S    source steps: the encoder states hs that are looked at
//   Hq   size of a query vector (the decoder's hidden size)
//   Hk   size of a source vector (the encoder's hidden size); H when Hq = Hk
//   A    inner size of the additive (Bahdanau) score
//
// Attention in three steps, for one query h (Hq) and the source states hs₁ … hs_S (Hk each):
//   eᵢ = score(h, hsᵢ)                    how well source position i fits this query      (S numbers)
//   aᵢ = exp(eᵢ) / Σⱼ exp(eⱼ)             the softmax turns scores into weights ≥ 0 summing to 1
//   c  = Σᵢ aᵢ hsᵢ                         the context: a weighted average of the source   (Hk)
// AttentionWeight does the first two steps, WeightSum the third, Attention both.
//
// The four score functions compared in the chapters (W, W₁, W₂, v, p, q, r are learned; vectors are rows,
// as in Linear's x · W, so h W₁ is a vector of size A):
//   dot       h · hsᵢ                       Luong et al. 2015; no parameters, needs Hq = Hk
//   general   h W · hsᵢ                     Luong; W (Hq, Hk) lets the two sides live in different spaces
//   additive  v · tanh(h W₁ + hsᵢ W₂)       Bahdanau et al. 2015; a one-hidden-layer network of size A
//   concat    σ(h · p + hsᵢ · q + r)        a per-position sigmoid gate, then the same softmax as the others.
//             Its score is bounded in (0, 1), so exp(e) only ranges over [1, e]: the softmax can only be
//             mildly peaked (over S positions, no weight exceeds e / (e + S - 1)). Comparing it with the
//             unbounded scores shows why attention wants scores that can grow: to look at one word sharply.
//
// Padding: a batch holds sentences of different lengths, padded to S. A mask (B, S) marks real tokens 1
// and padding 0; padded positions get exactly 0 weight (the masked softmax skips them), so they add
// nothing to the context and receive exactly 0 gradient. A row with no real token gets all-zero weights.
//
// "Time-distributed" attention: queries come as (B, Tq, Hq), so one call serves every decoder step at once.
//   Luong wiring:    run the decoder over the whole target first, then attend with all Tq states in one call
//                    (a few large matrix products: fast in training).
//   Bahdanau wiring: the context feeds the next decoder step, so attention is called once per step with
//                    Tq = 1: q (B, 1, Hq) → c (B, 1, Hk).
// Both are the same code; only the caller's loop differs.
//
// Keys: the part of a score that depends on the source alone is the same for every query, so it is computed
// once: keys(hs) (B, S, K) is hs itself for dot, hs Wᵀ for general (h W · hsᵢ = h · hsᵢ Wᵀ), hs W₂ for
// additive, hs · q for concat. forward(q, hs, mask) does keys(hs) then forward_with_keys. In the Bahdanau
// wiring, compute keys once per batch before the decoder loop and call forward_with_keys at every step:
// otherwise each step repeats the (B·S, Hk) · (Hk, A) product, the largest in the layer (Bahdanau et al.
// note the same: U_a h_j does not depend on the decoder step and can be precomputed).
#pragma once

#include <string>
#include <vector>

#include "autodiff/tape.h"
#include "nn/module.h"

namespace s2a {

enum class Score { Dot, General, Additive, Concat };

// "dot", "general", "additive", "concat" → Score; anything else throws std::invalid_argument listing those.
Score parse_score(const std::string& name);
// Score → its name as parse_score reads it.
const char* score_name(Score score);

// The additive scores of every (query, source) pair, op by op:
//   e[b, t, s] = v · tanh(qW1[b, t] + kW2[b, s])          qW1 (B, Tq, A), kW2 (B, S, A), v (A) → e (B, Tq, S)
// as a broadcast add (B, Tq, 1, A) + (B, 1, S, A), tanh, and a product with v: easy to read, but slower and
// hungrier, since each op keeps its own (B, Tq, S, A) tensors. AttentionWeight runs the fused
// additive_scores (nn/fused_additive_scores.h) instead; this is the reference the tests hold it to.
Var additive_scores_reference(const Var& qW1, const Var& kW2, const Var& v);

// A padding mask (B, S) from the real lengths of B sentences: row b is lengths[b] ones, then zeros.
// Throws std::invalid_argument if a length is outside [0, S].
Tensor lengths_mask(const std::vector<int>& lengths, int S);

// The attention weights a (B, Tq, S): softmax over source positions of score(query, source).
class AttentionWeight : public Module {
  public:
    // Parameters by score: dot none; general "W" (Hq, Hk); additive "W1" (Hq, A), "W2" (Hk, A), "v" (A);
    // concat "p" (Hq), "q" (Hk), "r" (). A = 0 means A = Hk. Throws std::invalid_argument on bad sizes
    // (and for dot when Hq ≠ Hk).
    AttentionWeight(Score score, int Hq, int Hk, Rng& rng, int A = 0);

    // q (B, Tq, Hq), hs (B, S, Hk), mask nullptr or (B, S) with 1 = real token, 0 = padding → a (B, Tq, S).
    // Throws ShapeError naming "AttentionWeight" and the shapes when they do not fit.
    Var forward(const Var& q, const Var& hs, const Tensor* mask) const;

    // The source side of the score, computed once for all queries: hs (B, S, Hk) → keys (B, S, key_size()).
    Var keys(const Var& hs) const;
    // forward with the keys computed beforehand: q (B, Tq, Hq), keys (B, S, key_size()), mask → a (B, Tq, S).
    Var forward_with_keys(const Var& q, const Var& keys, const Tensor* mask) const;

    Score score() const { return score_; }
    int query_size() const { return Hq_; }
    int source_size() const { return Hk_; }
    int additive_size() const { return A_; }
    int key_size() const;  // K: Hk for dot, Hq for general, A for additive, 1 for concat

  private:
    Score score_;
    int Hq_, Hk_, A_;
    Var W_;            // general:  (Hq, Hk)
    Var W1_, W2_, v_;  // additive: (Hq, A), (Hk, A), (A)
    Var p_, q_, r_;    // concat:   (Hq), (Hk), ()
};

// The context c (B, Tq, H): cₜ = Σₛ aₜₛ hsₛ, every query's weighted average of the source in one bmm.
class WeightSum : public Module {
  public:
    // a (B, Tq, S), hs (B, S, H) → c (B, Tq, H). Throws ShapeError naming "WeightSum" when they do not fit.
    Var forward(const Var& a, const Var& hs) const;
};

// AttentionWeight then WeightSum: queries and source states in, contexts out. Children "weight", "weight_sum".
class Attention : public Module {
  public:
    Attention(Score score, int Hq, int Hk, Rng& rng, int A = 0);

    // q (B, Tq, Hq), hs (B, S, Hk), mask nullptr or (B, S) → c (B, Tq, Hk).
    // Keeps a copy of the weights it used, for display (heat maps of what the decoder looked at).
    Var forward(const Var& q, const Var& hs, const Tensor* mask);
    // The same with keys = weight.keys(hs) computed beforehand (once per batch, in the Bahdanau wiring).
    Var forward_with_keys(const Var& q, const Var& hs, const Var& keys, const Tensor* mask);

    // The weights a (B, Tq, S) of the last forward; empty before the first.
    const Tensor& last_weights() const { return last_weights_; }

    AttentionWeight weight;
    WeightSum weight_sum;

  private:
    Tensor last_weights_;  // (B, Tq, S)
};

}  // namespace s2a
