// nn/lstm.cpp — the LSTM module and the op-by-op reference cell. The module's forward and step run the
// fused recurrence, lstm_recurrence (nn/fused_lstm.cpp), which must agree with the reference cell here.
//
// Dimensions: B batch, T time steps, D input features, H hidden units.
#include "nn/lstm.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "autodiff/ops.h"
#include "nn/fused_lstm.h"

namespace s2a {

// ---------------------------------------------------------------- the reference cell
LSTMState lstm_cell_reference(const Var& x_t, const LSTMState& s, const Var& Wx, const Var& Wh, const Var& b) {
    const int H = Wh.dim(0);
    const Var a = matmul(x_t, Wx) + matmul(s.h, Wh) + b;  // (B, 4H)  a = x_t · Wx + h_{t-1} · Wh + b
    const Var i = sigmoid(slice(a, 1, 0, H));             // (B, H)   i = σ(a_i)
    const Var f = sigmoid(slice(a, 1, H, 2 * H));         //          f = σ(a_f)
    const Var g = tanh(slice(a, 1, 2 * H, 3 * H));        //          g = tanh(a_g)
    const Var o = sigmoid(slice(a, 1, 3 * H, 4 * H));     //          o = σ(a_o)
    const Var c = f * s.c + i * g;                        //          c_t = f ⊙ c_{t-1} + i ⊙ g
    const Var h = o * tanh(c);                            //          h_t = o ⊙ tanh(c_t)
    return {h, c};
}

// ---------------------------------------------------------------- the module

// Initialisation (the textbook's): Wx ~ N(0, 1/D) and Wh ~ N(0, 1/H), biases 0. A gate's pre-activation
// then has a variance of about Var(x) + Var(h) ≤ 2 whatever D and H are: the gates start responsive, not
// saturated, and an input of embedding size 16 moves them from the first step. (PyTorch's uniform ±1/√H is
// 1/√3 as large for Wh and, for a 16-wide input against H = 256, 1/7 as large for Wx: the input would start
// with a weak hold on the gates.) The forget-gate bias of 1 often recommended stays 0 too: it helps memory
// last over hundreds of steps, and the sequences here run to a few dozen.
LSTM::LSTM(int D, int H, Rng& rng) : D_(D), H_(H) {
    Wx_ = add_parameter("Wx", randn(Shape{D, 4 * H}, rng, Real(1 / std::sqrt(double(D)))));
    Wh_ = add_parameter("Wh", randn(Shape{H, 4 * H}, rng, Real(1 / std::sqrt(double(H)))));
    b_ = add_parameter("b", Tensor(Shape{4 * H}));
}

LSTMState LSTM::state_or_zeros(const char* op, int B, const LSTMState& s) const {
    LSTMState r{s.h.defined() ? s.h : constant(Tensor(Shape{B, H_})), s.c.defined() ? s.c : constant(Tensor(Shape{B, H_}))};
    if (r.h.shape() != Shape{B, H_} || r.c.shape() != Shape{B, H_})
        shape_error(op, fmt::format("the state h, c must be (B, H) = ({}, {})", B, H_), {r.h.shape(), r.c.shape()});
    return r;
}

void LSTM::check_sequence(const Var& x) const {
    if (x.ndim() != 3 || x.dim(2) != D_ || x.dim(1) < 1)
        shape_error("LSTM", fmt::format("x must be (B, T, D) with T >= 1 and D = {}, the input size of Wx", D_), {x.shape(), Wx_.shape()});
}

std::pair<Var, LSTMState> LSTM::forward(const Var& x, const LSTMState& init) const {
    check_sequence(x);
    const int B = x.dim(0), T = x.dim(1);
    const LSTMState s0 = state_or_zeros("LSTM", B, init);
    // the input projection x · Wx + b of every step in one product, then the steps: one fused op
    const LSTMRecurrence r = lstm_recurrence(x, Wx_, b_, Wh_, s0.h, s0.c);
    return {r.hs, LSTMState{select(r.hs, 1, T - 1), r.c_last}};
}

// The fused op with T = 1: the same code path (and so the same tested derivatives) as forward.
LSTMState LSTM::step(const Var& x_t, const LSTMState& s) const {
    if (x_t.ndim() != 2 || x_t.dim(1) != D_)
        shape_error("LSTM.step", fmt::format("x_t must be (B, D) with D = {}, the input size of Wx", D_), {x_t.shape(), Wx_.shape()});
    const int B = x_t.dim(0);
    const LSTMState s0 = state_or_zeros("LSTM.step", B, s);
    const LSTMRecurrence r = lstm_recurrence(reshape(x_t, Shape{B, 1, D_}), Wx_, b_, Wh_, s0.h, s0.c);  // x (B, 1, D)
    return {reshape(r.hs, Shape{B, H_}), r.c_last};
}

std::pair<Var, LSTMState> LSTM::forward_reference(const Var& x, const LSTMState& init) const {
    check_sequence(x);
    LSTMState s = state_or_zeros("LSTM", x.dim(0), init);
    std::vector<Var> hs;  // T tensors (B, H)
    for (int t = 0; t < x.dim(1); ++t) {
        s = lstm_cell_reference(select(x, 1, t), s, Wx_, Wh_, b_);
        hs.push_back(s.h);
    }
    return {stack(hs, 1), s};  // hs (B, T, H)
}

}  // namespace s2a
