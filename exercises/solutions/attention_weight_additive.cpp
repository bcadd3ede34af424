// exercises/attention_weight_additive.cpp — exercise: the backward of the additive (Bahdanau) score, the op at
// the heart of AttentionWeight with Score::Additive.
//
// Lesson: docs/ch3_attention.md. Grade it: make exercise EX=attention_weight_additive. The library's own:
// additive_scores in nn/fused_additive_scores.cpp, inside AttentionWeight (nn/attention.cpp).
//
// Dimensions: B batch, Tq query steps, S source steps, Hq query size, Hk source size, A the score's inner size.
//
// The layer (given, at the bottom): project the queries and the source once, score every pair, masked softmax:
//   qW1 = q W₁ (B, Tq, A),   kW2 = hs W₂ (B, S, A),   e = additive_scores(qW1, kW2, v),   a = softmax(e, mask)
// The score op, for every pair (b, t, s), with x = qW1[b, t] and y = kW2[b, s] (A numbers each):
//   forward (given):   hidden = tanh(x + y)   (A, saved for backward),     e[b, t, s] = v · hidden
//   backward (yours), with de = d loss / d e[b, t, s] and tanh'(z) = 1 - tanh(z)²:
//     g           = de · v ⊙ (1 - hidden²)       d loss / d (x + y) for this pair (A)
//     dv         += de · hidden
//     dqW1[b, t] += g                             summed over s: query row t took part in every pair (t, ·)
//     dkW2[b, s] += g                             summed over t: key row s took part in every pair (·, s)
// The gradients of q, hs, W₁ and W₂ follow from these through the given matmuls.
#include <cmath>
#include <vector>

#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Var additive_scores(const Var& qW1, const Var& kW2, const Var& v) {
    if (qW1.ndim() != 3 || kW2.ndim() != 3 || v.ndim() != 1 || qW1.dim(0) != kW2.dim(0) || qW1.dim(2) != v.dim(0) ||
        kW2.dim(2) != v.dim(0))
        shape_error("additive_scores", "needs qW1 (B, Tq, A), kW2 (B, S, A) and v (A)", {qW1.shape(), kW2.shape(), v.shape()});
    const int B = qW1.dim(0), Tq = qW1.dim(1), S = kW2.dim(1), A = v.dim(0);
    Tensor hidden(Shape{B, Tq, S, A});  // (B, Tq, S, A): tanh(qW1[b, t] + kW2[b, s]), saved for backward
    Tensor e(Shape{B, Tq, S});          // (B, Tq, S)
    const Real *x = qW1.value().ptr(), *y = kW2.value().ptr(), *pv = v.value().ptr();
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t)
            for (int s = 0; s < S; ++s) {
                const int64_t pair = (int64_t(b) * Tq + t) * S + s;  // [b, t, s]
                for (int k = 0; k < A; ++k) {
                    hidden[pair * A + k] = std::tanh(x[(int64_t(b) * Tq + t) * A + k] + y[(int64_t(b) * S + s) * A + k]);
                    e[pair] += pv[k] * hidden[pair * A + k];
                }
            }
    return record("additive_scores", std::move(e), {qW1, kW2, v},
                  [qW1, kW2, v, hidden = std::move(hidden), B, Tq, S, A](Node& out) {
                      const Real* de = out.grad.ptr();                                 // (B, Tq, S): d loss / d e
                      const Real* pv = v.value().ptr();                                // (A)
                      Real* dx = qW1.requires_grad() ? qW1.grad().ptr() : nullptr;     // (B, Tq, A), to add into
                      Real* dy = kW2.requires_grad() ? kW2.grad().ptr() : nullptr;     // (B, S, A), to add into
                      Real* dv = v.requires_grad() ? v.grad().ptr() : nullptr;         // (A), to add into
                      std::vector<Real> g(A);                                          // d loss / d (x + y) for one pair
                      for (int b = 0; b < B; ++b)
                          for (int t = 0; t < Tq; ++t)
                              for (int s = 0; s < S; ++s) {
                                  const int64_t pair = (int64_t(b) * Tq + t) * S + s;
                                  const Real* h = hidden.ptr() + pair * A;  // hidden[b, t, s, :]
                                  for (int k = 0; k < A; ++k) g[k] = de[pair] * pv[k] * (1 - h[k] * h[k]);
                                  for (int k = 0; k < A; ++k) {
                                      if (dv) dv[k] += de[pair] * h[k];
                                      if (dx) dx[(int64_t(b) * Tq + t) * A + k] += g[k];
                                      if (dy) dy[(int64_t(b) * S + s) * A + k] += g[k];
                                  }
                              }
                  });
}

// AttentionWeight's additive score, written with the op above: a (B, Tq, S).
Var attention_weight_additive(const Var& q, const Var& hs, const Var& W1, const Var& W2, const Var& v, const Tensor& mask) {
    const int B = q.dim(0), S = hs.dim(1);
    if (mask.shape != Shape{B, S})
        shape_error("attention_weight_additive", "the mask must be (B, S)", {mask.shape, q.shape(), hs.shape()});
    const Var e = additive_scores(matmul(q, W1), matmul(hs, W2), v);  // (B, Tq, A), (B, S, A), (A) → (B, Tq, S)
    Tensor mask3 = mask;
    mask3.shape = Shape{B, 1, S};  // one mask row serves every query step of its sentence
    return softmax(e, mask3);      // (B, Tq, S), exactly 0 at padded positions
}

}  // namespace s2a::exercise
