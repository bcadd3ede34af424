// exercises/scaled_dot_product_attention.cpp — exercise: the FORWARD of scaled dot-product attention, composed
// from the library's ops (whose backward passes are already checked, so yours needs none of its own).
//
// Lesson: docs/ch5_transformer.md. Grade it: make exercise EX=scaled_dot_product_attention. The library's own:
// scaled_dot_product_attention in nn/transformer.cpp (and its fused form, nn/fused_attention.cpp).
//
// Dimensions: B batch, h heads, Tq query steps, Tk key steps, dk the width of a query and a key, dv of a value.
//
//   attention(Q, K, V) = softmax(Q Kᵀ / √dk, mask) V
//   scores[i, j] = qᵢ · kⱼ / √dk      how well query i matches key j                    (B, h, Tq, Tk)
//   w = softmax(scores, mask)         over j; a blocked (mask 0) key gets weight 0       (B, h, Tq, Tk)
//   out_i = Σⱼ w[i, j] vⱼ                                                                 (B, h, Tq, dv)
// Dividing by √dk keeps the scores' variance near 1 whatever dk is, so the softmax does not saturate.
// The ops you need (autodiff/ops.h): reshape, bmm (with trans_b for Kᵀ), scale, softmax(x) and softmax(x, mask)
// (the mask broadcasts to the scores, e.g. (B, 1, 1, Tk) padding or (Tq, Tk) causal). bmm multiplies 3-D
// batches, so fold (B, h) into one axis of B·h attentions first and unfold at the end.
#include <cmath>

#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Var scaled_dot_product_attention(const Var& q, const Var& k, const Var& v, const Tensor* mask) {
    if (q.ndim() != 4 || k.ndim() != 4 || v.ndim() != 4 || k.dim(0) != q.dim(0) || v.dim(0) != q.dim(0) ||
        k.dim(1) != q.dim(1) || v.dim(1) != q.dim(1) || k.dim(3) != q.dim(3) || v.dim(2) != k.dim(2))
        shape_error("scaled_dot_product_attention", "needs q (B, h, Tq, dk), k (B, h, Tk, dk), v (B, h, Tk, dv)",
                    {q.shape(), k.shape(), v.shape()});
    const int B = q.dim(0), h = q.dim(1), Tq = q.dim(2), dk = q.dim(3), Tk = k.dim(2), dv = v.dim(3);
    const Var q3 = reshape(q, Shape{B * h, Tq, dk});  // (B·h, Tq, dk)
    const Var k3 = reshape(k, Shape{B * h, Tk, dk});  // (B·h, Tk, dk)
    const Var v3 = reshape(v, Shape{B * h, Tk, dv});  // (B·h, Tk, dv)
    const Var scores = reshape(scale(bmm(q3, k3, false, true), Real(1 / std::sqrt(double(dk)))), Shape{B, h, Tq, Tk});
    const Var w = mask ? softmax(scores, *mask) : softmax(scores);   // (B, h, Tq, Tk)
    const Var out = bmm(reshape(w, Shape{B * h, Tq, Tk}), v3);       // (B·h, Tq, dv)
    return reshape(out, Shape{B, h, Tq, dv});                        // (B, h, Tq, dv)
}

}  // namespace s2a::exercise
