// nn/linear.cpp — the affine layer: flatten, one matrix product, add the bias, unflatten.
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
    const bool flat = x.ndim() == 2;  // already (N, in): no reshape needed
    const int N = static_cast<int>(x.numel() / in);
    Var x2 = flat ? x : reshape(x, Shape{N, in});  // x2: (N, in)
    Var y2 = matmul(x2, W);                         // y2: (N, out)
    if (b.defined()) y2 = y2 + b;                   // (N, out) + (out): the bias row is added to every row
    if (flat) return y2;
    Shape y_shape = x.shape();  // (..., in) → (..., out)
    y_shape[-1] = out;
    return reshape(y2, y_shape);  // y: (..., out)
}

}  // namespace s2a
