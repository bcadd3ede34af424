// nn/fused_additive_scores.h — the fused additive (Bahdanau) score: every (query, source) pair's score in one
// tape node, with its backward by hand. It is the fast path of AttentionWeight's additive score
// (nn/attention.h).
//
// Its op-by-op reference is additive_scores_reference in nn/attention.cpp (broadcast add, tanh, product with
// v). tests/test_attention.cpp holds the two to the same values and gradients (to 1e-12, in double) and
// gradient-checks the fused op; `make gradcheck` lists them as a pair. (Every fused kernel lives in a file
// nn/fused_<what it fuses>, apart from the readable layer, and names its reference like this.)
//
// Dimensions: B batch, Tq query steps, S source steps, A the score's inner size.
#pragma once

#include "autodiff/tape.h"

namespace s2a {

// The additive scores of every (query, source) pair, fused into one op (one pass, one saved buffer):
//   e[b, t, s] = v · tanh(qW1[b, t] + kW2[b, s])          qW1 (B, Tq, A), kW2 (B, S, A), v (A) → e (B, Tq, S)
Var additive_scores(const Var& qW1, const Var& kW2, const Var& v);

// Throws ShapeError naming op unless qW1 is (B, Tq, A), kW2 (B, S, A) and v (A): the shapes that both
// additive_scores and its reference accept.
void check_additive_scores_shapes(const char* op, const Var& qW1, const Var& kW2, const Var& v);

}  // namespace s2a
