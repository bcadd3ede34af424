// nn/gru.h — the GRU layer (gated recurrent unit), built op by op from existing ops.
//
// Dimensions: B batch, T time steps, D input features, H hidden units. Layout is batch-first: x (B, T, D).
//
// The equations are the cuDNN / PyTorch form, gate order r, z, n:
//   [x_r, x_z, x_n] = x_t · Wx + b                (B, 3H)  input part: every step in one product up front
//   [h_r, h_z, h_n] = h_{t-1} · Wh                 (B, 3H)  recurrent part: one product per step
//   r   = σ(x_r + h_r)                             reset gate
//   z   = σ(x_z + h_z)                             update gate
//   n   = tanh(x_n + r ⊙ (h_n + bhn))              candidate
//   h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}                (B, H)
// The original GRU (Cho et al. 2014) resets BEFORE the product: n = tanh(x_n + (r ⊙ h_{t-1}) · Whn). That
// needs r before the candidate's product can start: two dependent products per step. Resetting AFTER it, as
// here, lets one product h_{t-1} · Wh serve all three gates. It then needs its own bias bhn inside r ⊙ (…)
// (a bias outside would not be scaled by r); the recurrent biases of r and z would only duplicate b's.
#pragma once

#include <utility>

#include "autodiff/tape.h"
#include "nn/module.h"

namespace s2a {

// One step from the input projection: xw_t (B, 3H) = x_t · Wx + b, h (B, H), Wh (H, 3H), bhn (H) → h_t (B, H).
Var gru_cell(const Var& xw_t, const Var& h, const Var& Wh, const Var& bhn);

class GRU : public Module {
  public:
    // Parameters "Wx" (D, 3H), "Wh" (H, 3H), "b" (3H), "bhn" (H); see gru.cpp for the initialisation.
    GRU(int D, int H, Rng& rng);

    // x (B, T, D) and h0 (B, H; undefined means zeros) → hs (B, T, H) and the final h (B, H).
    std::pair<Var, Var> forward(const Var& x, const Var& h0 = {}) const;

    // One step, for decoding one token at a time: x_t (B, D), h (B, H; undefined means zeros) → h_t (B, H).
    Var step(const Var& x_t, const Var& h) const;

    int input_size() const { return D_; }
    int hidden_size() const { return H_; }
    const Var& Wx() const { return Wx_; }    // (D, 3H)
    const Var& Wh() const { return Wh_; }    // (H, 3H)
    const Var& b() const { return b_; }      // (3H)
    const Var& bhn() const { return bhn_; }  // (H)

  private:
    // h with undefined replaced by zeros (B, H); throws ShapeError (naming op) if it is not (B, H).
    Var state_or_zeros(const char* op, int B, const Var& h) const;

    int D_, H_;
    Var Wx_, Wh_, b_, bhn_;
};

}  // namespace s2a
