// nn/transformer.cpp — masks, attention (the op-by-op reference and the fused op with its hand-written
// backward), and the Transformer's modules wired from them.
//
// Dimensions: B batch, T/Tq/Tk steps, D d_model, h heads, dk = D/h, F FFN size (see nn/transformer.h).
// A (B, T, D) buffer is B·T rows of D: sentence b's step t is row b·T + t, and head j's slice of that row
// is columns j·dk .. (j+1)·dk - 1.
#include "nn/transformer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"
#include "nn/init.h"

namespace s2a {

// ---------------------------------------------------------------- masks

Tensor padding_mask(const IndexTensor& ids, int pad_id) {
    if (ids.shape.ndim != 2) shape_error("padding_mask", "ids must be (B, T)", {ids.shape});
    Tensor mask(Shape{ids.shape[0], 1, 1, ids.shape[1]});  // (B, 1, 1, T): same order as ids
    for (int64_t i = 0; i < ids.numel(); ++i) mask[i] = ids[i] != pad_id ? 1 : 0;
    return mask;
}

Tensor causal_mask(int T) {
    if (T < 0) throw std::invalid_argument(fmt::format("causal_mask: T must be >= 0, got {}", T));
    Tensor mask(Shape{T, T});  // (T, T), zeros above the diagonal
    for (int t = 0; t < T; ++t)
        for (int s = 0; s <= t; ++s) mask[int64_t(t) * T + s] = 1;
    return mask;
}

Tensor combine_masks(const Tensor& a, const Tensor& b) {
    try {
        return mul(constant(a), constant(b)).value();  // 1 · 1 = 1; any 0 blocks
    } catch (const ShapeError&) {
        shape_error("combine_masks", "the masks cannot be broadcast together", {a.shape, b.shape});
    }
}

// ---------------------------------------------------------------- attention, the reference

Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask, Tensor* weights) {
    Rng unused;  // dropout 0 outside training draws nothing
    return scaled_dot_product_attention(q, k, v, mask, weights, 0, unused, false);
}

Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask, Tensor* weights,
                                 Real p, Rng& rng, bool training) {
    if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4 || k.dim(0) != q.dim(0) || v.dim(0) != q.dim(0) ||
        k.dim(1) != q.dim(1) || v.dim(1) != q.dim(1) || k.dim(3) != q.dim(3) || v.dim(2) != k.dim(2))
        shape_error("scaled_dot_product_attention", "needs q (B, h, Tq, dk), k (B, h, Tk, dk), v (B, h, Tk, dv)",
                    {q.shape(), k.shape(), v.shape()});
    const int B = q.dim(0), h = q.dim(1), Tq = q.dim(2), dk = q.dim(3), Tk = k.dim(2), dv = v.dim(3);
    // bmm multiplies batches of matrices (3-D): fold (B, h) into one axis of B·h independent attentions.
    const Var q3 = reshape(q, Shape{B * h, Tq, dk});  // (B·h, Tq, dk)
    const Var k3 = reshape(k, Shape{B * h, Tk, dk});  // (B·h, Tk, dk)
    const Var v3 = reshape(v, Shape{B * h, Tk, dv});  // (B·h, Tk, dv)
    // scores[i, c] = q_i · k_c / √dk: how well query i matches key c
    const Var scores = scale(bmm(q3, k3, false, true), Real(1 / std::sqrt(double(dk))));  // (B·h, Tq, Tk)
    // The mask broadcasts against the 4-D scores (B, h, Tq, Tk); each row of w sums to 1 (or is all 0).
    const Var scores4 = reshape(scores, Shape{B, h, Tq, Tk});
    Var w = mask ? softmax(scores4, *mask) : softmax(scores4);  // (B, h, Tq, Tk)
    if (weights) *weights = w.value();
    w = dropout(w, p, rng, training);
    const Var out = bmm(reshape(w, Shape{B * h, Tq, Tk}), v3);  // (B·h, Tq, dv): out_i = Σ_c w[i, c] v_c
    return reshape(out, Shape{B, h, Tq, dv});
}

