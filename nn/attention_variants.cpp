// nn/attention_variants.cpp — local-p attention, location-aware attention, the guided attention loss; and
// gather_windows and spread_windows, the two ops of its own the local attention needs (forward and backward below).
//
// Dimensions: B batch, Tq query steps, S source steps, Hq query size, Hk source size, K key size, A inner size,
// D half-width, W = 2D + 1 window width, F location filters, Kc their width, n the width of a gathered row.
//
// Everything else is built from ops that are gradient-checked one by one (matmul, bmm, tanh, sigmoid, exp,
// conv1d, the masked softmax), and from AttentionWeight itself: the local attention scores its window with the
// caller's AttentionWeight, the location-aware one adds its features to the additive score's keys. The
// formulas are in nn/attention_variants.h.
#include "nn/attention_variants.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"
#include "nn/init.h"

namespace s2a {

// ---------------------------------------------------------------- gather_windows

// y[b·Tq + t, j] = x[b, starts[b, t] + j]  (0 outside the sentence's S rows)
// dx[b, starts[b, t] + j] += dy[b·Tq + t, j]   (the adjoint of a copy: add back where it came from)
Var gather_windows(const Var& x, const IndexTensor& starts, int W) {
    if (x.ndim() != 3 || starts.shape.ndim != 2 || starts.shape[0] != x.dim(0) || W < 1)
        shape_error("gather_windows", fmt::format("needs x (B, S, n), starts (B, Tq) and W ≥ 1 (W = {})", W),
                    {x.shape(), starts.shape});
    const int B = x.dim(0), S = x.dim(1), n = x.dim(2), Tq = starts.shape[1];
    Tensor y(Shape{B * Tq, W, n});  // (B·Tq, W, n), zeros where a window reaches past the source
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t)
            for (int j = 0; j < W; ++j) {
                const int s = starts[int64_t(b) * Tq + t] + j;
                if (s >= 0 && s < S)
                    std::copy_n(x.value().ptr() + (int64_t(b) * S + s) * n, n, y.ptr() + ((int64_t(b) * Tq + t) * W + j) * n);
            }
    return record("gather_windows", std::move(y), {x}, [x, starts, B, S, n, Tq, W](Node& out) {
        Real* dx = x.grad().ptr();
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < Tq; ++t)
                for (int j = 0; j < W; ++j) {
                    const int s = starts[int64_t(b) * Tq + t] + j;
                    if (s < 0 || s >= S) continue;
                    const Real* dy = out.grad.ptr() + ((int64_t(b) * Tq + t) * W + j) * n;
                    Real* row = dx + (int64_t(b) * S + s) * n;
                    for (int i = 0; i < n; ++i) row[i] += dy[i];
                }
    });
}

// ---------------------------------------------------------------- spread_windows

// y[b, t, starts[b, t] + j] = a[b, t, j]  (slots outside 0..S-1 dropped, every other y 0)
// da[b, t, j] += dy[b, t, starts[b, t] + j]   (each slot lands on its own y: no two slots of a row share a position)
Var spread_windows(const Var& a, const IndexTensor& starts, int S) {
    if (a.ndim() != 3 || starts.shape != Shape{a.dim(0), a.dim(1)} || S < 1)
        shape_error("spread_windows", fmt::format("needs a (B, Tq, W), starts (B, Tq) and S ≥ 1 (S = {})", S), {a.shape(), starts.shape});
    const int rows = a.dim(0) * a.dim(1), W = a.dim(2);
    Tensor y(Shape{a.dim(0), a.dim(1), S});  // (B, Tq, S)
    for (int r = 0; r < rows; ++r)
        for (int j = 0; j < W; ++j) {
            const int s = starts[r] + j;
            if (s >= 0 && s < S) y[int64_t(r) * S + s] = a.value()[int64_t(r) * W + j];
        }
    return record("spread_windows", std::move(y), {a}, [a, starts, rows, W, S](Node& out) {
        Real* da = a.grad().ptr();
        for (int r = 0; r < rows; ++r)
            for (int j = 0; j < W; ++j) {
                const int s = starts[r] + j;
                if (s >= 0 && s < S) da[int64_t(r) * W + j] += out.grad[int64_t(r) * S + s];
            }
    });
}

SourceSpans source_spans(const Tensor* mask, int B, int S) {
    SourceSpans spans{std::vector<int>(B, 0), std::vector<int>(B, S)};
    if (!mask) return spans;
    for (int b = 0; b < B; ++b) {
        const Real* row = mask->ptr() + int64_t(b) * S;
        int first = 0, length = 0;
        while (first < S && row[first] == 0) ++first;
        while (first + length < S && row[first + length] != 0) ++length;
        for (int s = first + length; s < S; ++s)
            if (row[s] != 0)
                throw std::invalid_argument(fmt::format("source_spans: row {} of the mask has real positions in two runs "
                                                        "(position {} after padding at {})", b, s, first + length));
        spans.first[b] = length ? first : 0;  // a row of padding only: no run, its centres at 0
        spans.length[b] = length;
    }
    return spans;
}

