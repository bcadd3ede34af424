// exercises/masked_softmax.cpp — exercise: the backward of the masked softmax.
//
// Lesson: docs/ch0_tape.md. Grade it: make exercise EX=masked_softmax. The library's own: softmax(x, mask) in
// autodiff/ops_nn.cpp, on the row kernels of autodiff/kernels.h.
//
// Dimensions: R rows (every axis but the last, flattened), n the length of one row (the last axis).
//
// Forward (given), one row at a time, with mᵢ = 1 where the mask keeps position i and 0 where it hides it:
//   yᵢ = mᵢ exp(xᵢ - max) / Σⱼ mⱼ exp(xⱼ - max)          (a row hidden entirely gives y = 0, not 0/0)
// Backward (yours). The softmax's Jacobian is ∂yᵢ/∂xⱼ = yᵢ (δᵢⱼ - yⱼ): a diagonal part yᵢ δᵢⱼ (xᵢ moves its
// own yᵢ) and a part -yᵢ yⱼ (xⱼ moves every y through the shared denominator). With dy = d loss / d y:
//   dxⱼ = Σᵢ dyᵢ ∂yᵢ/∂xⱼ = yⱼ (dyⱼ - Σᵢ dyᵢ yᵢ)
// per row. A hidden position has yⱼ = 0, so it gets exactly 0: the mask needs no code of its own in backward.
// As in every op of the library, backward ADDS (+=) into x's gradient: x may be used elsewhere too.
#include "autodiff/kernels.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Var masked_softmax(const Var& x, const Tensor& mask) {
    if (x.ndim() == 0 || x.dim(-1) == 0 || mask.shape != x.shape())
        shape_error("masked_softmax", "needs x (..., n) with n ≥ 1 and a mask of x's shape", {x.shape(), mask.shape});
    const int n = x.dim(-1);
    const int64_t rows = x.numel() / n;
    Tensor y = Tensor::uninitialized(x.shape());  // (R, n), every row written by softmax_row
    for (int64_t r = 0; r < rows; ++r) softmax_row(x.value().ptr() + r * n, mask.ptr() + r * n, 1, y.ptr() + r * n, n);
    return record("masked_softmax", std::move(y), {x}, [x, rows, n](Node& out) {
        const Real* y = out.value.ptr();   // (R, n): the saved output
        const Real* dy = out.grad.ptr();   // (R, n): d loss / d y
        Real* dx = x.grad().ptr();         // (R, n): d loss / d x, to add into
        // TODO: for every row, dxⱼ += yⱼ (dyⱼ - Σᵢ dyᵢ yᵢ). Row r holds elements r·n .. r·n + n - 1.
    });
}

}  // namespace s2a::exercise
