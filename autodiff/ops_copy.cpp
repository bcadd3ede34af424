// autodiff/ops_copy.cpp — copy_mixture: the output distribution of the pointer-generator (See et al. 2017).
//
// Dimensions: B batch, T decoder steps, V vocabulary, S source positions, W extended vocabulary (W ≥ V): the
// vocabulary, then the batch's source words it does not hold (ids V..W-1, models/pointer_generator.h).
//
// At each step the model can write a word from its vocabulary, or copy one from the source by pointing at it
// with its attention weights a. A gate p_gen = σ(z) mixes the two:
//   P(w) = p_gen · P_vocab(w) + (1 - p_gen) · C(w),      C(w) = Σ_{s: src[s] = w} a[s]   (real positions only)
// A word the source holds twice gets both positions' weights; a source word outside the vocabulary can only
// be copied (P_vocab(w) = 0 for w ≥ V), and a vocabulary word that is not in the source only generated.
//
// Why in log space. The loss takes -log P(y). Computed from probabilities, P(y) can be exactly 0: σ(z) rounds
// to 1 in float once z > 17, and then a copied word's (1 - p_gen) · C(y) is 0 and the loss is log 0 = -∞.
// The usual patch, -log(P(y) + ε), changes the loss and hides the gradient of a model that has stopped
// copying. Here every factor is taken as a log that stays finite:
//   log p_gen = -softplus(-z),  log(1 - p_gen) = -softplus(z)       finite for every finite z
//   log P_vocab(w)                                                   from log_softmax: finite
//   log P(w) = logaddexp(log p_gen + log P_vocab(w), log(1 - p_gen) + log C(w))
// and a term is -∞ only when its word cannot come that way (w ≥ V, or C(w) = 0: w not in the source), in which
// case logaddexp returns the other term. So log P(y) is finite for every target the model can write: a
// vocabulary word, or a word of this row's source (whose C is a sum of masked-softmax weights, 0 only if the
// softmax underflowed at every position holding it: scores more than ~87 apart in float, ~745 in double).
//
// Backward. With r(w) = p_gen · P_vocab(w) / P(w), the share of P(w) that generation gave (0 for w ≥ V):
//   ∂ log P(w) / ∂ log P_vocab(w) = r(w)
//   ∂ log P(w) / ∂ z            = r(w) (1 - p_gen) - (1 - r(w)) p_gen = r(w) - p_gen
//   ∂ log P(w) / ∂ a[s]         = (1 - p_gen) / P(w)   for each real position s with src[s] = w
// r(w) and (1 - p_gen) / P(w) are computed as exp of differences of logs, so they never overflow.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autodiff/ops.h"

