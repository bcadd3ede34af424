// exercises/weight_sum.cpp — exercise: the backward of WeightSum, the context as a weighted sum of the source.
//
// Lesson: docs/ch3_attention.md. Grade it: make exercise EX=weight_sum. The library's own: WeightSum in
// nn/attention.cpp (one bmm, whose backward is matmul_backward in autodiff/ops_linalg.cpp).
//
// Dimensions: B batch, Tq query steps, S source steps, H the size of a source vector.
//
// Forward (given): every query step t of sentence b averages the source states with its weights:
//   c[b, t, h] = Σₛ a[b, t, s] hs[b, s, h]               a (B, Tq, S), hs (B, S, H) → c (B, Tq, H)
// i.e. per sentence the matrix product c_b = a_b · hs_b, (Tq, S) · (S, H).
// Backward (yours), with dc = d loss / d c (B, Tq, H):
//   da[b, t, s]  = Σₕ dc[b, t, h] hs[b, s, h]            da_b  = dc_b · hs_bᵀ   (Tq, H) · (H, S)
//   dhs[b, s, h] = Σₜ a[b, t, s] dc[b, t, h]             dhs_b = a_bᵀ · dc_b    (S, Tq) · (Tq, H)
// Each is the forward's product with the other factor transposed. hs[b, s] was read by every query step t,
// so its gradient sums over t; a[b, t, s] met hs[b, s] in H products, so its gradient sums over h.
// Backward ADDS (+=) into a's and hs's gradients: either may be used elsewhere too.
#include "exercises/exercise.h"

namespace s2a::exercise {

Var weight_sum(const Var& a, const Var& hs) {
    if (a.ndim() != 3 || hs.ndim() != 3 || a.dim(0) != hs.dim(0) || a.dim(2) != hs.dim(1))
        shape_error("weight_sum", "needs a (B, Tq, S) and hs (B, S, H) with the same B and S", {a.shape(), hs.shape()});
    const int B = a.dim(0), Tq = a.dim(1), S = a.dim(2), H = hs.dim(2);
    Tensor c(Shape{B, Tq, H});  // (B, Tq, H), zeros to sum into
    const Real *pa = a.value().ptr(), *phs = hs.value().ptr();
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t)
            for (int s = 0; s < S; ++s) {
                const Real w = pa[(int64_t(b) * Tq + t) * S + s];  // a[b, t, s]
                for (int h = 0; h < H; ++h) c[(int64_t(b) * Tq + t) * H + h] += w * phs[(int64_t(b) * S + s) * H + h];
            }
    return record("weight_sum", std::move(c), {a, hs}, [a, hs, B, Tq, S, H](Node& out) {
        const Real* dc = out.grad.ptr();                                // (B, Tq, H): d loss / d c
        const Real *pa = a.value().ptr(), *phs = hs.value().ptr();      // (B, Tq, S), (B, S, H)
        Real* da = a.requires_grad() ? a.grad().ptr() : nullptr;        // (B, Tq, S), to add into
        Real* dhs = hs.requires_grad() ? hs.grad().ptr() : nullptr;     // (B, S, H), to add into
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < Tq; ++t)
                for (int s = 0; s < S; ++s) {
                    const int64_t ts = (int64_t(b) * Tq + t) * S + s;   // [b, t, s]
                    const Real* dc_bt = dc + (int64_t(b) * Tq + t) * H; // dc[b, t, :]
                    const int64_t sh = (int64_t(b) * S + s) * H;        // [b, s, 0]
                    for (int h = 0; h < H; ++h) {
                        if (da) da[ts] += dc_bt[h] * phs[sh + h];
                        if (dhs) dhs[sh + h] += pa[ts] * dc_bt[h];
                    }
                }
    });
}

}  // namespace s2a::exercise
