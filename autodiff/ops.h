// autodiff/ops.h — every differentiable operation, declared in one place.
//
// Each op is one function: it checks shapes (throwing ShapeError naming the op and the shapes), computes its
// output, and records a backward function right beside the forward code in its .cpp file:
//   ops_linalg.cpp     matmul, linear, bmm
//   ops_pointwise.cpp  add sub mul div (with broadcasting), neg, scale, tanh, sigmoid, relu, exp, log
//   ops_shape.cpp      sum, mean, reshape, transpose, permute, concat, slice, select, stack
//   ops_nn.cpp         embedding, softmax, log_softmax, cross_entropy, layer_norm, dropout
//   ops_conv2d.cpp     im2col, conv2d, max_pool2d (images, channels last)
//   ops_copy.cpp       copy_mixture (the pointer-generator's output distribution)
//   ops_conv1d.cpp     conv1d
//   kernels.h          the masked softmax row kernels of ops_nn.cpp, shared with nn/fused_attention.cpp
//
// Broadcasting follows NumPy: shapes are aligned at the back, and a dimension of 1 (or a missing one)
// stretches to the other's size. So a scalar, a bias row (H) against (B, H), or a mask (B, 1, T) against
// (B, Tq, T) all work; the backward of a broadcast input sums the gradient over the stretched dimensions.
#pragma once

#include <vector>

#include "autodiff/tape.h"

namespace s2a {

// ---- linear algebra
Var matmul(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);  // (M, K) · (K, N) → (M, N);
                                                                                      // also (..., K) · (K, N) → (..., N)
Var bmm(const Var& a, const Var& b, bool trans_a = false, bool trans_b = false);     // (B, M, K) · (B, K, N) → (B, M, N)
Var linear(const Var& x, const Var& W, const Var& b);  // x (..., K) · W (K, N) + b (N) → (..., N), one fused node
Var linear_relu(const Var& x, const Var& W, const Var& b);  // max(0, linear(x, W, b)), one node (keeps one tensor, not two)
Var linear_residual(const Var& x, const Var& W, const Var& b, const Var& r);  // r + linear(x, W, b), one node (keeps no output)

// ---- pointwise
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var neg(const Var& x);
Var scale(const Var& x, Real s);  // s · x
Var tanh(const Var& x);
Var sigmoid(const Var& x);
Var relu(const Var& x);
Var exp(const Var& x);
Var log(const Var& x);
inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
inline Var operator/(const Var& a, const Var& b) { return div(a, b); }
inline Var operator-(const Var& x) { return neg(x); }
inline Var operator*(Real s, const Var& x) { return scale(x, s); }

// ---- reductions and shapes
Var sum(const Var& x);                                   // all elements → scalar ()
Var sum(const Var& x, int axis, bool keepdim = false);   // along one axis
Var mean(const Var& x);
Var mean(const Var& x, int axis, bool keepdim = false);
Var reshape(const Var& x, const Shape& shape);           // same number of elements; -1 is not supported
Var transpose(const Var& x);                             // swaps the last two axes
Var permute(const Var& x, const std::vector<int>& axes); // output axis i is input axis axes[i]
Var concat(const std::vector<Var>& xs, int axis);
Var slice(const Var& x, int axis, int begin, int end);   // [begin, end) along axis
Var select(const Var& x, int axis, int index);           // one index along axis; the axis disappears
Var stack(const std::vector<Var>& xs, int axis);         // a new axis; the inverse of select

// ---- neural-network ops
// Rows of W (V, D) picked by ids (any shape S) → (S..., D). Backward scatter-adds into W's gradient.
Var embedding(const Var& W, const IndexTensor& ids);
// Softmax over the last axis. With a mask (broadcastable to x, 1 = keep, 0 = masked), masked positions get
// exactly 0 and a row that is masked entirely yields all zeros, never NaN.
Var softmax(const Var& x);
Var softmax(const Var& x, const Tensor& mask);
Var log_softmax(const Var& x);  // over the last axis, computed stably as x - max - log Σ exp(x - max)
// Mean cross-entropy of logits (..., V) against integer targets (...). Targets equal to ignore_index
// (padding) add nothing and are not counted. With label smoothing ε the target distribution is
// (1 - ε) · onehot + ε / V. Fused: softmax and the loss in one op, gradient (p - q) / count.
Var cross_entropy(const Var& logits, const IndexTensor& targets, int ignore_index = -1, Real label_smoothing = 0);
// Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) · gamma + beta; gamma, beta: (D).
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, Real eps = 1e-5);
// Inverted dropout: during training each element is zeroed with probability p and the rest are scaled by
// 1 / (1 - p); in evaluation (training = false) it is the identity. The mask comes from rng.
Var dropout(const Var& x, Real p, Rng& rng, bool training);

// ---- images, channels last: x (B, H, W, C). Ho = (H + 2·padding - KH) / stride + 1, likewise Wo.
// Every receptive field copied into a row of its own (zeros where it reaches into the padding):
// x (B, H, W, C) → cols (B, Ho, Wo, KH·KW·C), entry (u·KW + v)·C + c of a row from pixel (u, v), channel c.
Var im2col(const Var& x, int KH, int KW, int stride, int padding);
// Convolution as im2col and one matrix product: x (B, H, W, C), weights (KH, KW, C, F), bias (F)
// → (B, Ho, Wo, F). Throws ShapeError when the shapes disagree or the kernel does not fit in the padded image.
Var conv2d(const Var& x, const Var& weights, const Var& bias, int stride = 1, int padding = 0);
// The largest value of each kernel×kernel window, per channel (no padding): x (B, H, W, C) → (B, Ho, Wo, C).
// Of equal values the first in the window (row by row) wins, and only it receives the gradient.
Var max_pool2d(const Var& x, int kernel, int stride);

// ---- the copy mechanism (See et al. 2017)
// The pointer-generator's output distribution over an extended vocabulary of W ≥ V words, in log space:
//   P(w) = p_gen · P_vocab(w) + (1 - p_gen) · Σ_{s: src[s] = w, mask[s] = 1} a[s]      (P_vocab(w) = 0 for w ≥ V)
// log_p_vocab (B, T, V) from log_softmax, a (B, T, S) attention weights, z (B, T, 1) the logit of p_gen =
// σ(z), src (B, S) each source position's word in 0..W-1, mask nullptr or (B, S) with 1 = real, 0 = padding
// (a padded position copies nothing) → log P (B, T, W); -∞ exactly where P(w) = 0 (a word of another row's
// source). Throws ShapeError for shapes that do not fit, std::out_of_range for a source id outside 0..W-1.
Var copy_mixture(const Var& log_p_vocab, const Var& a, const Var& z, const IndexTensor& src, int W, const Tensor* mask = nullptr);

// ---- convolution
// 1-D convolution along the time axis, "same" length with zero padding: x (B, S, Cin), w (K, Cin, Cout) →
//   y[b, s, o] = Σₖ Σ_c x[b, s + k - P, c] · w[k, c, o],   P = (K - 1) / 2,   x = 0 outside 0..S-1
// (a cross-correlation, as in every deep-learning library; an even K looks one step further right than left).
// Computed as one matrix product over the unfolded input (ops_conv1d.cpp).
Var conv1d(const Var& x, const Var& w);

}  // namespace s2a
