// nn/stacked_lstm.cpp — StackedLSTM.
#include "nn/stacked_lstm.h"

#include <fmt/format.h>

#include "autodiff/ops.h"

namespace s2a {

StackedLSTM::StackedLSTM(int D, int H, int layers, bool residual, Real dropout, Rng& rng)
    : residual_(residual), dropout_(dropout), dropout_rng_(rng.next_u64()) {
    if (layers < 1) throw std::invalid_argument(fmt::format("StackedLSTM: needs at least one layer, got {}", layers));
    add_random("dropout", dropout_rng_);
    for (int l = 0; l < layers; ++l) {
        layers_.push_back(std::make_unique<LSTM>(l == 0 ? D : H, H, rng));
        add_child(fmt::format("layer{}", l), *layers_.back());
    }
}

Var StackedLSTM::between_layers(const Var& x) const { return dropout(x, dropout_, dropout_rng_, training()); }

std::pair<Var, std::vector<LSTMState>> StackedLSTM::forward(const Var& x, const std::vector<LSTMState>& init) const {
    if (!init.empty() && init.size() != layers_.size())
        throw std::invalid_argument(fmt::format("StackedLSTM: {} initial states for {} layers", init.size(), layers_.size()));
    std::vector<LSTMState> final_states;
    Var in = x;  // in: (B, T, D) for the first layer, (B, T, H) above
    for (size_t l = 0; l < layers_.size(); ++l) {
        if (l > 0) in = between_layers(in);
        auto [hs, last] = layers_[l]->forward(in, init.empty() ? LSTMState{} : init[l]);  // hs: (B, T, H)
        in = (residual_ && l > 0) ? hs + in : hs;  // out_l = LSTM_l(in_l) + in_l
        final_states.push_back(last);
    }
    return {in, final_states};
}

Var StackedLSTM::step(const Var& x_t, std::vector<LSTMState>& states) const {
    states.resize(layers_.size());
    Var in = x_t;  // in: (B, D) for the first layer, (B, H) above
    for (size_t l = 0; l < layers_.size(); ++l) {
        if (l > 0) in = between_layers(in);
        states[l] = layers_[l]->step(in, states[l]);
        in = (residual_ && l > 0) ? states[l].h + in : states[l].h;
    }
    return in;
}

}  // namespace s2a
