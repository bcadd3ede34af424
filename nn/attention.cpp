// nn/attention.cpp — the four attention scores, the masked softmax over source positions, the weighted sum.
//
// Dimensions: B batch, Tq query steps, S source steps, Hq query size, Hk source size, A additive size,
// K key size (the width of the source side of a score: Hk, Hq, A or 1).
//
// Three of the scores are built from existing ops (matmul, bmm, broadcast add, sigmoid, softmax), whose
// backward passes are gradient-checked one by one, so they need no backward code of their own. The additive
// score runs one fused op, additive_scores (nn/fused_additive_scores.cpp, backward by hand): composed from
// ops, as additive_scores_reference below, its (B, Tq, S, A) intermediate is materialised several times
// over and it is the slowest part of a Bahdanau model. Every product over the batch goes through matmul
// (flattened to 2-D) or bmm, i.e. through OpenBLAS.
#include "nn/attention.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "autodiff/ops.h"
#include "nn/fused_additive_scores.h"
#include "nn/init.h"

namespace s2a {

Score parse_score(const std::string& name) {
    for (Score s : {Score::Dot, Score::General, Score::Additive, Score::Concat})
        if (name == score_name(s)) return s;
    throw std::invalid_argument(
        fmt::format("unknown attention score '{}': valid names are dot, general, additive, concat", name));
}

const char* score_name(Score score) {
    switch (score) {
        case Score::Dot: return "dot";
        case Score::General: return "general";
        case Score::Additive: return "additive";
        case Score::Concat: return "concat";
    }
    return "?";
}

Tensor lengths_mask(const std::vector<int>& lengths, int S) {
    const int B = static_cast<int>(lengths.size());
    Tensor mask(Shape{B, S});  // (B, S), all 0 = padding
    for (int b = 0; b < B; ++b) {
        if (lengths[b] < 0 || lengths[b] > S)
            throw std::invalid_argument(fmt::format("lengths_mask: length {} of row {} is outside [0, {}]", lengths[b], b, S));
        for (int s = 0; s < lengths[b]; ++s) mask[int64_t(b) * S + s] = 1;  // real tokens
    }
    return mask;
}

// ---------------------------------------------------------------- the additive score, op by op (the reference)

// The reference of the fused additive_scores (nn/fused_additive_scores.cpp); tests/test_attention.cpp holds
// the two to the same values and gradients.
Var additive_scores_reference(const Var& qW1, const Var& kW2, const Var& v) {
    check_additive_scores_shapes("additive_scores_reference", qW1, kW2, v);
    const int B = qW1.dim(0), Tq = qW1.dim(1), S = kW2.dim(1), A = v.dim(0);
    const Var x = reshape(qW1, Shape{B, Tq, 1, A});  // (B, Tq, 1, A)
    const Var y = reshape(kW2, Shape{B, 1, S, A});   // (B, 1, S, A)
    const Var hidden = tanh(x + y);                  // (B, Tq, S, A): broadcasting forms every pair
    // · v for every pair at once: (B·Tq·S, A) · (A, 1) → (B·Tq·S, 1)
    const Var e = matmul(reshape(hidden, Shape{B * Tq * S, A}), reshape(v, Shape{A, 1}));
    return reshape(e, Shape{B, Tq, S});  // (B, Tq, S)
}

// ---------------------------------------------------------------- AttentionWeight

namespace {

// x (B, N, n) · M → (B, N, m): all B·N rows in one matrix product. M is (n, m), or (m, n) when trans.
Var rows_times(const Var& x, const Var& M, bool trans = false) {
    const int B = x.dim(0), N = x.dim(1), n = x.dim(2), m = trans ? M.dim(0) : M.dim(1);
    return reshape(matmul(reshape(x, Shape{B * N, n}), M, false, trans), Shape{B, N, m});
}

// Throws the ShapeError of AttentionWeight unless q is (B, Tq, Hq) and x (hs or keys) is (B, S, n), Tq, S ≥ 1.
void check_query_source(Score score, const Var& q, int Hq, const Var& x, const char* x_name, int n) {
    if (q.ndim() != 3 || x.ndim() != 3 || q.dim(0) != x.dim(0) || q.dim(2) != Hq || x.dim(2) != n || q.dim(1) < 1 ||
        x.dim(1) < 1)
        shape_error("AttentionWeight",
                    fmt::format("the {} score needs q (B, Tq, Hq = {}) and {} (B, S, {}) with the same B, Tq ≥ 1, S ≥ 1",
                                score_name(score), Hq, x_name, n),
                    {q.shape(), x.shape()});
}

}  // namespace

// Initialisation: the matrices Xavier-uniform, like Linear's W; the vectors v, p, q uniform in ±1/√n for
// their length n, so v · x (or h · p) starts with a variance near that of one element of x; r starts at 0.
AttentionWeight::AttentionWeight(Score score, int Hq, int Hk, Rng& rng, int A)
    : score_(score), Hq_(Hq), Hk_(Hk), A_(A == 0 ? Hk : A) {
    if (Hq <= 0 || Hk <= 0 || A < 0)
        throw std::invalid_argument(fmt::format("AttentionWeight: sizes must be positive, got Hq = {}, Hk = {}, A = {}", Hq, Hk, A));
    switch (score) {
        case Score::Dot:
            if (Hq != Hk)
                throw std::invalid_argument(fmt::format("AttentionWeight: the dot score needs Hq = Hk, got {} and {} "
                                                        "(use general, additive or concat)", Hq, Hk));
            break;
        case Score::General:
            W_ = add_parameter("W", init_xavier(Shape{Hq, Hk}, rng));
            break;
        case Score::Additive:
            W1_ = add_parameter("W1", init_xavier(Shape{Hq, A_}, rng));
            W2_ = add_parameter("W2", init_xavier(Shape{Hk, A_}, rng));
            v_ = add_parameter("v", init_uniform(Shape{A_}, 1 / std::sqrt(static_cast<Real>(A_)), rng));
            break;
        case Score::Concat:
            p_ = add_parameter("p", init_uniform(Shape{Hq}, 1 / std::sqrt(static_cast<Real>(Hq)), rng));
            q_ = add_parameter("q", init_uniform(Shape{Hk}, 1 / std::sqrt(static_cast<Real>(Hk)), rng));
            r_ = add_parameter("r", init_zeros(Shape{}));
            break;
    }
}

int AttentionWeight::key_size() const {
    switch (score_) {
        case Score::Dot: return Hk_;
        case Score::General: return Hq_;
        case Score::Additive: return A_;
        case Score::Concat: return 1;
    }
    return 0;
}

Var AttentionWeight::keys(const Var& hs) const {
    // hs: (B, S, Hk)
    if (hs.ndim() != 3 || hs.dim(2) != Hk_ || hs.dim(1) < 1)
        shape_error("AttentionWeight", fmt::format("hs must be (B, S, Hk = {}) with S ≥ 1", Hk_), {hs.shape()});
    switch (score_) {
        case Score::Dot: return hs;                                              // (B, S, Hk)
        case Score::General: return rows_times(hs, W_, true);                   // (B, S, Hq): hs Wᵀ
        case Score::Additive: return rows_times(hs, W2_);                       // (B, S, A):  hs W₂
        case Score::Concat: return rows_times(hs, reshape(q_, Shape{Hk_, 1}));  // (B, S, 1):  hs · q
    }
    throw std::logic_error("AttentionWeight: unknown score");
}

Var AttentionWeight::forward(const Var& q, const Var& hs, const Tensor* mask) const {
    check_query_source(score_, q, Hq_, hs, "hs", Hk_);  // q: (B, Tq, Hq)   hs: (B, S, Hk)
    return forward_with_keys(q, keys(hs), mask);
}

Var AttentionWeight::forward_with_keys(const Var& q, const Var& keys, const Tensor* mask) const {
    check_query_source(score_, q, Hq_, keys, "keys", key_size());  // q: (B, Tq, Hq)   keys: (B, S, K)
    const int B = q.dim(0), S = keys.dim(1);
    if (mask && mask->shape != Shape{B, S})
        shape_error("AttentionWeight", fmt::format("the mask must be (B, S) = ({}, {})", B, S), {mask->shape, q.shape(), keys.shape()});
    Var e;  // the scores (B, Tq, S)
    switch (score_) {
        case Score::Dot:      // e[b, t, s] = q[b, t] · hs[b, s]
        case Score::General:  // e[b, t, s] = q[b, t] W · hs[b, s] = q[b, t] · (hs[b, s] Wᵀ)
            e = bmm(q, keys, false, true);  // (B, Tq, Hq) · (B, S, Hq)ᵀ → (B, Tq, S)
            break;
        case Score::Additive:  // e[b, t, s] = v · tanh(q[b, t] W₁ + hs[b, s] W₂)
            e = additive_scores(rows_times(q, W1_), keys, v_);  // (B, Tq, A), (B, S, A) → (B, Tq, S)
            break;
        case Score::Concat: {  // e[b, t, s] = σ(q[b, t] · p + hs[b, s] · q + r)
            const Var qp = rows_times(q, reshape(p_, Shape{Hq_, 1}));  // (B, Tq, 1)
            e = sigmoid(qp + reshape(keys, Shape{B, 1, S}) + r_);       // (B, Tq, 1) + (B, 1, S) + () → (B, Tq, S)
            break;
        }
    }
    if (!mask) return softmax(e);  // a (B, Tq, S): a[b, t, s] = exp(e[b, t, s]) / Σⱼ exp(e[b, t, j])
    // (B, S) → (B, 1, S): one mask row serves every query step of its sentence.
    Tensor mask3 = *mask;
    mask3.shape = Shape{B, 1, S};
    return softmax(e, mask3);  // a (B, Tq, S), exactly 0 at padded positions
}

// ---------------------------------------------------------------- WeightSum

Var WeightSum::forward(const Var& a, const Var& hs) const {
    // a: (B, Tq, S)   hs: (B, S, H)
    if (a.ndim() != 3 || hs.ndim() != 3 || a.dim(0) != hs.dim(0) || a.dim(2) != hs.dim(1))
        shape_error("WeightSum", "needs a (B, Tq, S) and hs (B, S, H) with the same B and S", {a.shape(), hs.shape()});
    return bmm(a, hs);  // c (B, Tq, H):  c[b, t] = Σₛ a[b, t, s] hs[b, s]
}

// ---------------------------------------------------------------- Attention

Attention::Attention(Score score, int Hq, int Hk, Rng& rng, int A) : weight(score, Hq, Hk, rng, A) {
    add_child("weight", weight);
    add_child("weight_sum", weight_sum);
}

Var Attention::forward(const Var& q, const Var& hs, const Tensor* mask) {
    const Var a = weight.forward(q, hs, mask);  // (B, Tq, S)
    last_weights_ = a.value();                  // a copy: the tape's node is released by the next clear()
    return weight_sum.forward(a, hs);           // c (B, Tq, Hk)
}

Var Attention::forward_with_keys(const Var& q, const Var& hs, const Var& keys, const Tensor* mask) {
    const Var a = weight.forward_with_keys(q, keys, mask);  // (B, Tq, S)
    last_weights_ = a.value();
    return weight_sum.forward(a, hs);  // c (B, Tq, Hk)
}

}  // namespace s2a