// ---------------------------------------------------------------- LocalAttention

// Initialisation as AttentionWeight's additive score: W_p Xavier-uniform, v_p uniform in ±1/√A.
LocalAttention::LocalAttention(const AttentionWeight& weight, int D, Rng& rng, int A) : weight_(&weight), D_(D) {
    if (D < 1 || A < 0)
        throw std::invalid_argument(fmt::format("LocalAttention: the half-width D must be at least 1 and A ≥ 0, got D = {}, A = {}", D, A));
    const int Hq = weight.query_size(), inner = A == 0 ? Hq : A;
    Wp_ = add_parameter("Wp", init_xavier(Shape{Hq, inner}, rng));
    vp_ = add_parameter("vp", init_uniform(Shape{inner}, 1 / std::sqrt(static_cast<Real>(inner)), rng));
}

Var LocalAttention::centres(const Var& q, const SourceSpans& spans) const {
    const int B = q.dim(0), A = vp_.dim(0);
    Tensor first(Shape{B, 1, 1}), length(Shape{B, 1, 1});  // f_b and S_b, one per sentence
    for (int b = 0; b < B; ++b) {
        first[b] = static_cast<Real>(spans.first[b]);
        length[b] = static_cast<Real>(spans.length[b]);
    }
    const Var where = sigmoid(matmul(tanh(matmul(q, Wp_)), reshape(vp_, Shape{A, 1})));  // σ(v_pᵀ tanh(W_p h_t)): (B, Tq, 1)
    return constant(first) + constant(length) * where;                                 // p (B, Tq, 1)
}

Var LocalAttention::forward(const Var& q, const Var& hs, const Var& keys, const Tensor* mask, Var* weights) {
    const int Hq = weight_->query_size(), Hk = weight_->source_size(), K = weight_->key_size();
    if (q.ndim() != 3 || hs.ndim() != 3 || keys.ndim() != 3 || q.dim(2) != Hq || hs.dim(2) != Hk || keys.dim(2) != K ||
        hs.dim(0) != q.dim(0) || keys.dim(0) != q.dim(0) || keys.dim(1) != hs.dim(1) || q.dim(1) < 1 || hs.dim(1) < 1)
        shape_error("LocalAttention",
                    fmt::format("needs q (B, Tq, Hq = {}), hs (B, S, Hk = {}), keys (B, S, K = {}), Tq ≥ 1, S ≥ 1", Hq, Hk, K),
                    {q.shape(), hs.shape(), keys.shape()});
    const int B = q.dim(0), Tq = q.dim(1), S = hs.dim(1), W = 2 * D_ + 1, rows = B * Tq;
    if (mask && mask->shape != Shape{B, S})
        shape_error("LocalAttention", fmt::format("the mask must be (B, S) = ({}, {})", B, S), {mask->shape});
    const SourceSpans spans = source_spans(mask, B, S);
    const Var p = centres(q, spans);  // (B, Tq, 1)

    // The windows: where each starts, which of its positions are real, and the positions s themselves.
    IndexTensor starts(Shape{B, Tq});             // round(p_t) − D
    Tensor window_mask(Shape{rows, W});           // (B·Tq, W): 1 inside the sentence, 0 elsewhere
    Tensor positions(Shape{rows, 1, W});          // (B·Tq, 1, W): s for each window slot
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < Tq; ++t) {
            const int r = b * Tq + t, start = static_cast<int>(std::lround(p.value()[r])) - D_;
            starts[r] = start;
            for (int j = 0; j < W; ++j) {
                const int s = start + j;
                positions[int64_t(r) * W + j] = static_cast<Real>(s);
                window_mask[int64_t(r) * W + j] = s >= spans.first[b] && s < spans.first[b] + spans.length[b];
            }
        }
    // Content weights inside each window: the caller's score and masked softmax, on W keys instead of S.
    const Var content = weight_->forward_with_keys(reshape(q, Shape{rows, 1, Hq}), gather_windows(keys, starts, W),
                                                   &window_mask);  // (B·Tq, 1, W)
    // The Gaussian exp(−(s − p_t)² / 2σ²), σ = D / 2: the path by which p_t gets its gradient.
    const Real sigma = static_cast<Real>(D_) / 2;
    const Var offset = constant(positions) - reshape(p, Shape{rows, 1, 1});    // s − p_t: (B·Tq, 1, W)
    const Var a = content * exp(scale(offset * offset, -1 / (2 * sigma * sigma)));  // a (B·Tq, 1, W)
    const Var c = bmm(a, gather_windows(hs, starts, W));                       // (B·Tq, 1, W) · (B·Tq, W, Hk) → (B·Tq, 1, Hk)

    // The window weights spread over the source (B, Tq, S): on the tape when a loss asks for them, else only
    // for display; and the centres.
    const auto spread = [&] { return spread_windows(reshape(a, Shape{B, Tq, W}), starts, S); };
    if (weights) {
        *weights = spread();
        last_weights_ = weights->value();
    } else {
        NoGrad display;
        last_weights_ = spread().value();
    }
    last_centres_ = p.value();
    return reshape(c, Shape{B, Tq, Hk});  // c (B, Tq, Hk)
}

