// autodiff/ops_nn.cpp — the fused ops of neural networks: embedding, softmax, log-softmax, cross-entropy,
// layer norm, dropout; and mask_strides (autodiff/kernels.h), beside the softmax op.
//
// "Fused" means one node on the tape for what could be written as many small ops: fewer passes over
// memory, fewer nodes, and a backward whose formula is short and numerically stable (softmax followed by
// log would overflow; their fused form does not).
//
// Dimensions: V vocabulary (or classes), D features; a "row" is one vector along the last axis.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "autodiff/broadcast.h"
#include "autodiff/kernels.h"
#include "autodiff/ops.h"

namespace s2a {

// y[s, :] = W[ids[s], :]          dW[ids[s], :] += dy[s, :]   (scatter-add: a repeated id gets every contribution)
Var embedding(const Var& W, const IndexTensor& ids) {
    if (W.ndim() != 2) shape_error("embedding", "the table must be 2-D (V, D)", {W.shape()});
    if (ids.shape.ndim >= Shape::kMaxDims) shape_error("embedding", "ids have too many dimensions", {ids.shape});
    const int V = W.dim(0), D = W.dim(1);
    for (int64_t i = 0; i < ids.numel(); ++i)
        if (ids[i] < 0 || ids[i] >= V)
            throw std::out_of_range(fmt::format("embedding: id {} at position {} is outside the table's {} rows", ids[i], i, V));
    Shape ys = ids.shape;
    ys.dims[ys.ndim++] = D;
    auto look_up = [W, ids, D, ys] {  // the forward, and all of it again if the output is recomputed (tape.h)
        Tensor y(ys);
        for (int64_t i = 0; i < ids.numel(); ++i)
            std::copy_n(W.value().ptr() + int64_t(ids[i]) * D, D, y.ptr() + i * D);
        return y;
    };
    return recomputable(look_up, record("embedding", look_up(), {W}, [W, ids, D](Node& out) {
        Real* dW = W.grad().ptr();
        const Real* dy = out.grad.ptr();
        for (int64_t i = 0; i < ids.numel(); ++i) {
            Real* row = dW + int64_t(ids[i]) * D;
            for (int d = 0; d < D; ++d) row[d] += dy[i * D + d];
        }
    }));
}

// ---- softmax, on the row kernels of autodiff/kernels.h (which the fused attention runs too)

MaskStrides mask_strides(const char* op, const Tensor& mask, const Shape& s) {
    const Broadcast bc = broadcast(op, s, mask.shape);
    if (bc.out != s) shape_error(op, "the mask cannot be stretched to the shape it must cover", {mask.shape, s});
    return {{bc.stride_b[0], bc.stride_b[1], bc.stride_b[2], bc.stride_b[3]}};
}

namespace {

// The softmax node, one row (the last axis) at a time. The mask is stretched to x's shape once, so row r's
// mask is row r of the stretched copy. Backward: dxᵢ = yᵢ (dyᵢ - Σⱼ dyⱼ yⱼ) per row, y the saved output.
Var softmax_op(const Var& x, const Tensor* mask) {
    if (x.ndim() == 0) shape_error("softmax", "needs at least one dimension", {x.shape()});
    const int n = x.dim(-1);
    const int64_t rows = n ? x.numel() / n : 0;
    Tensor full_mask;  // the mask stretched to x's shape; empty without a mask
    if (mask) full_mask = broadcast_to("softmax", *mask, x.shape());
    Tensor y = Tensor::uninitialized(x.shape());
    for (int64_t r = 0; r < rows; ++r)
        softmax_row(x.value().ptr() + r * n, mask ? full_mask.ptr() + r * n : nullptr, 1, y.ptr() + r * n, n);
    return record("softmax", std::move(y), {x}, [x, rows, n](Node& out) {
        const Real *y = out.value.ptr(), *dy = out.grad.ptr();
        Real* dx = x.grad().ptr();
        for (int64_t r = 0; r < rows; ++r) softmax_row_backward(y + r * n, dy + r * n, dx + r * n, n);
    });
}

}  // namespace

Var softmax(const Var& x) { return softmax_op(x, nullptr); }
Var softmax(const Var& x, const Tensor& mask) { return softmax_op(x, &mask); }

// yᵢ = xᵢ - max - log Σⱼ exp(xⱼ - max)
// dxᵢ = dyᵢ - softmax(x)ᵢ Σⱼ dyⱼ,   with softmax(x) = exp(y)
Var log_softmax(const Var& x) {
    if (x.ndim() == 0) shape_error("log_softmax", "needs at least one dimension", {x.shape()});
    const int n = x.dim(-1);
    const int64_t rows = n ? x.numel() / n : 0;
    Tensor y = Tensor::uninitialized(x.shape());
    const Real* px = x.value().ptr();
    for (int64_t r = 0; r < rows; ++r) {
        const Real* xr = px + r * n;
        const Real mx = *std::max_element(xr, xr + n);
        Real total = 0;
        for (int i = 0; i < n; ++i) total += std::exp(xr[i] - mx);
        const Real log_z = mx + std::log(total);
        for (int i = 0; i < n; ++i) y[r * n + i] = xr[i] - log_z;
    }
    return record("log_softmax", std::move(y), {x}, [x, rows, n](Node& out) {
        const Real *y = out.value.ptr(), *dy = out.grad.ptr();
        Real* dx = x.grad().ptr();
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t o = r * n;
            Real total = 0;
            for (int i = 0; i < n; ++i) total += dy[o + i];
            for (int i = 0; i < n; ++i) dx[o + i] += dy[o + i] - std::exp(y[o + i]) * total;
        }
    });
}

