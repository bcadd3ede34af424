// autodiff/ops.h — every differentiable operation, declared in one place.
//
// Each op is one function: it checks shapes (throwing ShapeError naming the op and the shapes), computes its
// output, and records a backward function right beside the forward code in its .cpp file:
//   ops_linalg.cpp     matmul, linear, bmm
//   ops_pointwise.cpp  add sub mul div (with broadcasting), neg, scale, tanh, sigmoid, relu, exp, log
//   ops_shape.cpp      sum, mean, reshape, transpose, permute, concat, slice, select, stack
//   ops_nn.cpp         embedding, softmax, log_softmax, cross_entropy, layer_norm, dropout
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

// ---- convolution
// 1-D convolution along the time axis, "same" length with zero padding: x (B, S, Cin), w (K, Cin, Cout) →
//   y[b, s, o] = Σₖ Σ_c x[b, s + k - P, c] · w[k, c, o],   P = (K - 1) / 2,   x = 0 outside 0..S-1
// (a cross-correlation, as in every deep-learning library; an even K looks one step further right than left).
// Computed as one matrix product over the unfolded input (ops_conv1d.cpp).
Var conv1d(const Var& x, const Var& w);

}  // namespace s2a
