// nn/gru.cpp — the GRU cell and layer, one existing op per equation (see gru.h for the equations).
//
// Dimensions: B batch, T time steps, D input features, H hidden units.
// Unlike the LSTM there is no fused recurrence here: each step is about twenty small nodes on the tape.
// The input projection of all steps is still one product before the loop, the part that costs the most.
#include "nn/gru.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "autodiff/ops.h"

namespace s2a {

Var gru_cell(const Var& xw_t, const Var& h, const Var& Wh, const Var& bhn) {
    const int H = Wh.dim(0);
    const Var hw = matmul(h, Wh);                                                  // (B, 3H)  [h_r, h_z, h_n]
    const Var r = sigmoid(slice(xw_t, 1, 0, H) + slice(hw, 1, 0, H));              // (B, H)   r = σ(x_r + h_r)
    const Var z = sigmoid(slice(xw_t, 1, H, 2 * H) + slice(hw, 1, H, 2 * H));      //          z = σ(x_z + h_z)
    const Var n = tanh(slice(xw_t, 1, 2 * H, 3 * H) + r * (slice(hw, 1, 2 * H, 3 * H) + bhn));  // n = tanh(x_n + r ⊙ (h_n + bhn))
    return n + z * (h - n);  // h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}, written with one product fewer
}

// Initialisation: weights uniform in ±1/√H, as for the LSTM (the gates' pre-activations start with
// variance below 1/3, away from saturation); biases 0.
GRU::GRU(int D, int H, Rng& rng) : D_(D), H_(H) {
    const Real k = 1 / std::sqrt(static_cast<Real>(H));
    Wx_ = add_parameter("Wx", rand_uniform(Shape{D, 3 * H}, rng, -k, k));
    Wh_ = add_parameter("Wh", rand_uniform(Shape{H, 3 * H}, rng, -k, k));
    b_ = add_parameter("b", Tensor(Shape{3 * H}));
    bhn_ = add_parameter("bhn", Tensor(Shape{H}));
}

Var GRU::state_or_zeros(const char* op, int B, const Var& h) const {
    const Var r = h.defined() ? h : constant(Tensor(Shape{B, H_}));
    if (r.shape() != Shape{B, H_}) shape_error(op, fmt::format("the state h must be (B, H) = ({}, {})", B, H_), {r.shape()});
    return r;
}

std::pair<Var, Var> GRU::forward(const Var& x, const Var& h0) const {
    if (x.ndim() != 3 || x.dim(2) != D_ || x.dim(1) < 1)
        shape_error("GRU", fmt::format("x must be (B, T, D) with T >= 1 and D = {}, the input size of Wx", D_), {x.shape(), Wx_.shape()});
    const int B = x.dim(0), T = x.dim(1);
    Var h = state_or_zeros("GRU", B, h0);
    // xw (B, T, 3H) = x (B·T, D) · Wx (D, 3H) + b: the input projection of every step in one product
    const Var xw = linear(x, Wx_, b_);
    std::vector<Var> hs;  // T tensors (B, H)
    for (int t = 0; t < T; ++t) {
        h = gru_cell(select(xw, 1, t), h, Wh_, bhn_);
        hs.push_back(h);
    }
    return {stack(hs, 1), h};  // hs (B, T, H), h_{T-1} (B, H)
}

Var GRU::step(const Var& x_t, const Var& h) const {
    if (x_t.ndim() != 2 || x_t.dim(1) != D_)
        shape_error("GRU.step", fmt::format("x_t must be (B, D) with D = {}, the input size of Wx", D_), {x_t.shape(), Wx_.shape()});
    const Var h0 = state_or_zeros("GRU.step", x_t.dim(0), h);
    return gru_cell(linear(x_t, Wx_, b_), h0, Wh_, bhn_);  // x_t · Wx + b: (B, 3H)
}

}  // namespace s2a