// loss = (1 / count) Σ_rows -Σᵥ qᵥ log pᵥ,  p = softmax(logits row),  q = (1 - ε) onehot(target) + ε / V
// d loss / d logits = (p - q) / count    for counted rows; rows whose target is ignore_index get 0.
Var cross_entropy(const Var& logits, const IndexTensor& targets, int ignore_index, Real label_smoothing) {
    if (logits.ndim() < 1) shape_error("cross_entropy", "logits need a class axis", {logits.shape()});
    const int V = logits.dim(-1);
    const int64_t rows = V ? logits.numel() / V : 0;
    Shape expect = logits.shape();
    expect.ndim -= 1;
    if (targets.shape != expect)
        shape_error("cross_entropy", "targets must have the logits' shape without the class axis", {logits.shape(), targets.shape});
    if (label_smoothing < 0 || label_smoothing >= 1)
        throw std::invalid_argument(fmt::format("cross_entropy: label smoothing must be in [0, 1), got {}", label_smoothing));
    Tensor probs = Tensor::uninitialized(Shape{static_cast<int>(rows), V});  // saved for backward: softmax of each row
    for (int64_t r = 0; r < rows; ++r) softmax_row(logits.value().ptr() + r * V, nullptr, 0, probs.ptr() + r * V, V);
    const Real eps = label_smoothing, on = 1 - eps;
    double loss = 0;
    int64_t count = 0;
    for (int64_t r = 0; r < rows; ++r) {
        const int t = targets[r];
        if (t == ignore_index) continue;
        if (t < 0 || t >= V)
            throw std::out_of_range(fmt::format("cross_entropy: target {} at position {} is outside the {} classes", t, r, V));
        const Real* lr = logits.value().ptr() + r * V;
        const Real mx = *std::max_element(lr, lr + V);
        Real z = 0;
        for (int v = 0; v < V; ++v) z += std::exp(lr[v] - mx);
        const Real log_z = mx + std::log(z);  // log p_v = l_v - log_z
        double row = -on * (lr[t] - log_z);
        if (eps > 0) {
            double all = 0;
            for (int v = 0; v < V; ++v) all += lr[v] - log_z;
            row -= eps / V * all;
        }
        loss += row;
        ++count;
    }
    const Real mean_loss = count ? static_cast<Real>(loss / count) : Real(0);  // no counted row: 0, not 0/0
    return record("cross_entropy", Tensor::scalar(mean_loss), {logits},
                  [logits, targets, probs, ignore_index, eps, on, count, rows, V](Node& out) {
                      if (!count) return;
                      const Real g = out.grad[0] / static_cast<Real>(count);
                      Real* dl = logits.grad().ptr();
                      for (int64_t r = 0; r < rows; ++r) {
                          const int t = targets[r];
                          if (t == ignore_index) continue;
                          for (int v = 0; v < V; ++v) {
                              const Real q = (v == t ? on : Real(0)) + eps / V;
                              dl[r * V + v] += g * (probs[r * V + v] - q);
                          }
                      }
                  });
}

