// nn/fused_attention.cpp — multi_head_attention: every head's scaled dot-product attention in one tape node,
// with its hand-written backward. The readable reference it must agree with is scaled_dot_product_attention
// (nn/transformer.cpp), run per head after MultiHeadAttention::forward_reference splits the heads;
// tests/test_transformer.cpp holds the two together (see nn/fused_attention.h). The softmax rows and their
// backward are the softmax op's kernels (autodiff/kernels.h), so both compute the same numbers.
//
// Dimensions: B batch, Tq/Tk query/key steps, D d_model, h heads, dk = D/h.
#include "nn/fused_attention.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "autodiff/kernels.h"

namespace s2a {

// ---------------------------------------------------------------- attention, the fused op

namespace {

// A = P ⊙ M (Tq, Tk) for one sentence and head when dropout's mask M is given; empty without one (A is P).
Tensor dropped_weights(const Real* P, const Real* M, int Tq, int Tk) {
    if (!M) return Tensor();
    Tensor A = Tensor::uninitialized(Shape{Tq, Tk});
    for (int64_t e = 0; e < int64_t(Tq) * Tk; ++e) A[e] = P[e] * M[e];
    return A;
}

// O = A V for one sentence and head (A as above). P, M (Tq, Tk); V (Tk, dk) and O (Tq, dk) with row stride D.
// The forward's last product, and the same bits again when backward recomputes O (Node::recompute).
void weighted_values(const Real* P, const Real* M, const Real* V, Real* O, int Tq, int Tk, int D, int dk) {
    const Tensor dropped = dropped_weights(P, M, Tq, Tk);
    gemm(false, false, Tq, dk, Tk, 1, M ? dropped.ptr() : P, Tk, V, D, 0, O, D);  // O = A V
}

}  // namespace

//
// For sentence b and head j, with Q (Tq, dk), K, V (Tk, dk) that head's slices of the rows and α = 1/√dk:
//   S = α Q Kᵀ             (Tq, Tk)  scores
//   P = softmax(S, mask)   (Tq, Tk)  per row; masked entries exactly 0, a fully masked row all 0
//   A = P ⊙ M              (Tq, Tk)  dropout: M is 0 with probability p, else 1/(1-p) (M = 1 without dropout)
//   O = A V                (Tq, dk)  written into head j's columns of the output rows
// Backward, from dO:
//   dV += Aᵀ dO                     dA = dO Vᵀ
//   dP  = dA ⊙ M                    dS = P ⊙ (dP - rowsum(dP ⊙ P))     (the softmax's Jacobian-vector product)
//   dQ += α dS K                    dK += α dSᵀ Q
// Every product is one gemm that reads and writes the (B, T, D) buffers in place (row stride D), so no head
// is ever copied out. Saved for backward: P (also the heat-map weights) and M.
Var multi_head_attention(const Var& q, const Var& k, const Var& v, int heads, const Tensor* mask, Real dropout,
                         Rng& rng, bool training, std::shared_ptr<const Tensor>* weights) {
    const char* op = "multi_head_attention";
    if (q.ndim() != 3 || k.ndim() != 3 || v.shape() != k.shape() || k.dim(0) != q.dim(0) || k.dim(2) != q.dim(2) ||
        heads <= 0 || q.dim(2) % heads != 0)
        shape_error(op, fmt::format("needs q (B, Tq, D), k and v (B, Tk, D) with D divisible by heads = {}", heads),
                    {q.shape(), k.shape(), v.shape()});
    if (dropout < 0 || dropout >= 1) throw std::invalid_argument(fmt::format("{}: dropout must be in [0, 1), got {}", op, dropout));
    const int B = q.dim(0), Tq = q.dim(1), Tk = k.dim(1), D = q.dim(2), dk = D / heads;
    const Shape full{B, heads, Tq, Tk};
    const MaskStrides ms = mask ? mask_strides(op, *mask, full) : MaskStrides{};  // the mask read in place
    const Real alpha = Real(1 / std::sqrt(double(dk)));
    const bool drop = training && dropout > 0;
    const Real keep_scale = 1 / (1 - dropout);

    // P (B, h, Tq, Tk), saved (and shared with weights); every block written
    const auto probs_owner = std::make_shared<Tensor>(Tensor::uninitialized(full));
    Tensor& probs = *probs_owner;
    // M (B, h, Tq, Tk), saved; empty without dropout
    const auto keep_owner = std::make_shared<Tensor>(drop ? Tensor::uninitialized(full) : Tensor());
    Tensor& keep = *keep_owner;
    Tensor out = Tensor::uninitialized(Shape{B, Tq, D});          // O (B, Tq, D), heads merged; every head written
    // Dropout's masks first, one thread, in the order and with the test of the dropout op; then the B·h
    // attentions, independent of each other, shared among the cores (parallel_for).
    for (int64_t e = 0; e < keep.numel(); ++e) keep[e] = rng.bernoulli(dropout) ? Real(0) : keep_scale;
    const Real *pq = q.value().ptr(), *pk = k.value().ptr(), *pv = v.value().ptr();
    parallel_for(B * heads, [&](int bj) {
        const int b = bj / heads, j = bj % heads;
        const int64_t block = int64_t(bj) * Tq * Tk;               // (b, j)'s offset in (B, h, Tq, Tk)
        const Real* Q = pq + int64_t(b) * Tq * D + j * dk;        // (Tq, dk), row stride D
        const Real* K = pk + int64_t(b) * Tk * D + j * dk;        // (Tk, dk), row stride D
        const Real* V = pv + int64_t(b) * Tk * D + j * dk;        // (Tk, dk), row stride D
        Real* P = probs.ptr() + block;                            // (Tq, Tk)
        gemm(false, true, Tq, Tk, dk, alpha, Q, D, K, D, 0, P, Tk);  // S = α Q Kᵀ, into P's place
        for (int i = 0; i < Tq; ++i) {  // P = softmax(S, mask), row by row in place: the softmax op's kernel
            Real* row = P + int64_t(i) * Tk;
            const Real* m = mask ? mask->ptr() + b * ms.axis[0] + j * ms.axis[1] + i * ms.axis[2] : nullptr;
            softmax_row(row, m, ms.axis[3], row, Tk);
        }
        weighted_values(P, drop ? keep.ptr() + block : nullptr, V, out.ptr() + int64_t(b) * Tq * D + j * dk, Tq, Tk, D, dk);
    });
    if (weights) *weights = probs_owner;

    const Var o = record(op, std::move(out), {q, k, v}, [q, k, v, probs_owner, keep_owner, B, heads, D, dk, Tq, Tk, alpha, drop](Node& node) {
        const Tensor& probs = *probs_owner;
        const Tensor& keep = *keep_owner;
        const Real *pq = q.value().ptr(), *pk = k.value().ptr(), *pv = v.value().ptr(), *dO_all = node.grad.ptr();
        // Each (b, j) writes its own rows and columns of dQ, dK, dV, and together they cover them: the first
        // gradient is stored (beta 0), not added to zeros. In the order they are written (q, k, v may be one
        // tensor: then only the first write stores).
        const GradOut gv = grad_out(v), gq = grad_out(q), gk = grad_out(k);
        Real *dQ_all = gq.ptr, *dK_all = gk.ptr, *dV_all = gv.ptr;
        parallel_for(B * heads, [&](int bj) {  // each (b, j) adds into its own rows and columns of dQ, dK, dV
            const int b = bj / heads, j = bj % heads;
            const int64_t block = int64_t(bj) * Tq * Tk;
            const int64_t q_off = int64_t(b) * Tq * D + j * dk, kv_off = int64_t(b) * Tk * D + j * dk;
            const Real* P = probs.ptr() + block;  // (Tq, Tk)
            const Real* M = drop ? keep.ptr() + block : nullptr;
            const Real* dO = dO_all + q_off;      // (Tq, dk), row stride D
            const Tensor dropped = dropped_weights(P, M, Tq, Tk);
            const Real* A = M ? dropped.ptr() : P;  // (Tq, Tk)
            if (dV_all) gemm(true, false, Tk, dk, Tq, 1, A, Tk, dO, D, gv.beta, dV_all + kv_off, D);  // dV += Aᵀ dO
            if (!dQ_all && !dK_all) return;
            Tensor dP = Tensor::uninitialized(Shape{Tq, Tk});  // (Tq, Tk): dA, then dP = dA ⊙ M in place
            gemm(false, true, Tq, Tk, dk, 1, dO, D, pv + kv_off, D, 0, dP.ptr(), Tk);  // dA = dO Vᵀ
            if (M)
                for (int64_t e = 0; e < int64_t(Tq) * Tk; ++e) dP[e] *= M[e];  // dP = dA ⊙ M
            Tensor dS(Shape{Tq, Tk});  // (Tq, Tk): the scores' gradient, summed into from zero
            for (int i = 0; i < Tq; ++i) {  // dS = P ⊙ (dP - rowsum(dP ⊙ P)): the softmax op's backward kernel
                const int64_t r = int64_t(i) * Tk;
                softmax_row_backward(P + r, dP.ptr() + r, dS.ptr() + r, Tk);
            }
            if (dQ_all) gemm(false, false, Tq, dk, Tk, alpha, dS.ptr(), Tk, pk + kv_off, D, gq.beta, dQ_all + q_off, D);  // dQ += α dS K
            if (dK_all) gemm(true, false, Tk, dk, Tq, alpha, dS.ptr(), Tk, pq + q_off, D, gk.beta, dK_all + kv_off, D);  // dK += α dSᵀ Q
        });
    });
    // O again from the saved P (and M) and V: what lets the module drop O once Wo has read it
    return recomputable([v, probs_owner, keep_owner, B, heads, D, dk, Tq, Tk, drop] {
        Tensor out = Tensor::uninitialized(Shape{B, Tq, D});  // (B, Tq, D)
        const Real* pv = v.value().ptr();
        parallel_for(B * heads, [&](int bj) {
            const int b = bj / heads, j = bj % heads;
            const int64_t block = int64_t(bj) * Tq * Tk;
            weighted_values(probs_owner->ptr() + block, drop ? keep_owner->ptr() + block : nullptr,
                            pv + int64_t(b) * Tk * D + j * dk, out.ptr() + int64_t(b) * Tq * D + j * dk, Tq, Tk, D, dk);
        });
        return out;
    }, o);
}

}  // namespace s2a
