// nn/fused_lstm.h — the fused LSTM recurrence: the input projection and every time step of the LSTM in one
// tape node, with its backward written by hand. It is the fast path of LSTM::forward and LSTM::step (nn/lstm.h).
//
// Its op-by-op reference is lstm_cell_reference in nn/lstm.cpp (the textbook cell, one existing op per
// equation), looped over the steps by LSTM::forward_reference. tests/test_rnn.cpp holds the two to the same
// values and gradients (to 1e-12, in double) and gradient-checks both; `make gradcheck` lists them as a pair.
// (Every fused kernel lives in a file nn/fused_<what it fuses>, apart from the readable layer, and names its
// reference like this.)
//
// Dimensions: B batch, T time steps, D input features, H hidden units; 4H the four gates i, f, g, o side by side.
#pragma once

#include "autodiff/tape.h"

namespace s2a {

// The two outputs of the fused recurrence.
struct LSTMRecurrence {
    Var hs;      // (B, T, H): h_t for every step
    Var c_last;  // (B, H):    c_{T-1}, the final cell state (differentiable, see fused_lstm.cpp)
};

// The whole layer as one op: x (B, T, D) the input sequence, Wx (D, 4H) and b (4H) its projection, Wh (H, 4H),
// h0 and c0 (B, H) the initial state (all defined; pass zeros for "no state").
// The final h is hs[:, T-1, :]; take it with select(hs, 1, T - 1).
LSTMRecurrence lstm_recurrence(const Var& x, const Var& Wx, const Var& b, const Var& Wh, const Var& h0, const Var& c0);

}  // namespace s2a
