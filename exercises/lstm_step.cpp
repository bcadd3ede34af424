// exercises/lstm_step.cpp — exercise: the backward of one LSTM step's gate math, fused into one op.
//
// Lesson: docs/ch1_seq2seq.md. Grade it: make exercise EX=lstm_step. The library's own: lstm_cell_reference in
// nn/lstm.cpp (the textbook cell, op by op) and its fast path lstm_recurrence in nn/fused_lstm.cpp.
//
// Dimensions: B batch, D input features, H hidden units; 4H the four gates i, f, g, o side by side.
//
// The step (given, at the bottom): a = x_t · Wx + h_{t-1} · Wh + b (B, 4H), then the gate op, then its two halves.
// The gate op, forward (given), σ the logistic sigmoid:
//   i = σ(a[:, 0:H])   f = σ(a[:, H:2H])   g = tanh(a[:, 2H:3H])   o = σ(a[:, 3H:4H])      (B, H) each
//   c_t = f ⊙ c_{t-1} + i ⊙ g,      h_t = o ⊙ tanh(c_t)                                  out = [h_t | c_t] (B, 2H)
// Backward (yours), with dh = d loss / d h_t and dc = d loss / d c_t (the two halves of out's gradient), and the
// derivatives written with the saved activations: σ'(z) = σ(1 - σ), tanh'(z) = 1 - tanh²:
//   dc_t = dc + dh ⊙ o ⊙ (1 - tanh(c_t)²)      c_t reaches the loss directly AND through h_t
//   da_i = dc_t ⊙ g ⊙ i (1 - i)                da_f = dc_t ⊙ c_{t-1} ⊙ f (1 - f)
//   da_g = dc_t ⊙ i ⊙ (1 - g²)                 da_o = dh ⊙ tanh(c_t) ⊙ o (1 - o)
//   dc_{t-1} += dc_t ⊙ f
// Backward ADDS (+=) into the gradients of a and c_{t-1}.
#include <cmath>

#include "autodiff/ops.h"
#include "exercises/exercise.h"

namespace s2a::exercise {

Var lstm_gates(const Var& a, const Var& c_prev) {
    const int B = c_prev.ndim() == 2 ? c_prev.dim(0) : 0, H = c_prev.ndim() == 2 ? c_prev.dim(1) : 0;
    if (a.shape() != Shape{B, 4 * H} || B == 0 || H == 0)
        shape_error("lstm_gates", "needs a (B, 4H) and c_prev (B, H)", {a.shape(), c_prev.shape()});
    Tensor gates(Shape{B, 4 * H});  // (B, 4H): i, f, g, o, saved for backward
    Tensor tanh_c(Shape{B, H});     // (B, H): tanh(c_t), saved for backward
    Tensor hc(Shape{B, 2 * H});     // (B, 2H): [h_t | c_t]
    const Real *pa = a.value().ptr(), *pc = c_prev.value().ptr();
    for (int n = 0; n < B; ++n)
        for (int j = 0; j < H; ++j) {
            const Real* an = pa + int64_t(n) * 4 * H;
            Real* gn = gates.ptr() + int64_t(n) * 4 * H;
            const Real i = gn[j] = 1 / (1 + std::exp(-an[j]));
            const Real f = gn[H + j] = 1 / (1 + std::exp(-an[H + j]));
            const Real g = gn[2 * H + j] = std::tanh(an[2 * H + j]);
            const Real o = gn[3 * H + j] = 1 / (1 + std::exp(-an[3 * H + j]));
            const Real c = f * pc[int64_t(n) * H + j] + i * g;  // c_t = f ⊙ c_{t-1} + i ⊙ g
            tanh_c[int64_t(n) * H + j] = std::tanh(c);
            hc[int64_t(n) * 2 * H + j] = o * tanh_c[int64_t(n) * H + j];  // h_t = o ⊙ tanh(c_t)
            hc[int64_t(n) * 2 * H + H + j] = c;
        }
    return record("lstm_gates", std::move(hc), {a, c_prev}, [a, c_prev, gates, tanh_c, B, H](Node& out) {
        const Real* dout = out.grad.ptr();                                  // (B, 2H): [dh | dc]
        const Real* pc = c_prev.value().ptr();                              // (B, H): c_{t-1}
        Real* da = a.requires_grad() ? a.grad().ptr() : nullptr;            // (B, 4H), to add into
        Real* dc_prev = c_prev.requires_grad() ? c_prev.grad().ptr() : nullptr;  // (B, H), to add into
        // TODO: for every row n and unit j: read i, f, g, o from gates (row n at n·4H: i at j, f at H + j, g at
        // 2H + j, o at 3H + j), tanh(c_t) from tanh_c (n·H + j), dh and dc from dout (n·2H + j and n·2H + H + j);
        // then dc_t, the four da's (into da at the gates' positions) and dc_{t-1} (into dc_prev at n·H + j), as
        // in the formulas at the top. Skip da or dc_prev when it is nullptr.
    });
}

// One step of the LSTM, written with the op above: (h_t, c_t), (B, H) each.
LSTMState lstm_step(const Var& x_t, const LSTMState& s, const Var& Wx, const Var& Wh, const Var& b) {
    const int H = Wh.dim(0);
    const Var a = linear(x_t, Wx, b) + matmul(s.h, Wh);  // (B, 4H): x_t · Wx + b + h_{t-1} · Wh
    const Var hc = lstm_gates(a, s.c);                   // (B, 2H): [h_t | c_t]
    return {slice(hc, 1, 0, H), slice(hc, 1, H, 2 * H)};
}

}  // namespace s2a::exercise
