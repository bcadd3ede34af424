// nn/linear.cpp — the affine layer: one matrix product over all positions, plus the bias (one fused op).
#include "nn/linear.h"

#include <fmt/format.h>

#include <stdexcept>

#include "autodiff/ops.h"
#include "nn/init.h"

namespace s2a {

Linear::Linear(int in_features, int out_features, Rng& rng, bool bias) : in(in_features), out(out_features) {
    if (in <= 0 || out <= 0)
        throw std::invalid_argument(fmt::format("Linear: sizes must be positive, got in = {}, out = {}", in, out));
    W = add_parameter("W", init_xavier(Shape{in, out}, rng));
    if (bias) b = add_parameter("b", init_zeros(Shape{out}));
}

namespace {

// x must be (..., in): a ShapeError naming the layer otherwise.
void check_input(const Var& x, int in, const Var& W) {
    if (x.ndim() < 1 || x.dim(-1) != in)
        shape_error("Linear", fmt::format("the input's last dimension must be in = {}", in), {x.shape(), W.shape()});
}

}  // namespace

Var Linear::forward(const Var& x) const {
    check_input(x, in, W);  // x: (..., in)
    // y: (..., out), every position in one product; the bias row (out) is added at every position
    return b.defined() ? s2a::linear(x, W, b) : matmul(x, W);
}

Var Linear::forward_relu(const Var& x) const {
    check_input(x, in, W);  // x: (..., in)
    return b.defined() ? linear_relu(x, W, b) : relu(matmul(x, W));  // (..., out)
}

Var Linear::forward_residual(const Var& x, const Var& r) const {
    check_input(x, in, W);  // x: (..., in)
    return b.defined() ? linear_residual(x, W, b, r) : r + matmul(x, W);  // (..., out)
}

}  // namespace s2a