namespace s2a {

namespace {

constexpr Real kMinusInf = -std::numeric_limits<Real>::infinity();

// log(1 + eˣ), without overflow for large x and without losing digits for very negative x.
Real softplus(Real x) { return std::max(x, Real(0)) + std::log1p(std::exp(-std::fabs(x))); }

// log(eᵖ + e^q), either of them possibly -∞ (most words are not in the source: their copy term is -∞, and the
// sum is the other term, with no exp or log to compute).
Real log_add(Real p, Real q) {
    const Real hi = std::max(p, q), lo = std::min(p, q);
    return lo == kMinusInf ? hi : hi + std::log1p(std::exp(lo - hi));
}

}  // namespace

Var copy_mixture(const Var& log_p_vocab, const Var& a, const Var& z, const IndexTensor& src, int W, const Tensor* mask) {
    // log_p_vocab: (B, T, V)   a: (B, T, S)   z: (B, T, 1)   src: (B, S)   mask: (B, S)
    const bool fit = log_p_vocab.ndim() == 3 && a.ndim() == 3 && z.ndim() == 3 && src.shape.ndim == 2;
    const int B = fit ? a.dim(0) : 0, T = fit ? a.dim(1) : 0, S = fit ? a.dim(2) : 0, V = fit ? log_p_vocab.dim(2) : 0;
    if (!fit || log_p_vocab.dim(0) != B || log_p_vocab.dim(1) != T || z.shape() != Shape{B, T, 1} ||
        src.shape != Shape{B, S} || W < V || (mask && mask->shape != Shape{B, S}))
        shape_error("copy_mixture",
                    fmt::format("needs log_p_vocab (B, T, V), a (B, T, S), z (B, T, 1), src (B, S), mask (B, S) and "
                                "W ≥ V (W = {})", W),
                    {log_p_vocab.shape(), a.shape(), z.shape(), src.shape, mask ? mask->shape : Shape{}});
    for (int64_t i = 0; i < src.numel(); ++i)
        if (src[i] < 0 || src[i] >= W)
            throw std::out_of_range(fmt::format("copy_mixture: source id {} at position {} is outside the extended "
                                                "vocabulary's {} words", src[i], i, W));
    const Tensor real = mask ? *mask : Tensor(Shape{B, S}, 1);  // saved for backward: 1 where a position may be copied
    Tensor log_gen(Shape{B, T}), log_copy(Shape{B, T});         // saved for backward: log p_gen, log(1 - p_gen)
    Tensor y(Shape{B, T, W});                                   // log P
    std::vector<Real> C(W);                                     // C(w) of one row
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t) {
            const int64_t row = int64_t(b) * T + t;
            const Real zr = z.value()[row];
            log_gen[row] = -softplus(-zr);
            log_copy[row] = -softplus(zr);
            std::fill(C.begin(), C.end(), Real(0));
            for (int s = 0; s < S; ++s)  // the scatter-add: every real position adds its weight to its word
                if (real[int64_t(b) * S + s] != 0) C[src[int64_t(b) * S + s]] += a.value()[row * S + s];
            const Real* lp = log_p_vocab.value().ptr() + row * V;
            Real* yr = y.ptr() + row * W;
            for (int w = 0; w < W; ++w)
                yr[w] = log_add(w < V ? log_gen[row] + lp[w] : kMinusInf, C[w] > 0 ? log_copy[row] + std::log(C[w]) : kMinusInf);
        }
    return record("copy_mixture", std::move(y), {log_p_vocab, a, z},
                  [log_p_vocab, a, z, src, real, log_gen, log_copy, B, T, S, V, W](Node& out) {
                      Real* dlp = log_p_vocab.requires_grad() ? log_p_vocab.grad().ptr() : nullptr;
                      Real* da = a.requires_grad() ? a.grad().ptr() : nullptr;
                      Real* dz = z.requires_grad() ? z.grad().ptr() : nullptr;
                      for (int64_t row = 0; row < int64_t(B) * T; ++row) {
                          const Real *g = out.grad.ptr() + row * W, *yr = out.value.ptr() + row * W;
                          const Real* lp = log_p_vocab.value().ptr() + row * V;
                          const Real p_gen = std::exp(log_gen[row]);
                          for (int w = 0; w < W; ++w) {
                              if (yr[w] == kMinusInf) continue;  // P(w) = 0 whatever the inputs near here: no gradient
                              const Real r = w < V ? std::exp(log_gen[row] + lp[w] - yr[w]) : Real(0);  // r(w)
                              if (dlp && w < V) dlp[row * V + w] += g[w] * r;
                              if (dz) dz[row] += g[w] * (r - p_gen);
                          }
                          if (!da) continue;
                          const int64_t b = row / T;
                          for (int s = 0; s < S; ++s) {  // the gather: each real position gets its word's gradient
                              const int w = src[b * S + s];
                              if (real[b * S + s] != 0 && yr[w] != kMinusInf)
                                  da[row * S + s] += g[w] * std::exp(log_copy[row] - yr[w]);  // (1 - p_gen) / P(w)
                          }
                      }
                  });
}

}  // namespace s2a
