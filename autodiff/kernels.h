// autodiff/kernels.h — the row kernels an op shares with the fused ops of nn/ that must agree with it: one
// function computes the numbers for both, so the fused op cannot drift from the op it is tested against.
//   softmax_row, softmax_row_backward   the softmax op (ops_nn.cpp) and multi_head_attention
//                                       (nn/fused_attention.cpp), which runs them on its score rows in place
//   mask_strides                        reads a mask broadcast to a larger shape in place, by NumPy's rules
//                                       (defined in ops_nn.cpp, beside the softmax op)
//   linear_forward, linear_backward     the linear op's numbers (ops_linalg.cpp), shared with the LSTM's fused
//                                       recurrence (nn/fused_lstm.cpp), whose input projection is a linear
//                                       layer written straight into its gates
// The row kernels are defined here, inline, so that a loop calling them once per row compiles as if they were
// written in place (a call per row of a few dozen elements costs a visible share of the attention's backward).
//
// Dimensions: n the length of one row (the last axis).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "autodiff/tape.h"
#include "autodiff/tensor.h"

namespace s2a {

// The masked softmax of one row of n values:
//   yᵢ = mᵢ exp(xᵢ - max) / Σⱼ mⱼ exp(xⱼ - max),   mᵢ = (mask[i · mask_stride] != 0),   max over the kept xⱼ
// Subtracting the max changes nothing mathematically and keeps exp from overflowing. mask nullptr keeps every
// position; mask_stride 0 reads one value for the whole row. A row masked entirely gives all zeros, never
// 0/0. y may be x (in place).
inline void softmax_row(const Real* x, const Real* mask, int64_t mask_stride, Real* y, int n) {
    Real mx = -INFINITY;
    for (int i = 0; i < n; ++i)
        if (!mask || mask[i * mask_stride] != 0) mx = std::max(mx, x[i]);
    if (mx == -INFINITY) {  // every position masked: the row stays all zeros, never 0/0
        std::fill(y, y + n, Real(0));
        return;
    }
    Real total = 0;
    for (int i = 0; i < n; ++i) {
        y[i] = (!mask || mask[i * mask_stride] != 0) ? std::exp(x[i] - mx) : Real(0);
        total += y[i];
    }
    for (int i = 0; i < n; ++i) y[i] /= total;
}

// Its backward, with y the saved output:  dx += y ⊙ (dy - Σⱼ dyⱼ yⱼ)   (the softmax's Jacobian-vector product).
// A masked position has y = 0, so it gets exactly 0 gradient and needs no mask here.
inline void softmax_row_backward(const Real* y, const Real* dy, Real* dx, int n) {
    Real dot = 0;  // Σⱼ dyⱼ yⱼ
    for (int i = 0; i < n; ++i) dot += dy[i] * y[i];
    for (int i = 0; i < n; ++i) dx[i] += y[i] * (dy[i] - dot);
}

// The strides that read mask as if it were stretched to shape s, without copying it: with both aligned at the
// back to 4 axes (missing leading axes are 1), element (i0, i1, i2, i3) of s is
//   mask[i0 · axis[0] + i1 · axis[1] + i2 · axis[2] + i3 · axis[3]],   axis[k] = 0 where the mask has size 1.
// Throws ShapeError naming op if the mask does not broadcast to s.
struct MaskStrides {
    int64_t axis[4];
};
MaskStrides mask_strides(const char* op, const Tensor& mask, const Shape& s);

// y (M, N) = x (M, K) · W (K, N) + b (N), into y: b copied into every row, then the product added onto it
// (gemm with beta = 1). The linear op's forward, bit for bit.
void linear_forward(int M, int N, int K, const Real* x, const Real* W, const Real* b, Real* y);

// Its backward from dy (M, N), x (..., K) read as (M, K): one pass over dy, then the two products:
//   dr = dy (a residual r, when defined: linear_residual),   dz = dy ⊙ [y > 0] (relu, when y is given: written
//   to dz, which may be dy's own buffer),   db += Σ_rows dz,   dx = dz · Wᵀ,   dW = xᵀ · dz   (dz = dy without relu)
// Each gradient is added, or stored when it is the first (grad_out); an input that needs none is skipped.
void linear_backward(const Var& x, const Var& W, const Var& b, const Real* dy, const Var& r = Var(),
                     const Real* y = nullptr, Real* dz = nullptr);

}  // namespace s2a