// ---------------------------------------------------------------- attention, the fused op
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
namespace {

// Strides that read a mask broadcastable to (B, h, Tq, Tk) as if it had that shape: 0 along a stretched axis.
struct MaskStrides {
    int64_t b = 0, h = 0, q = 0, k = 0;
};

MaskStrides mask_strides(const char* op, const Tensor& mask, const Shape& full) {
    const int nd = mask.ndim();
    if (nd > 4) shape_error(op, "the mask has more than 4 dimensions", {mask.shape, full});
    int64_t s[4] = {0, 0, 0, 0}, stride = 1;
    for (int i = 3; i >= 0; --i) {  // align at the back, like NumPy
        const int n = i - (4 - nd) >= 0 ? mask.shape[i - (4 - nd)] : 1;
        if (n != 1 && n != full[i]) shape_error(op, "the mask cannot be broadcast to (B, h, Tq, Tk)", {mask.shape, full});
        s[i] = n == 1 ? 0 : stride;
        stride *= n;
    }
    return {s[0], s[1], s[2], s[3]};
}

}  // namespace

Var multi_head_attention(const Var& q, const Var& k, const Var& v, int heads, const Tensor* mask, Real dropout,
                         Rng& rng, bool training, Tensor* weights) {
    const char* op = "multi_head_attention";
    if (q.ndim() != 3 || k.ndim() != 3 || v.shape() != k.shape() || k.dim(0) != q.dim(0) || k.dim(2) != q.dim(2) ||
        heads <= 0 || q.dim(2) % heads != 0)
        shape_error(op, fmt::format("needs q (B, Tq, D), k and v (B, Tk, D) with D divisible by heads = {}", heads),
                    {q.shape(), k.shape(), v.shape()});
    if (dropout < 0 || dropout >= 1) throw std::invalid_argument(fmt::format("{}: dropout must be in [0, 1), got {}", op, dropout));
    const int B = q.dim(0), Tq = q.dim(1), Tk = k.dim(1), D = q.dim(2), dk = D / heads;
    const Shape full{B, heads, Tq, Tk};
    const MaskStrides ms = mask ? mask_strides(op, *mask, full) : MaskStrides{};
    const Real alpha = Real(1 / std::sqrt(double(dk)));
    const bool drop = training && dropout > 0;
    const Real keep_scale = 1 / (1 - dropout);

    Tensor probs(full);                            // P (B, h, Tq, Tk), saved
    Tensor keep = drop ? Tensor(full) : Tensor();  // M (B, h, Tq, Tk), saved; empty without dropout
    Tensor dropped(Shape{Tq, Tk});                 // A = P ⊙ M (Tq, Tk) of the current (b, j), with dropout
    Tensor out(Shape{B, Tq, D});                   // O (B, Tq, D), heads merged
    const Real *pq = q.value().ptr(), *pk = k.value().ptr(), *pv = v.value().ptr();
    for (int b = 0; b < B; ++b)
        for (int j = 0; j < heads; ++j) {
            const int64_t block = (int64_t(b) * heads + j) * Tq * Tk;  // (b, j)'s offset in (B, h, Tq, Tk)
            const Real* Q = pq + int64_t(b) * Tq * D + j * dk;        // (Tq, dk), row stride D
            const Real* K = pk + int64_t(b) * Tk * D + j * dk;        // (Tk, dk), row stride D
            const Real* V = pv + int64_t(b) * Tk * D + j * dk;        // (Tk, dk), row stride D
            Real* P = probs.ptr() + block;                            // (Tq, Tk)
            gemm(false, true, Tq, Tk, dk, alpha, Q, D, K, D, 0, P, Tk);  // S = α Q Kᵀ, into P's place
            for (int i = 0; i < Tq; ++i) {  // P = softmax(S, mask), row by row, stable (the row max subtracted)
                Real* row = P + int64_t(i) * Tk;
                const Real* m = mask ? mask->ptr() + b * ms.b + j * ms.h + i * ms.q : nullptr;
                Real mx = -INFINITY;
                for (int c = 0; c < Tk; ++c)
                    if (!m || m[c * ms.k] != 0) mx = std::max(mx, row[c]);
                if (mx == -INFINITY) {  // every key masked: the row stays all zeros, never 0/0
                    std::fill(row, row + Tk, Real(0));
                    continue;
                }
                Real total = 0;
                for (int c = 0; c < Tk; ++c) total += row[c] = (!m || m[c * ms.k] != 0) ? std::exp(row[c] - mx) : Real(0);
                for (int c = 0; c < Tk; ++c) row[c] /= total;
            }
            const Real* A = P;
            if (drop) {  // drawn in the same order, and with the same test, as the dropout op
                Real* M = keep.ptr() + block;
                for (int64_t e = 0; e < int64_t(Tq) * Tk; ++e) {
                    M[e] = rng.bernoulli(dropout) ? Real(0) : keep_scale;
                    dropped[e] = P[e] * M[e];
                }
                A = dropped.ptr();
            }
            gemm(false, false, Tq, dk, Tk, 1, A, Tk, V, D, 0, out.ptr() + int64_t(b) * Tq * D + j * dk, D);  // O = A V
        }
    if (weights) *weights = probs;

    return record(op, std::move(out), {q, k, v},
                  [q, k, v, probs = std::move(probs), keep = std::move(keep), B, heads, D, dk, Tq, Tk, alpha, drop](Node& node) {
        const Real *pq = q.value().ptr(), *pk = k.value().ptr(), *pv = v.value().ptr(), *dO_all = node.grad.ptr();
        Real* dQ_all = q.requires_grad() ? q.grad().ptr() : nullptr;
        Real* dK_all = k.requires_grad() ? k.grad().ptr() : nullptr;
        Real* dV_all = v.requires_grad() ? v.grad().ptr() : nullptr;
        Tensor dropped(Shape{Tq, Tk});  // A (Tq, Tk) of the current (b, j), with dropout
        Tensor dS(Shape{Tq, Tk});       // (Tq, Tk): dA, then dP, then dS, in place
        for (int b = 0; b < B; ++b)
            for (int j = 0; j < heads; ++j) {
                const int64_t block = (int64_t(b) * heads + j) * Tq * Tk;
                const int64_t q_off = int64_t(b) * Tq * D + j * dk, kv_off = int64_t(b) * Tk * D + j * dk;
                const Real* P = probs.ptr() + block;  // (Tq, Tk)
                const Real* M = drop ? keep.ptr() + block : nullptr;
                const Real* dO = dO_all + q_off;      // (Tq, dk), row stride D
                const Real* A = P;
                if (drop) {
                    for (int64_t e = 0; e < int64_t(Tq) * Tk; ++e) dropped[e] = P[e] * M[e];
                    A = dropped.ptr();
                }
                if (dV_all) gemm(true, false, Tk, dk, Tq, 1, A, Tk, dO, D, 1, dV_all + kv_off, D);  // dV += Aᵀ dO
                if (!dQ_all && !dK_all) continue;
                gemm(false, true, Tq, Tk, dk, 1, dO, D, pv + kv_off, D, 0, dS.ptr(), Tk);  // dA = dO Vᵀ
                for (int i = 0; i < Tq; ++i) {
                    Real* g = dS.ptr() + int64_t(i) * Tk;
                    const Real* p = P + int64_t(i) * Tk;
                    if (M)
                        for (int c = 0; c < Tk; ++c) g[c] *= M[int64_t(i) * Tk + c];  // dP = dA ⊙ M
                    Real dot = 0;
                    for (int c = 0; c < Tk; ++c) dot += g[c] * p[c];
                    for (int c = 0; c < Tk; ++c) g[c] = p[c] * (g[c] - dot);  // dS = P ⊙ (dP - Σ dP ⊙ P)
                }
                if (dQ_all) gemm(false, false, Tq, dk, Tk, alpha, dS.ptr(), Tk, pk + kv_off, D, 1, dQ_all + q_off, D);  // dQ += α dS K
                if (dK_all) gemm(true, false, Tk, dk, Tq, alpha, dS.ptr(), Tk, pq + q_off, D, 1, dK_all + kv_off, D);  // dK += α dSᵀ Q
            }
    });
}

