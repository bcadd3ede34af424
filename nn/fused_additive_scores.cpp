// nn/fused_additive_scores.cpp — additive_scores: the additive (Bahdanau) score of every (query, source) pair
// in one tape node, with its backward by hand. The reference it must agree with is additive_scores_reference
// (nn/attention.cpp), the same score op by op; tests/test_attention.cpp holds the two together (see
// nn/fused_additive_scores.h).
//
// Dimensions: B batch, Tq query steps, S source steps, A the score's inner size.
#include "nn/fused_additive_scores.h"

#include <cmath>
#include <vector>

namespace s2a {

void check_additive_scores_shapes(const char* op, const Var& qW1, const Var& kW2, const Var& v) {
    if (qW1.ndim() != 3 || kW2.ndim() != 3 || v.ndim() != 1 || qW1.dim(0) != kW2.dim(0) || qW1.dim(2) != v.dim(0) ||
        kW2.dim(2) != v.dim(0))
        shape_error(op, "needs qW1 (B, Tq, A), kW2 (B, S, A) and v (A)", {qW1.shape(), kW2.shape(), v.shape()});
}

// Forward, for every pair (b, t, s), with x = qW1[b, t] and y = kW2[b, s] (A numbers each):
//   hidden = tanh(x + y)                                       (A)  kept for backward
//   e      = v · hidden
// Backward, with de = d loss / d e[b, t, s] and g = de · v ⊙ (1 - hidden²)   (tanh' = 1 - tanh²):
//   dv         += de · hidden
//   dqW1[b, t] += g        summed over s: this query row took part in every pair (t, ·)
//   dkW2[b, s] += g        summed over t: this key row took part in every pair (·, s)
// A padded source position gets de = 0 exactly (the masked softmax passes it no gradient), so it is skipped.
//
// tanh(x) is computed as 1 - 2 / (e^{2x} + 1): the same number to within about one unit in the last place of 1
// (1e-16 in double) at the cost of one exp, cheaper than the C library's tanh; it runs B·Tq·S·A times.

namespace {

// e = v · tanh(x + y) for one pair; the A values of tanh go to `hidden`.
Real additive_pair(int A, const Real* x, const Real* y, const Real* v, Real* hidden) {
    Real e = 0;
    for (int a = 0; a < A; ++a) {
        hidden[a] = 1 - 2 / (std::exp(2 * (x[a] + y[a])) + 1);  // tanh(x + y)
        e += v[a] * hidden[a];
    }
    return e;
}

}  // namespace

Var additive_scores(const Var& qW1, const Var& kW2, const Var& v) {
    check_additive_scores_shapes("additive_scores", qW1, kW2, v);
    const int B = qW1.dim(0), Tq = qW1.dim(1), S = kW2.dim(1), A = v.dim(0);
    // hidden is kept only if backward will run; evaluation and decoding reuse one row (A) instead.
    const bool keep = grad_enabled() && (qW1.requires_grad() || kW2.requires_grad() || v.requires_grad());
    Tensor hidden(keep ? Shape{B, Tq, S, A} : Shape{A});  // (B, Tq, S, A): tanh(qW1[b, t] + kW2[b, s])
    Tensor e(Shape{B, Tq, S});                            // (B, Tq, S)
    const Real *x = qW1.value().ptr(), *y = kW2.value().ptr(), *pv = v.value().ptr();
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t)
            for (int s = 0; s < S; ++s) {
                const int64_t pair = (int64_t(b) * Tq + t) * S + s;
                e[pair] = additive_pair(A, x + (int64_t(b) * Tq + t) * A, y + (int64_t(b) * S + s) * A, pv,
                                        hidden.ptr() + (keep ? pair * A : 0));
            }
    return record("additive_scores", std::move(e), {qW1, kW2, v},
                  [qW1, kW2, v, hidden = std::move(hidden), B, Tq, S, A](Node& out) {
                      const Real *de = out.grad.ptr(), *v_val = v.value().ptr();
                      Real* dx = qW1.requires_grad() ? qW1.grad().ptr() : nullptr;  // (B, Tq, A)
                      Real* dy = kW2.requires_grad() ? kW2.grad().ptr() : nullptr;  // (B, S, A)
                      Real* dv = v.requires_grad() ? v.grad().ptr() : nullptr;      // (A)
                      std::vector<Real> g(A);  // d loss / d (x + y) for one pair
                      for (int b = 0; b < B; ++b)
                          for (int t = 0; t < Tq; ++t)
                              for (int s = 0; s < S; ++s) {
                                  const int64_t pair = (int64_t(b) * Tq + t) * S + s;
                                  const Real d = de[pair];
                                  if (d == 0) continue;
                                  const Real* h = hidden.ptr() + pair * A;
                                  for (int a = 0; a < A; ++a) g[a] = d * v_val[a] * (1 - h[a] * h[a]);
                                  if (dv)
                                      for (int a = 0; a < A; ++a) dv[a] += d * h[a];
                                  if (dx) {
                                      Real* row = dx + (int64_t(b) * Tq + t) * A;  // dqW1[b, t]
                                      for (int a = 0; a < A; ++a) row[a] += g[a];
                                  }
                                  if (dy) {
                                      Real* row = dy + (int64_t(b) * S + s) * A;  // dkW2[b, s]
                                      for (int a = 0; a < A; ++a) row[a] += g[a];
                                  }
                              }
                  });
}

}  // namespace s2a