// y = x̂ · γ + β,   x̂ = (x - μ) · rstd,   rstd = 1 / sqrt(σ² + eps), μ and σ² over each row of D values.
// Backward (per row):  dγ += Σ dy · x̂,   dβ += Σ dy,
//   dx = rstd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂))   with dx̂ = dy · γ
//
// A row's sums are added one element after the other, in order (the bits do not depend on how many rows or
// cores there are). Each addition waits for the one before it, so one row at a time leaves the processor
// mostly idle: the kernels below walk kRows rows side by side, element i of every row, then i + 1. Each row
// still sums in its own order, and dγ, dβ still receive the rows in order, so the numbers are those of a row
// at a time; only independent additions overlap.
namespace {

constexpr int kRows = 8;  // rows walked side by side; the last few rows of a tensor go one at a time

// One row's y = (x - μ) · rstd · γ + β, from its mean and rstd: the forward's last pass, and all of it again
// when backward recomputes y (Node::recompute), with the same bits.
void layer_norm_apply(const Real* x, int D, Real mu, Real rs, const Real* g, const Real* b, Real* y) {
    for (int i = 0; i < D; ++i) y[i] = (x[i] - mu) * rs * g[i] + b[i];
}

// Rows 0 .. R-1 of x (row stride D): their means and rstd, and y.
template <int R>
void layer_norm_rows(const Real* x, int D, Real eps, const Real* g, const Real* b, Real* mean, Real* rstd, Real* y) {
    Real mu[R] = {}, var[R] = {};
    for (int i = 0; i < D; ++i)
        for (int k = 0; k < R; ++k) mu[k] += x[k * D + i];
    for (int k = 0; k < R; ++k) mu[k] /= D;
    for (int i = 0; i < D; ++i)
        for (int k = 0; k < R; ++k) {
            const Real c = x[k * D + i] - mu[k];
            var[k] += c * c;
        }
    for (int k = 0; k < R; ++k) {
        mean[k] = mu[k];
        rstd[k] = 1 / std::sqrt(var[k] / D + eps);
        layer_norm_apply(x + k * D, D, mean[k], rstd[k], g, b, y + k * D);
    }
}

// dx for rows 0 .. R-1, written (dx_beta 0) or added (1).
template <int R>
void layer_norm_rows_dx(const Real* x, const Real* dy, int D, const Real* g, const Real* mean, const Real* rstd, Real* dx,
                        Real dx_beta) {
    Real mean_dxhat[R] = {}, mean_dxhat_xhat[R] = {};
    for (int i = 0; i < D; ++i)
        for (int k = 0; k < R; ++k) {
            const Real xhat = (x[k * D + i] - mean[k]) * rstd[k], d = dy[k * D + i];
            mean_dxhat[k] += d * g[i];
            mean_dxhat_xhat[k] += d * g[i] * xhat;
        }
    for (int k = 0; k < R; ++k) {
        const Real *xk = x + int64_t(k) * D, *dyk = dy + int64_t(k) * D;
        const Real mu = mean[k], rs = rstd[k], a = mean_dxhat[k] / D, c = mean_dxhat_xhat[k] / D;
        auto term = [&](int i) { return rs * (dyk[i] * g[i] - a - (xk[i] - mu) * rs * c); };
        Real* dxk = dx + int64_t(k) * D;
        if (dx_beta == 0)
            for (int i = 0; i < D; ++i) dxk[i] = Real(0) + term(i);
        else
            for (int i = 0; i < D; ++i) dxk[i] += term(i);
    }
}

// f(R, r) for the rows begin .. end - 1: blocks of R = kRows rows from r, then the last few with R = 1 each
// (R an std::integral_constant, so that each kernel is compiled for its row count).
template <class F>
void in_row_blocks(int64_t begin, int64_t end, F f) {
    int64_t r = begin;
    for (; r + kRows <= end; r += kRows) f(std::integral_constant<int, kRows>{}, r);
    for (; r < end; ++r) f(std::integral_constant<int, 1>{}, r);
}

}  // namespace

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, Real eps) {
    const int D = x.ndim() ? x.dim(-1) : 0;
    if (x.ndim() == 0 || gamma.shape() != Shape{D} || beta.shape() != Shape{D})
        shape_error("layer_norm", "needs x (..., D) with gamma (D) and beta (D)", {x.shape(), gamma.shape(), beta.shape()});
    const int64_t rows = D ? x.numel() / D : 0;
    Tensor mean(Shape{static_cast<int>(rows)}), rstd(Shape{static_cast<int>(rows)});  // saved for backward
    Tensor y = Tensor::uninitialized(x.shape());
    const Real *px = x.value().ptr(), *g = gamma.value().ptr(), *b = beta.value().ptr();
    // Rows are independent: large inputs are shared among the cores by blocks of kRows rows.
    const int64_t blocks = (rows + kRows - 1) / kRows;
    const int64_t block_grain = std::max<int64_t>(1, kPointwiseGrain / std::max(D * kRows, 1));
    parallel_ranges(blocks, block_grain, [&](int64_t begin, int64_t end) {
        in_row_blocks(begin * kRows, std::min(end * kRows, rows), [&](auto R, int64_t r) {
            layer_norm_rows<decltype(R)::value>(px + r * D, D, eps, g, b, mean.ptr() + r, rstd.ptr() + r, y.ptr() + r * D);
        });
    });
    const Var normed = record("layer_norm", std::move(y), {x, gamma, beta}, [x, gamma, beta, mean, rstd, rows, D](Node& out) {
        const Real *px = x.value().ptr(), *g = gamma.value().ptr(), *dy = out.grad.ptr();
        Real* dg = gamma.requires_grad() ? gamma.grad().ptr() : nullptr;
        Real* db = beta.requires_grad() ? beta.grad().ptr() : nullptr;
        const GradOut dx = grad_out(x);  // every element written once: stored when it is the first gradient
        // Two halves, one per core: half of the rows' dx, and half of the columns of dγ and dβ, each column
        // summed over all the rows in order (as one row after the other would). Each core reads half of x and
        // dy for its dx and half of every row again for its dγ, dβ: as much as one core reading all once.
        const bool split = rows * D >= kPointwiseGrain;  // else both halves one after the other here
        const int64_t mid = rows / 2 / kRows * kRows;     // where the second half's rows start: a whole block
        parallel_ranges(2, split ? 1 : 2, [&](int64_t h0, int64_t h1) {
            for (int64_t half = h0; half < h1; ++half) {
                if (dx.ptr)
                    in_row_blocks(half ? mid : 0, half ? rows : mid, [&](auto R, int64_t r) {
                        const int64_t o = r * D;
                        layer_norm_rows_dx<decltype(R)::value>(px + o, dy + o, D, g, mean.ptr() + r, rstd.ptr() + r,
                                                               dx.ptr + o, dx.beta);
                    });
                const int c0 = int(D * half / 2), c1 = int(D * (half + 1) / 2);
                for (int64_t r = 0; r < rows; ++r) {
                    const Real *xr = px + r * D, *dyr = dy + r * D;
                    const Real mu = mean[r], rs = rstd[r];
                    if (dg)
                        for (int i = c0; i < c1; ++i) dg[i] += dyr[i] * ((xr[i] - mu) * rs);  // dγ += dy · x̂
                    if (db)
                        for (int i = c0; i < c1; ++i) db[i] += dyr[i];  // dβ += dy
                }
            }
        });
    });
    // y again from the saved mean and rstd, one pass: what lets a module drop y (recompute_in_backward)
    return recomputable([x, gamma, beta, mean, rstd, rows, D] {
        Tensor y = Tensor::uninitialized(x.shape());  // (..., D)
        const Real *px = x.value().ptr(), *g = gamma.value().ptr(), *b = beta.value().ptr();
        parallel_ranges(rows, std::max<int64_t>(1, kPointwiseGrain / std::max(D, 1)), [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r) layer_norm_apply(px + r * D, D, mean[r], rstd[r], g, b, y.ptr() + r * D);
        });
        return y;
    }, normed);
}

// y = x · mask,  mask = 0 with probability p, else 1 / (1 - p) (so E[y] = x).     dx = dy · mask
Var dropout(const Var& x, Real p, Rng& rng, bool training) {
    if (p < 0 || p >= 1) throw std::invalid_argument(fmt::format("dropout: p must be in [0, 1), got {}", p));
    if (!training || p == 0) return x;  // evaluation: the identity, nothing recorded
    Tensor mask(x.shape());              // saved for backward
    const Real keep = 1 / (1 - p);
    for (Real& m : mask.data) m = rng.bernoulli(p) ? Real(0) : keep;
    Tensor y(x.shape());
    for (int64_t i = 0; i < y.numel(); ++i) y[i] = x.value()[i] * mask[i];
    return record("dropout", std::move(y), {x}, [x, mask](Node& out) {
        Real* dx = x.grad().ptr();
        for (int64_t i = 0; i < out.grad.numel(); ++i) dx[i] += out.grad[i] * mask[i];
    });
}

}  // namespace s2a
