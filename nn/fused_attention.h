// nn/fused_attention.h — the fused multi-head attention: every head's scaled dot-product attention in one tape
// node, with its backward by hand. It is the fast path of MultiHeadAttention::forward (nn/transformer.h).
//
// Its op-by-op reference is scaled_dot_product_attention in nn/transformer.cpp, run on heads split by reshape
// and permute (MultiHeadAttention::forward_reference). tests/test_transformer.cpp holds the two to the same
// values and gradients and gradient-checks the fused op; `make gradcheck` lists them as a pair. Its masked
// softmax is the softmax op's own row kernel (autodiff/kernels.h). (Every fused kernel lives in a file
// nn/fused_<what it fuses>, apart from the readable layer, and names its reference like this.)
//
// Dimensions: B batch, Tq/Tk query/key steps, D d_model, h heads, dk = D/h.
#pragma once

#include "autodiff/tape.h"

namespace s2a {

// Every head's attention in one fused op.
//   q (B, Tq, D), k (B, Tk, D), v (B, Tk, D): the projected inputs, heads not split: head j is columns
//   j·dk .. (j+1)·dk - 1 with dk = D / heads.  → (B, Tq, D), the heads' outputs side by side (merged).
//   mask: as in scaled_dot_product_attention (nn/transformer.h); dropout as its second form. Same values (and,
//   for a seeded rng, the same dropout draws) as the reference.
//   weights: when given, set to the softmax weights (B, h, Tq, Tk), before dropout: the very tensor the node
//   keeps for backward, shared, not a copy (a copy is as large as the step's attention weights).
Var multi_head_attention(const Var& q, const Var& k, const Var& v, int heads, const Tensor* mask, Real dropout,
                         Rng& rng, bool training, std::shared_ptr<const Tensor>* weights = nullptr);

}  // namespace s2a
