// autodiff/ops_conv2d.cpp — convolution over images, as im2col plus one matrix product, and max pooling.
//
// Dimensions:
//   B        batch (images)
//   H, W     height and width of the input, in pixels (or grid cells)
//   C        input channels (3 for RGB); F filters, the output channels
//   KH, KW   kernel height and width; s the stride, p the zero padding on every side
//   Ho, Wo   output height and width: Ho = (H + 2p - KH) / s + 1 (rounded down), likewise Wo
//   K        the length of one receptive field, KH · KW · C
//
// Layout: channels last (NHWC), x (B, H, W, C). Two reasons. The product below then gives its output in the
// same layout with no transpose; and a feature map (B, Ho, Wo, F) is already a grid of Ho · Wo vectors of F
// numbers, the encoder states hs (B, Ho·Wo, F) an attention decoder reads, by a reshape that moves nothing.
//
// A convolution is a matrix product in disguise. Output pixel (i, j) of filter f is a dot product:
//   y[b, i, j, f] = bias[f] + Σ_{u, v, c} x[b, i·s + u - p, j·s + v - p, c] · Wt[u, v, c, f]
// (x is 0 outside the image: the padding). Copy each receptive field into a row of its own (im2col,
// "image to columns"):
//   cols[b, i, j, (u, v, c)] = x[b, i·s + u - p, j·s + v - p, c]            cols (B, Ho, Wo, K)
// and every output pixel of every filter is one entry of a single product:
//   y (B·Ho·Wo, F) = cols (B·Ho·Wo, K) · Wt (K, F) + bias
// That product is `linear`, so conv2d is three existing ideas in a row: im2col, a reshape of the weights and
// linear. Its backward needs nothing new besides im2col's own:
//   d cols = dy · Wtᵀ,   d Wt = colsᵀ · dy,   d bias = Σ_rows dy             (linear's backward)
//   dx = col2im(d cols): each entry of d cols added back to the pixel it was copied from (im2col's backward)
// A pixel inside several receptive fields (stride < kernel) was copied several times, so it receives the sum
// of their gradients; a padding position was copied from nowhere and its gradient is dropped.
//
// Max pooling keeps the largest value of each KH×KW window (per channel); its backward sends each output's
// gradient to the one input that won, whose flat index forward saved (argmax). Of equal values the first in
// the window's row-major order wins, so ties are broken the same way on every run.
#include <fmt/format.h>

#include "autodiff/ops.h"

