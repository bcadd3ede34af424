// nn/lstm.h — the LSTM layer, and the textbook cell built op by op. The layer runs the fused recurrence of
// nn/fused_lstm.h (one tape node for every step); the tests hold it to this file's reference cell.
//
// Dimensions: B batch, T time steps, D input features, H hidden units. Layout is batch-first: x (B, T, D).
//
// The equations (one step, every product a row vector times a matrix; σ is the logistic sigmoid):
//   a   = x_t · Wx + h_{t-1} · Wh + b          (B, 4H)  the four gates' pre-activations, side by side
//   i   = σ(a[:, 0:H])                         input gate:  how much of the candidate to write
//   f   = σ(a[:, H:2H])                        forget gate: how much of the old cell to keep
//   g   = tanh(a[:, 2H:3H])                    candidate values
//   o   = σ(a[:, 3H:4H])                       output gate: how much of the cell to show
//   c_t = f ⊙ c_{t-1} + i ⊙ g                  (B, H)
//   h_t = o ⊙ tanh(c_t)                        (B, H)
// The gate order i, f, g, o is PyTorch's, so weights can be compared with (or loaded from) PyTorch.
//
// Why the fast path is fast: x · Wx does not depend on h, so the input projection of ALL time steps is one
// large matrix product (B·T, D) · (D, 4H) before the loop. Only h_{t-1} · Wh must wait for the previous
// step; lstm_recurrence (nn/fused_lstm.h) does the projection, then that product (all four gates at once) and
// the pointwise gate math for every step, inside a single tape node, with its backward written by hand.
#pragma once

#include <utility>

#include "autodiff/tape.h"
#include "nn/module.h"

namespace s2a {

// The recurrent state. Both (B, H). A default-constructed (undefined) Var means zeros.
struct LSTMState {
    Var h, c;
};

// One step of the textbook equations above, one existing op per line: slow, readable, and the reference the
// fused path is tested against. x_t (B, D), s.h and s.c (B, H), Wx (D, 4H), Wh (H, 4H), b (4H).
LSTMState lstm_cell_reference(const Var& x_t, const LSTMState& s, const Var& Wx, const Var& Wh, const Var& b);

class LSTM : public Module {
  public:
    // Parameters "Wx" (D, 4H), "Wh" (H, 4H), "b" (4H); see lstm.cpp for the initialisation.
    LSTM(int D, int H, Rng& rng);

    // x (B, T, D) and the initial state (h0, c0 each (B, H); undefined means zeros) →
    // hs (B, T, H) and the final state (h, c), through which the loss can flow back too.
    std::pair<Var, LSTMState> forward(const Var& x, const LSTMState& init = {}) const;

    // One step, for decoding one token at a time: x_t (B, D), state (B, H) each → the new state.
    LSTMState step(const Var& x_t, const LSTMState& s) const;

    // The same result as forward, computed by looping lstm_cell_reference over time and stacking.
    std::pair<Var, LSTMState> forward_reference(const Var& x, const LSTMState& init = {}) const;

    int input_size() const { return D_; }
    int hidden_size() const { return H_; }
    const Var& Wx() const { return Wx_; }  // (D, 4H)
    const Var& Wh() const { return Wh_; }  // (H, 4H)
    const Var& b() const { return b_; }    // (4H)

  private:
    // Throws ShapeError unless x is (B, T, D) with T >= 1 and D the input size.
    void check_sequence(const Var& x) const;
    // s with undefined parts replaced by zeros (B, H); throws ShapeError (naming op) if a part is not (B, H).
    LSTMState state_or_zeros(const char* op, int B, const LSTMState& s) const;

    int D_, H_;
    Var Wx_, Wh_, b_;
};

}  // namespace s2a
