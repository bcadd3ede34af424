// nn/stacked_lstm.h — LSTM layers stacked on top of each other, with optional residual connections and
// dropout between layers (the encoder and decoder of the attention models, chapters 3 and 4).
//
// Dimensions: B batch, T time steps, D input features, H hidden units, L layers.
//
// Layer 1 reads the input x (D); layer l > 1 reads the hidden states of layer l - 1 (H). Deep stacks train
// badly: the gradient reaching the bottom layers is a product of many Jacobians and fades. A residual
// connection (as in GNMT) adds each layer's input to its output, from the second layer up:
//   out_l = LSTM_l(in_l) + in_l
// so the gradient also has a straight path down, dout_l/din_l = I + (the LSTM's Jacobian).
// With dropout p > 0, the input of every layer above the first is dropped out while training.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "nn/lstm.h"

namespace s2a {

class StackedLSTM : public Module {
  public:
    StackedLSTM(int D, int H, int layers, bool residual, Real dropout, Rng& rng);

    // x (B, T, D) and one initial state per layer (an empty vector means zeros) →
    // the top layer's hs (B, T, H) and every layer's final state.
    std::pair<Var, std::vector<LSTMState>> forward(const Var& x, const std::vector<LSTMState>& init) const;

    // One step for decoding: x_t (B, D); `states` (one per layer, empty means zeros) is advanced in place.
    // Returns the top layer's new h (B, H).
    Var step(const Var& x_t, std::vector<LSTMState>& states) const;

    int num_layers() const { return static_cast<int>(layers_.size()); }
    int hidden_size() const { return layers_[0]->hidden_size(); }
    const LSTM& layer(int l) const { return *layers_[l]; }

  private:
    // The input of layer l > 0: the layer below's output, dropped out while training.
    Var between_layers(const Var& x) const;

    std::vector<std::unique_ptr<LSTM>> layers_;
    bool residual_;
    Real dropout_;
    mutable Rng dropout_rng_;  // a fresh mask every call, reproducible from the seed
};

}  // namespace s2a
