// autodiff/ops_conv1d.cpp — conv1d: a 1-D convolution along the time axis, as one matrix product.
//
// Dimensions: B batch, S steps (the output has as many: "same" length), Cin input channels, Cout output
// channels (filters), K filter width, P = (K - 1) / 2 the zero padding on the left (K - 1 - P on the right).
//
// The idea (im2col): row (b, s) of the unfolded input holds the K input rows a filter sees at output step s,
// x[b, s - P], …, x[b, s - P + K - 1], side by side (zeros beyond the ends). Then every output row is that
// row times the filters read as one (K·Cin, Cout) matrix, and the whole convolution is one gemm:
//   cols (B·S, K·Cin) = unfold(x)        y (B·S, Cout) = cols · W      W = w as (K·Cin, Cout)
// Backward follows the product and then undoes the unfolding:
//   dW = colsᵀ · dy                       (matmul's backward; cols is kept from forward)
//   dcols = dy · Wᵀ,  dx = fold(dcols)    fold, the adjoint of unfold, adds each copy's gradient back to the
//                                         input row it was copied from (each row was copied up to K times)
#include <fmt/format.h>

#include <algorithm>

#include "autodiff/ops.h"

namespace s2a {

namespace {

// cols[(b, s), k, c] = x[b, s - P + k, c], 0 where s - P + k is outside 0..S-1.   x (B, S, Cin) → cols (B·S, K·Cin)
void unfold(const Real* x, int B, int S, int Cin, int K, Real* cols) {
    const int P = (K - 1) / 2;
    for (int b = 0; b < B; ++b)
        for (int s = 0; s < S; ++s)
            for (int k = 0; k < K; ++k) {
                Real* to = cols + ((int64_t(b) * S + s) * K + k) * Cin;
                const int from = s - P + k;
                if (from < 0 || from >= S) std::fill(to, to + Cin, Real(0));
                else std::copy_n(x + (int64_t(b) * S + from) * Cin, Cin, to);
            }
}

// The adjoint of unfold: dx[b, s - P + k, c] += dcols[(b, s), k, c] for every copy inside 0..S-1.
void fold(const Real* dcols, int B, int S, int Cin, int K, Real* dx) {
    const int P = (K - 1) / 2;
    for (int b = 0; b < B; ++b)
        for (int s = 0; s < S; ++s)
            for (int k = 0; k < K; ++k) {
                const int to = s - P + k;
                if (to < 0 || to >= S) continue;  // a padding zero: nothing to send back
                const Real* from = dcols + ((int64_t(b) * S + s) * K + k) * Cin;
                Real* row = dx + (int64_t(b) * S + to) * Cin;
                for (int c = 0; c < Cin; ++c) row[c] += from[c];
            }
}

}  // namespace

Var conv1d(const Var& x, const Var& w) {
    if (x.ndim() != 3 || w.ndim() != 3 || x.dim(2) != w.dim(1) || x.numel() == 0 || w.numel() == 0)
        shape_error("conv1d", "needs x (B, S, Cin) and filters w (K, Cin, Cout) with the same Cin, no size 0",
                    {x.shape(), w.shape()});
    const int B = x.dim(0), S = x.dim(1), Cin = x.dim(2), K = w.dim(0), Cout = w.dim(2);
    const int rows = B * S, width = K * Cin;  // the unfolded input is (rows, width)
    Tensor cols = Tensor::uninitialized(Shape{rows, width});  // saved for backward (dW)
    unfold(x.value().ptr(), B, S, Cin, K, cols.ptr());
    Tensor y = Tensor::uninitialized(Shape{B, S, Cout});  // (B, S, Cout), written whole by gemm (beta = 0)
    gemm(false, false, rows, Cout, width, 1, cols.ptr(), width, w.value().ptr(), Cout, 0, y.ptr(), Cout);
    return record("conv1d", std::move(y), {x, w}, [x, w, cols = std::move(cols), B, S, Cin, K, Cout, rows, width](Node& out) {
        const Real* dy = out.grad.ptr();  // (B·S, Cout)
        if (w.requires_grad())            // dW (K·Cin, Cout) += colsᵀ · dy
            gemm(true, false, width, Cout, rows, 1, cols.ptr(), width, dy, Cout, 1, w.grad().ptr(), Cout);
        if (x.requires_grad()) {          // dcols (B·S, K·Cin) = dy · Wᵀ, then folded back onto x's rows
            Tensor dcols = Tensor::uninitialized(Shape{rows, width});
            gemm(false, true, rows, width, Cout, 1, dy, Cout, w.value().ptr(), Cout, 0, dcols.ptr(), width);
            fold(dcols.ptr(), B, S, Cin, K, x.grad().ptr());
        }
    });
}

}  // namespace s2a
