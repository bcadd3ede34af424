// exercises/attention_weight_dot.cpp — exercise: the backward of AttentionWeight with the dot score, fused into
// one op: the scores and the masked softmax over the source positions.
//
// Lesson: docs/ch3_attention.md. Grade it: make exercise EX=attention_weight_dot. The library's own:
// AttentionWeight in nn/attention.cpp (Score::Dot: a bmm, then softmax(e, mask), each with its own backward).
//
// Dimensions: B batch, Tq query steps, S source steps, H the size of a query and of a source vector.
//
// Forward (given), for query step t of sentence b, with m[b, s] = 1 for a real source token and 0 for padding:
//   e[b, t, s] = q[b, t] · hs[b, s]                       e_b = q_b · hs_bᵀ   (Tq, H) · (H, S)
//   a[b, t, :] = softmax(e[b, t, :]) over the kept s      (padding gets a = 0; a sentence of padding only, all 0)
// Backward (yours), with da = d loss / d a (B, Tq, S), in two steps:
//   1. through the softmax, one row (b, t) of S at a time (the masked_softmax exercise):
//        de[b, t, s] = a[b, t, s] (da[b, t, s] - Σⱼ da[b, t, j] a[b, t, j])
//   2. through the dot products, each the forward's product with the other factor transposed:
//        dq[b, t]  += Σₛ de[b, t, s] hs[b, s]             dq_b  = de_b · hs_b     (Tq, S) · (S, H)
//        dhs[b, s] += Σₜ de[b, t, s] q[b, t]              dhs_b = de_bᵀ · q_b     (S, Tq) · (Tq, H)
// Backward ADDS (+=) into q's and hs's gradients.
#include <algorithm>
#include <vector>

#include "autodiff/kernels.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Var attention_weight_dot(const Var& q, const Var& hs, const Tensor& mask) {
    if (q.ndim() != 3 || hs.ndim() != 3 || q.dim(0) != hs.dim(0) || q.dim(2) != hs.dim(2) ||
        mask.shape != Shape{hs.dim(0), hs.dim(1)})
        shape_error("attention_weight_dot", "needs q (B, Tq, H), hs (B, S, H) and a mask (B, S)", {q.shape(), hs.shape(), mask.shape});
    const int B = q.dim(0), Tq = q.dim(1), S = hs.dim(1), H = q.dim(2);
    Tensor a(Shape{B, Tq, S});  // (B, Tq, S): first the scores e, then, row by row in place, the weights
    const Real *pq = q.value().ptr(), *phs = hs.value().ptr();
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t) {
            Real* row = a.ptr() + (int64_t(b) * Tq + t) * S;  // a[b, t, :]
            for (int s = 0; s < S; ++s)
                for (int h = 0; h < H; ++h) row[s] += pq[(int64_t(b) * Tq + t) * H + h] * phs[(int64_t(b) * S + s) * H + h];
            softmax_row(row, mask.ptr() + int64_t(b) * S, 1, row, S);  // mask[b, :] serves every query step t
        }
    return record("attention_weight_dot", std::move(a), {q, hs}, [q, hs, B, Tq, S, H](Node& out) {
        const Real* a = out.value.ptr();                               // (B, Tq, S): the saved weights
        const Real* da = out.grad.ptr();                               // (B, Tq, S): d loss / d a
        const Real *pq = q.value().ptr(), *phs = hs.value().ptr();     // (B, Tq, H), (B, S, H)
        Real* dq = q.requires_grad() ? q.grad().ptr() : nullptr;       // (B, Tq, H), to add into
        Real* dhs = hs.requires_grad() ? hs.grad().ptr() : nullptr;    // (B, S, H), to add into
        // TODO: for every row (b, t), starting at (b·Tq + t)·S in a and da:
        //   1. de (S values) = a ⊙ (da - Σⱼ daⱼ aⱼ): your masked_softmax backward, or softmax_row_backward from
        //      autodiff/kernels.h (it ADDS into its output: start de at 0);
        //   2. for every s and h:  dq[b, t, h] += de[s] · hs[b, s, h],   dhs[b, s, h] += de[s] · q[b, t, h].
        // Element [b, t, h] of q is at (b·Tq + t)·H + h, [b, s, h] of hs at (b·S + s)·H + h.
    });
}

}  // namespace s2a::exercise
