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

Var Linear::forward(const Var& x) const {
    // x: (..., in)
    if (x.ndim() < 1 || x.dim(-1) != in)
        shape_error("Linear", fmt::format("the input's last dimension must be in = {}", in), {x.shape(), W.shape()});
    // y: (..., out), every position in one product; the bias row (out) is added at every position
    return b.defined() ? s2a::linear(x, W, b) : matmul(x, W);
}

Var Linear::forward_relu(const Var& x) const {
    if (!b.defined()) return relu(forward(x));
    if (x.ndim() < 1 || x.dim(-1) != in)
        shape_error("Linear", fmt::format("the input's last dimension must be in = {}", in), {x.shape(), W.shape()});
    return linear_relu(x, W, b);  // (..., out)
}

}  // namespace s2a
