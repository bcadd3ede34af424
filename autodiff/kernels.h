// autodiff/kernels.h — the row kernels an op shares with the fused ops of nn/ that must agree with it: one
// function computes the numbers for both, so the fused op cannot drift from the op it is tested against.
//   softmax_row, softmax_row_backward   the softmax op (ops_nn.cpp) and multi_head_attention
//                                       (nn/fused_attention.cpp), which runs them on its score rows in place
//   mask_strides                        reads a mask broadcast to a larger shape in place, by NumPy's rules
//
// Dimensions: n the length of one row (the last axis).
#pragma once

#include <cstdint>

#include "autodiff/tensor.h"

namespace s2a {

// The masked softmax of one row of n values:
//   yᵢ = mᵢ exp(xᵢ - max) / Σⱼ mⱼ exp(xⱼ - max),   mᵢ = (mask[i · mask_stride] != 0),   max over the kept xⱼ
// Subtracting the max changes nothing mathematically and keeps exp from overflowing. mask nullptr keeps every
// position; mask_stride 0 reads one value for the whole row. A row masked entirely gives all zeros, never
// 0/0. y may be x (in place).
void softmax_row(const Real* x, const Real* mask, int64_t mask_stride, Real* y, int n);

// Its backward, with y the saved output:  dx += y ⊙ (dy - Σⱼ dyⱼ yⱼ)   (the softmax's Jacobian-vector product).
// A masked position has y = 0, so it gets exactly 0 gradient and needs no mask here.
void softmax_row_backward(const Real* y, const Real* dy, Real* dx, int n);

// The strides that read mask as if it were stretched to shape s, without copying it: with both aligned at the
// back to 4 axes (missing leading axes are 1), element (i0, i1, i2, i3) of s is
//   mask[i0 · axis[0] + i1 · axis[1] + i2 · axis[2] + i3 · axis[3]],   axis[k] = 0 where the mask has size 1.
// Throws ShapeError naming op if the mask does not broadcast to s.
struct MaskStrides {
    int64_t axis[4];
};
MaskStrides mask_strides(const char* op, const Tensor& mask, const Shape& s);

}  // namespace s2a