// ---------------------------------------------------------------- LocationAwareAttention

// The filters start small (uniform in ±1/√Kc), U Xavier-uniform: at first the score is nearly chapter 3's.
LocationAwareAttention::LocationAwareAttention(const AttentionWeight& weight, int F, int Kc, Rng& rng) : weight_(&weight) {
    if (weight.score() != Score::Additive)
        throw std::invalid_argument(fmt::format("LocationAwareAttention: needs the additive score, got {}", score_name(weight.score())));
    if (F < 1 || Kc < 1)
        throw std::invalid_argument(fmt::format("LocationAwareAttention: needs F ≥ 1 filters of width Kc ≥ 1, got F = {}, Kc = {}", F, Kc));
    filters_ = add_parameter("filters", init_uniform(Shape{Kc, 1, F}, 1 / std::sqrt(static_cast<Real>(Kc)), rng));
    U_ = add_parameter("U", init_xavier(Shape{F, weight.additive_size()}, rng));
}

Var LocationAwareAttention::weights(const Var& q, const Var& keys, const Var& prev, const Tensor* mask) const {
    if (keys.ndim() != 3 || prev.ndim() != 2 || q.ndim() != 3 || q.dim(1) != 1 || prev.dim(0) != keys.dim(0) ||
        prev.dim(1) != keys.dim(1))
        shape_error("LocationAwareAttention", "needs q (B, 1, Hq), keys (B, S, A) and the previous weights prev (B, S)",
                    {q.shape(), keys.shape(), prev.shape()});
    const int B = keys.dim(0), S = keys.dim(1);
    const Var f = conv1d(reshape(prev, Shape{B, S, 1}), filters_);  // f_t = conv1d(α_{t−1}): (B, S, F)
    // W₂ hs_s + U f_t(s): the location features join the source side of the additive score.
    return weight_->forward_with_keys(q, keys + matmul(f, U_), mask);  // a (B, 1, S)
}

// ---------------------------------------------------------------- the guided attention loss

Tensor attention_guide(const std::vector<int>& src_lengths, const std::vector<int>& tgt_lengths, int T, int S, Real g) {
    const int B = static_cast<int>(src_lengths.size());
    if (static_cast<int>(tgt_lengths.size()) != B)
        throw std::invalid_argument(fmt::format("attention_guide: {} source lengths but {} target lengths", B, tgt_lengths.size()));
    if (!(g > 0)) throw std::invalid_argument(fmt::format("attention_guide: the width g must be > 0, got {}", g));
    Tensor guide(Shape{B, T, S});  // (B, T, S), 0 at padding
    for (int b = 0; b < B; ++b) {
        const int Sb = src_lengths[b], Tb = tgt_lengths[b];
        if (Sb < 0 || Sb > S || Tb < 0 || Tb > T)
            throw std::invalid_argument(fmt::format("attention_guide: sentence {} has lengths source {}, target {}, "
                                                    "outside 0..{} and 0..{}", b, Sb, Tb, S, T));
        for (int t = 0; t < Tb; ++t)
            for (int s = 0; s < Sb; ++s) {
                const double off = double(s) / Sb - double(t) / Tb;  // distance from the diagonal, both axes in 0..1
                guide[(int64_t(b) * T + t) * S + s] = static_cast<Real>(1 - std::exp(-off * off / (2.0 * g * g)));
            }
    }
    return guide;
}

Var guided_attention_loss(const Var& a, const std::vector<int>& src_lengths, const std::vector<int>& tgt_lengths, Real g) {
    if (a.ndim() != 3 || a.dim(0) != static_cast<int>(src_lengths.size()))
        shape_error("guided_attention_loss", fmt::format("needs weights a (B, T, S) with B = {} lengths", src_lengths.size()), {a.shape()});
    const Tensor guide = attention_guide(src_lengths, tgt_lengths, a.dim(1), a.dim(2), g);
    int64_t steps = 0;  // Σ_b T_b: the real decoder steps
    for (int Tb : tgt_lengths) steps += Tb;
    // Σ a ⊙ W / Σ_b T_b; the guide's zeros leave padding out, and give it exactly 0 gradient.
    return scale(sum(a * constant(guide)), steps ? Real(1) / static_cast<Real>(steps) : Real(0));
}

}  // namespace s2a
