// exercises/layer_norm.cpp — exercise: the backward of layer normalisation.
//
// Lesson: docs/ch5_transformer.md. Grade it: make exercise EX=layer_norm. The library's own: layer_norm in
// autodiff/ops_nn.cpp (used by LayerNorm, nn/transformer.h).
//
// Dimensions: R rows (every axis but the last, flattened), D features (the last axis).
//
// Forward (given), over each row of D values x₁ … x_D:
//   μ = (1/D) Σᵢ xᵢ,   σ² = (1/D) Σᵢ (xᵢ - μ)²,   rstd = 1 / √(σ² + eps)      (μ and rstd saved per row)
//   x̂ᵢ = (xᵢ - μ) · rstd,   yᵢ = x̂ᵢ γᵢ + βᵢ
// Backward (yours), with dy = d loss / d y:
//   dγᵢ += Σ_rows dyᵢ x̂ᵢ,    dβᵢ += Σ_rows dyᵢ                 (γ and β serve every row: sum over rows)
//   dxᵢ += rstd · (dx̂ᵢ - mean(dx̂) - x̂ᵢ · mean(dx̂ ⊙ x̂)),   dx̂ = dy ⊙ γ,   means over the row's D values
// The two mean terms are there because μ and σ² depend on every xⱼ of the row: moving one xⱼ shifts μ
// (which every x̂ᵢ subtracts) and σ² (which scales every x̂ᵢ).
#include <cmath>

#include "exercises/exercise.h"

namespace s2a::exercise {

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, Real eps) {
    const int D = x.ndim() ? x.dim(-1) : 0;
    if (D == 0 || gamma.shape() != Shape{D} || beta.shape() != Shape{D})
        shape_error("layer_norm", "needs x (..., D) with gamma (D) and beta (D)", {x.shape(), gamma.shape(), beta.shape()});
    const int64_t rows = x.numel() / D;
    Tensor mean(Shape{static_cast<int>(rows)}), rstd(Shape{static_cast<int>(rows)});  // (R) each, saved for backward
    Tensor y(x.shape());                                                              // (R, D)
    const Real *px = x.value().ptr(), *g = gamma.value().ptr(), *b = beta.value().ptr();
    for (int64_t r = 0; r < rows; ++r) {
        const Real* xr = px + r * D;
        Real mu = 0, var = 0;
        for (int i = 0; i < D; ++i) mu += xr[i];
        mu /= D;
        for (int i = 0; i < D; ++i) var += (xr[i] - mu) * (xr[i] - mu);
        var /= D;
        mean[r] = mu;
        rstd[r] = 1 / std::sqrt(var + eps);
        for (int i = 0; i < D; ++i) y[r * D + i] = (xr[i] - mu) * rstd[r] * g[i] + b[i];
    }
    return record("layer_norm", std::move(y), {x, gamma, beta}, [x, gamma, beta, mean, rstd, rows, D](Node& out) {
        const Real* dy = out.grad.ptr();                                       // (R, D): d loss / d y
        const Real *px = x.value().ptr(), *g = gamma.value().ptr();            // (R, D), (D)
        Real* dx = x.requires_grad() ? x.grad().ptr() : nullptr;               // (R, D), to add into
        Real* dg = gamma.requires_grad() ? gamma.grad().ptr() : nullptr;       // (D), to add into
        Real* db = beta.requires_grad() ? beta.grad().ptr() : nullptr;         // (D), to add into
        // TODO: for every row r (elements r·D .. r·D + D - 1), with x̂ᵢ = (xᵢ - mean[r]) · rstd[r]:
        //   dγᵢ += dyᵢ x̂ᵢ,   dβᵢ += dyᵢ,   then (a second pass, once both means are known)
        //   dxᵢ += rstd[r] · (dyᵢ γᵢ - mean(dy ⊙ γ) - x̂ᵢ · mean(dy ⊙ γ ⊙ x̂)).
        // Skip dx, dg or db when it is nullptr: that input needs no gradient.
    });
}

}  // namespace s2a::exercise
