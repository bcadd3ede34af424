// nn/fused_attention.h — the fused multi-head attention op, the fast path of MultiHeadAttention::forward
// (nn/transformer.h). Its op-by-op reference is scaled_dot_product_attention over heads split by reshape and
// permute (MultiHeadAttention::forward_reference).
//
// Dimensions: B batch, Tq/Tk query/key steps, D d_model, h heads, dk = D/h.
#pragma once

#include "autodiff/tape.h"

namespace s2a {

// Every head's attention in one fused op (the fast path of MultiHeadAttention::forward).
//   q (B, Tq, D), k (B, Tk, D), v (B, Tk, D): the projected inputs, heads not split: head j is columns
//   j·dk .. (j+1)·dk - 1 with dk = D / heads.  → (B, Tq, D), the heads' outputs side by side (merged).
//   mask, weights: as in scaled_dot_product_attention (nn/transformer.h); dropout as its second form. Same values (and, for a
//   seeded rng, the same dropout draws) as the reference; gradient-checked in tests/test_transformer.cpp.
Var multi_head_attention(const Var& q, const Var& k, const Var& v, int heads, const Tensor* mask, Real dropout,
                         Rng& rng, bool training, Tensor* weights = nullptr);

}  // namespace s2a