// ---------------------------------------------------------------- MultiHeadAttention

namespace {

void check_dropout(const char* who, Real p) {
    if (p < 0 || p >= 1) throw std::invalid_argument(fmt::format("{}: dropout must be in [0, 1), got {}", who, p));
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int D, int heads, Real dropout, Rng& rng)
    : D_(D), heads_(heads), dropout_(dropout), Wq_(D, D, rng), Wk_(D, D, rng), Wv_(D, D, rng), Wo_(D, D, rng),
      rng_(rng.next_u64()) {
    if (heads <= 0 || D % heads != 0)
        throw std::invalid_argument(fmt::format("MultiHeadAttention: D = {} must be a multiple of heads = {}", D, heads));
    check_dropout("MultiHeadAttention", dropout);
    // Wk's bias only adds q · bk to every score of a row, which the softmax ignores: it is kept anyway, as in
    // the paper's and PyTorch's layers, and its gradient is (exactly) zero.
    add_child("Wq", Wq_);
    add_child("Wk", Wk_);
    add_child("Wv", Wv_);
    add_child("Wo", Wo_);
}

void MultiHeadAttention::check_inputs(const char* op, const Var& x_q, const Var& x_kv) const {
    if (x_q.ndim() != 3 || x_kv.ndim() != 3 || x_q.dim(2) != D_ || x_kv.dim(2) != D_ || x_kv.dim(0) != x_q.dim(0))
        shape_error(op, fmt::format("needs x_q (B, Tq, D) and x_kv (B, Tk, D) with D = {}", D_), {x_q.shape(), x_kv.shape()});
}

Var MultiHeadAttention::forward(const Var& x_q, const Var& x_kv, const Tensor* mask) {
    check_inputs("MultiHeadAttention", x_q, x_kv);
    // Each projection is one matrix product over all B·T positions (matmul reads (B, T, D) as B·T rows).
    const Var q = Wq_.forward(x_q);   // (B, Tq, D)  Q = x_q Wq + bq
    const Var k = Wk_.forward(x_kv);  // (B, Tk, D)  K = x_kv Wk + bk
    const Var v = Wv_.forward(x_kv);  // (B, Tk, D)  V = x_kv Wv + bv
    const Var o = multi_head_attention(q, k, v, heads_, mask, dropout_, rng_, training(), &last_weights_);  // (B, Tq, D)
    return Wo_.forward(o);            // (B, Tq, D)  concat(heads) Wo + bo
}

Var MultiHeadAttention::forward_reference(const Var& x_q, const Var& x_kv, const Tensor* mask) {
    check_inputs("MultiHeadAttention", x_q, x_kv);
    const int dk = D_ / heads_;
    // (B, T, D) → (B, T, h, dk) → (B, h, T, dk): head j's columns become its own (T, dk) matrix
    auto split_heads = [&](const Var& x) {
        return permute(reshape(x, Shape{x.dim(0), x.dim(1), heads_, dk}), {0, 2, 1, 3});
    };
    const Var q = split_heads(Wq_.forward(x_q));   // (B, h, Tq, dk)
    const Var k = split_heads(Wk_.forward(x_kv));  // (B, h, Tk, dk)
    const Var v = split_heads(Wv_.forward(x_kv));  // (B, h, Tk, dk)
    const Var o = scaled_dot_product_attention(q, k, v, mask, &last_weights_, dropout_, rng_, training());  // (B, h, Tq, dk)
    // merge: (B, h, Tq, dk) → (B, Tq, h, dk) → (B, Tq, D), the heads side by side
    const Var merged = reshape(permute(o, {0, 2, 1, 3}), Shape{x_q.dim(0), x_q.dim(1), D_});
    return Wo_.forward(merged);  // (B, Tq, D)
}

// ---------------------------------------------------------------- PositionalEncoding

PositionalEncoding::PositionalEncoding(int max_len, int D, bool learned, Rng& rng)
    : max_len_(max_len), D_(D), learned_(learned) {
    if (max_len <= 0 || D <= 0)
        throw std::invalid_argument(fmt::format("PositionalEncoding: sizes must be positive, got max_len = {}, D = {}", max_len, D));
    if (learned) {
        // Small, like BERT's and GPT's learned positions: the tokens' embeddings dominate at the start.
        table_ = add_parameter("P", init_normal(Shape{max_len, D}, Real(0.02), rng));
        return;
    }
    Tensor pe(Shape{max_len, D});  // (max_len, D)
    for (int pos = 0; pos < max_len; ++pos)
        for (int i = 0; 2 * i < D; ++i) {
            const double angle = pos / std::pow(10000.0, 2.0 * i / D);  // pos / 10000^(2i/D)
            pe[int64_t(pos) * D + 2 * i] = Real(std::sin(angle));
            if (2 * i + 1 < D) pe[int64_t(pos) * D + 2 * i + 1] = Real(std::cos(angle));
        }
    table_ = constant(std::move(pe), "PE");
}

Var PositionalEncoding::forward(const Var& x) const {
    if (x.ndim() != 3 || x.dim(2) != D_)
        shape_error("PositionalEncoding", fmt::format("x must be (B, T, D) with D = {}", D_), {x.shape(), table_.shape()});
    const int T = x.dim(1);
    if (T > max_len_)
        shape_error("PositionalEncoding", fmt::format("T = {} is longer than max_len = {}", T, max_len_), {x.shape(), table_.shape()});
    return x + slice(table_, 0, 0, T);  // (B, T, D) + (T, D): position t's row is added to every sentence's step t
}

// ---------------------------------------------------------------- LayerNorm, PositionWiseFFN, AddNorm

LayerNorm::LayerNorm(int dim, Real epsilon) : D(dim), eps(epsilon) {
    if (D <= 0) throw std::invalid_argument(fmt::format("LayerNorm: D must be positive, got {}", D));
    gamma = add_parameter("gamma", Tensor(Shape{D}, 1));
    beta = add_parameter("beta", init_zeros(Shape{D}));
}

Var LayerNorm::forward(const Var& x) const { return layer_norm(x, gamma, beta, eps); }  // (..., D)

PositionWiseFFN::PositionWiseFFN(int D, int F, Real dropout, Rng& rng)
    : linear1_(D, F, rng), linear2_(F, D, rng), dropout_(dropout), rng_(rng.next_u64()) {
    check_dropout("PositionWiseFFN", dropout);
    add_child("linear1", linear1_);
    add_child("linear2", linear2_);
}

Var PositionWiseFFN::forward(const Var& x) {
    // Every position is transformed alike: each Linear is one matrix product over all of them.
    const Var hidden = dropout(relu(linear1_.forward(x)), dropout_, rng_, training());  // (..., F)
    return linear2_.forward(hidden);                                                   // (..., D)
}

AddNorm::AddNorm(int D, Real dropout, bool pre_norm, Rng& rng)
    : norm_(D), dropout_(dropout), pre_norm_(pre_norm), rng_(rng.next_u64()) {
    check_dropout("AddNorm", dropout);
    add_child("norm", norm_);
}

Var AddNorm::input(const Var& x) const { return pre_norm_ ? norm_.forward(x) : x; }

Var AddNorm::output(const Var& x, const Var& sublayer_out) {
    const Var residual = x + dropout(sublayer_out, dropout_, rng_, training());  // (..., D) the residual connection
    return pre_norm_ ? residual : norm_.forward(residual);
}

// ---------------------------------------------------------------- layers

EncoderLayer::EncoderLayer(int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng)
    : self_attn_(D, heads, dropout, rng), add_norm1_(D, dropout, pre_norm, rng), ffn_(D, F, dropout, rng),
      add_norm2_(D, dropout, pre_norm, rng) {
    add_child("self_attn", self_attn_);
    add_child("add_norm1", add_norm1_);
    add_child("ffn", ffn_);
    add_child("add_norm2", add_norm2_);
}

Var EncoderLayer::forward(const Var& x, const Tensor* src_mask) {
    const Var h = add_norm1_.input(x);                                        // (B, S, D)
    const Var x1 = add_norm1_.output(x, self_attn_.forward(h, h, src_mask));  // (B, S, D) each position mixes in the others
    return add_norm2_.output(x1, ffn_.forward(add_norm2_.input(x1)));         // (B, S, D) then each is transformed alone
}

DecoderLayer::DecoderLayer(int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng)
    : self_attn_(D, heads, dropout, rng), add_norm1_(D, dropout, pre_norm, rng), cross_attn_(D, heads, dropout, rng),
      add_norm2_(D, dropout, pre_norm, rng), ffn_(D, F, dropout, rng), add_norm3_(D, dropout, pre_norm, rng) {
    add_child("self_attn", self_attn_);
    add_child("add_norm1", add_norm1_);
    add_child("cross_attn", cross_attn_);
    add_child("add_norm2", add_norm2_);
    add_child("ffn", ffn_);
    add_child("add_norm3", add_norm3_);
}

Var DecoderLayer::forward(const Var& y, const Var& memory, const Tensor* self_mask, const Tensor* memory_mask) {
    const Var h1 = add_norm1_.input(y);                                                  // (B, T, D)
    const Var y1 = add_norm1_.output(y, self_attn_.forward(h1, h1, self_mask));          // (B, T, D) looks at the target so far
    const Var h2 = add_norm2_.input(y1);                                                 // (B, T, D)
    const Var y2 = add_norm2_.output(y1, cross_attn_.forward(h2, memory, memory_mask));  // (B, T, D) looks at the source
    return add_norm3_.output(y2, ffn_.forward(add_norm3_.input(y2)));                    // (B, T, D)
}

// ---------------------------------------------------------------- stacks

TransformerEncoder::TransformerEncoder(int N, int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng) {
    if (N <= 0) throw std::invalid_argument(fmt::format("TransformerEncoder: N must be positive, got {}", N));
    for (int i = 0; i < N; ++i) {
        layers_.push_back(std::make_unique<EncoderLayer>(D, heads, F, dropout, pre_norm, rng));
        add_child(fmt::format("layer{}", i), *layers_.back());
    }
    if (pre_norm) {  // pre-norm layers leave their sum un-normalised: normalise the stack's output once
        final_norm_ = std::make_unique<LayerNorm>(D);
        add_child("norm", *final_norm_);
    }
}

Var TransformerEncoder::forward(const Var& x, const Tensor* src_mask) {
    Var h = x;  // (B, S, D)
    for (auto& layer : layers_) h = layer->forward(h, src_mask);
    return final_norm_ ? final_norm_->forward(h) : h;
}

TransformerDecoder::TransformerDecoder(int N, int D, int heads, int F, Real dropout, bool pre_norm, Rng& rng) {
    if (N <= 0) throw std::invalid_argument(fmt::format("TransformerDecoder: N must be positive, got {}", N));
    for (int i = 0; i < N; ++i) {
        layers_.push_back(std::make_unique<DecoderLayer>(D, heads, F, dropout, pre_norm, rng));
        add_child(fmt::format("layer{}", i), *layers_.back());
    }
    if (pre_norm) {
        final_norm_ = std::make_unique<LayerNorm>(D);
        add_child("norm", *final_norm_);
    }
}

Var TransformerDecoder::forward(const Var& y, const Var& memory, const Tensor* self_mask, const Tensor* memory_mask) {
    Var h = y;  // (B, T, D)
    for (auto& layer : layers_) h = layer->forward(h, memory, self_mask, memory_mask);
    return final_norm_ ? final_norm_->forward(h) : h;
}

}  // namespace s2a
