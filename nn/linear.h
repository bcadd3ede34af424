// nn/linear.h — Linear: the affine layer y = x · W + b.
//
// Dimensions:
//   in, out   the sizes of the input and output feature vectors
//   ...       any leading dimensions (batch B, time T, ...), passed through unchanged
//   N         the product of the leading dimensions: how many vectors are transformed at once
//
// Every vector x (in) becomes y = x · W + b (out). A batch is the same product for N rows at once, so the
// forward pass is one matrix product over all N rows (matmul reads x (..., in) as (N, in) without a copy),
// then the bias row added to every row (broadcasting). The gradients come
// from the ops: with dY (N, out) = d loss / d y,
//   dW = Xᵀ · dY      (in, out)   summed over all N rows: every row used the same W
//   db = Σₙ dY[n]     (out)       the broadcast add's backward sums over the stretched dimension
//   dX = dY · Wᵀ      (N, in)
//
// W is stored (in, out), not (out, in), so the forward is x · W with no transpose.
#pragma once

#include "autodiff/tape.h"
#include "nn/module.h"

namespace s2a {

class Linear : public Module {
  public:
    // W: Xavier-uniform (see nn/init.h); b: zeros, and absent when bias is false.
    Linear(int in, int out, Rng& rng, bool bias = true);

    // x: (..., in) → (..., out). Throws ShapeError if x's last dimension is not `in`.
    Var forward(const Var& x) const;
    // max(0, forward(x)) as one node (linear_relu): one (..., out) tensor kept for backward instead of two.
    Var forward_relu(const Var& x) const;
    // r + forward(x) as one node (linear_residual): a residual connection whose sublayer ends in this layer;
    // the layer's own output is never kept. r: (..., out).
    Var forward_residual(const Var& x, const Var& r) const;

    int in, out;
    Var W;  // (in, out), parameter "W"
    Var b;  // (out), parameter "b"; undefined (b.defined() is false) without bias
};

}  // namespace s2a