namespace s2a {

namespace {

// The output size of a window of `kernel` sliding with `stride` over `size` cells padded by `padding` on
// both sides; throws naming the op and the limit when the window does not fit even once.
int window_count(const char* op, const char* axis, int size, int kernel, int stride, int padding, const Shape& x) {
    if (kernel < 1 || stride < 1 || padding < 0)
        throw std::invalid_argument(fmt::format("{}: kernel {} and stride {} must be at least 1, padding {} at least 0",
                                                op, kernel, stride, padding));
    if (size + 2 * padding < kernel)
        shape_error(op, fmt::format("the {} {} plus padding 2·{} is smaller than the kernel {}", axis, size, padding, kernel), {x});
    return (size + 2 * padding - kernel) / stride + 1;
}

}  // namespace

// cols[b, i, j, (u·KW + v)·C + c] = x[b, i·s + u - p, j·s + v - p, c], or 0 in the padding.
// Backward (col2im): dx[b, i·s + u - p, j·s + v - p, c] += dcols[b, i, j, (u·KW + v)·C + c] inside the image.
Var im2col(const Var& x, int KH, int KW, int stride, int padding) {
    if (x.ndim() != 4) shape_error("im2col", "needs x (B, H, W, C), channels last", {x.shape()});
    const int B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
    const int Ho = window_count("im2col", "height", H, KH, stride, padding, x.shape());
    const int Wo = window_count("im2col", "width", W, KW, stride, padding, x.shape());
    const int K = KH * KW * C;
    Tensor cols(Shape{B, Ho, Wo, K});  // (B, Ho, Wo, K); zeros stay where a field reaches into the padding
    // One receptive field: for each (u, v) inside the image, C contiguous values of x go to C contiguous
    // entries of the field's row. `copy` moves them forward (x → cols) or adds them back (dcols → dx).
    auto for_each_field = [=](auto&& copy) {
        for (int b = 0; b < B; ++b)
            for (int i = 0; i < Ho; ++i)
                for (int j = 0; j < Wo; ++j) {
                    const int64_t row = ((int64_t(b) * Ho + i) * Wo + j) * K;
                    for (int u = 0; u < KH; ++u) {
                        const int y = i * stride + u - padding;
                        if (y < 0 || y >= H) continue;
                        for (int v = 0; v < KW; ++v) {
                            const int xx = j * stride + v - padding;
                            if (xx < 0 || xx >= W) continue;
                            copy(((int64_t(b) * H + y) * W + xx) * C, row + (u * KW + v) * C, C);
                        }
                    }
                }
    };
    const Real* px = x.value().ptr();
    Real* pc = cols.ptr();
    for_each_field([&](int64_t from, int64_t to, int n) { std::copy_n(px + from, n, pc + to); });
    return record("im2col", std::move(cols), {x}, [x, for_each_field](Node& out) {
        Real* dx = x.grad().ptr();
        const Real* dc = out.grad.ptr();
        for_each_field([&](int64_t from, int64_t to, int n) {
            for (int c = 0; c < n; ++c) dx[from + c] += dc[to + c];
        });
    });
}

// y (B, Ho, Wo, F) = im2col(x) (B, Ho, Wo, K) · Wt (K, F) + bias (F): the derivation is at the top of the file.
Var conv2d(const Var& x, const Var& Wt, const Var& bias, int stride, int padding) {
    if (x.ndim() != 4 || Wt.ndim() != 4 || bias.ndim() != 1 || Wt.dim(2) != x.dim(3) || bias.dim(0) != Wt.dim(3))
        shape_error("conv2d", "needs x (B, H, W, C), weights (KH, KW, C, F) and bias (F)", {x.shape(), Wt.shape(), bias.shape()});
    const int KH = Wt.dim(0), KW = Wt.dim(1), C = Wt.dim(2), F = Wt.dim(3);
    const Var cols = im2col(x, KH, KW, stride, padding);            // cols: (B, Ho, Wo, KH·KW·C)
    return linear(cols, reshape(Wt, Shape{KH * KW * C, F}), bias);  // y: (B, Ho, Wo, F), one product
}

// y[b, i, j, c] = max over the window (u < KH, v < KW) of x[b, i·s + u, j·s + v, c]      (no padding)
// dx[argmax[b, i, j, c]] += dy[b, i, j, c]       the gradient goes to the winner only: elsewhere ∂y/∂x = 0
Var max_pool2d(const Var& x, int kernel, int stride) {
    if (x.ndim() != 4) shape_error("max_pool2d", "needs x (B, H, W, C), channels last", {x.shape()});
    const int B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
    const int Ho = window_count("max_pool2d", "height", H, kernel, stride, 0, x.shape());
    const int Wo = window_count("max_pool2d", "width", W, kernel, stride, 0, x.shape());
    Tensor y = Tensor::uninitialized(Shape{B, Ho, Wo, C});  // (B, Ho, Wo, C)
    std::vector<int64_t> argmax(y.numel());                   // saved for backward: the winner's flat index in x
    const Real* px = x.value().ptr();
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < Ho; ++i)
            for (int j = 0; j < Wo; ++j)
                for (int c = 0; c < C; ++c) {
                    int64_t best = -1;
                    for (int u = 0; u < kernel; ++u)
                        for (int v = 0; v < kernel; ++v) {
                            const int64_t at = ((int64_t(b) * H + i * stride + u) * W + j * stride + v) * C + c;
                            if (best < 0 || px[at] > px[best]) best = at;  // strictly greater: the first of equals stays
                        }
                    const int64_t o = ((int64_t(b) * Ho + i) * Wo + j) * C + c;
                    argmax[o] = best;
                    y[o] = px[best];
                }
    return record("max_pool2d", std::move(y), {x}, [x, argmax](Node& out) {
        Real* dx = x.grad().ptr();
        for (size_t o = 0; o < argmax.size(); ++o) dx[argmax[o]] += out.grad[o];
    });
}

}  // namespace s2a
