// models/attention_seq2seq.cpp — AttentionEncoder, AttentionDecoder, AttentionSeq2seq.
#include "models/attention_seq2seq.h"

#include <fmt/format.h>

#include <algorithm>

#include "autodiff/ops.h"

namespace s2a {

Wiring parse_wiring(const std::string& name) {
    if (name == "luong") return Wiring::Luong;
    if (name == "bahdanau") return Wiring::Bahdanau;
    throw std::invalid_argument(fmt::format("unknown wiring '{}' (known: luong, bahdanau)", name));
}

Attend parse_attend(const std::string& name) {
    for (Attend a : {Attend::Global, Attend::LocalP, Attend::Location})
        if (name == attend_name(a)) return a;
    throw std::invalid_argument(fmt::format("unknown attention '{}' (known: global, local-p, location)", name));
}

const char* attend_name(Attend attend) {
    switch (attend) {
        case Attend::Global: return "global";
        case Attend::LocalP: return "local-p";
        case Attend::Location: return "location";
    }
    return "?";
}

Tensor source_mask(const IndexTensor& src, int pad_id, bool reversed) {
    const int B = src.shape[0], S = src.shape[1];
    Tensor mask(Shape{B, S}, 1);
    for (int b = 0; b < B; ++b)
        for (int k = 0; k < S; ++k) {  // walk the padding run from its end of the row inwards
            const int s = reversed ? k : S - 1 - k;
            if (src[b * S + s] != pad_id) break;
            mask[b * S + s] = 0;
        }
    return mask;
}

// The time axis read backwards: x (B, T, ·) → x[:, T-1-t, ·] at step t.
static Var flip_time(const Var& x) {
    std::vector<Var> steps;
    for (int t = x.dim(1) - 1; t >= 0; --t) steps.push_back(select(x, 1, t));
    return stack(steps, 1);
}

static IndexTensor flip_time(const IndexTensor& ids) {
    const int B = ids.shape[0], S = ids.shape[1];
    IndexTensor r(ids.shape);
    for (int b = 0; b < B; ++b)
        for (int s = 0; s < S; ++s) r[b * S + s] = ids[b * S + S - 1 - s];
    return r;
}

static int encoder_units(const AttentionConfig& c) {
    if (c.bidirectional && c.H % 2) throw std::invalid_argument("AttentionEncoder: a bidirectional encoder needs an even H");
    return c.bidirectional ? c.H / 2 : c.H;
}

AttentionEncoder::AttentionEncoder(const AttentionConfig& c, Rng& rng)
    : embed(c.V, c.E, rng), forward_lstm(c.E, encoder_units(c), c.layers, c.residual, c.dropout, rng) {
    add_child("embed", embed);
    add_child("lstm", forward_lstm);
    if (c.bidirectional) {
        backward_lstm = std::make_unique<StackedLSTM>(c.E, c.H / 2, c.layers, c.residual, c.dropout, rng);
        add_child("lstm_backward", *backward_lstm);
    }
}

std::pair<Var, StackState> AttentionEncoder::forward(const IndexTensor& src) const {
    const int last = src.shape[1] - 1;
    auto [hs, states] = forward_lstm.forward(embed.forward(src), {});     // hs: (B, S, H or H/2)
    if (!backward_lstm) return {hs, StackState{states, select(hs, 1, last)}};  // out: (B, H)
    // The backward LSTM reads the source right to left; flipping its states back lines them up with hs.
    auto [hs_back, states_back] = backward_lstm->forward(embed.forward(flip_time(src)), {});
    for (size_t l = 0; l < states.size(); ++l)                            // decoder state: [forward; backward] (B, H)
        states[l] = {concat({states[l].h, states_back[l].h}, 1), concat({states[l].c, states_back[l].c}, 1)};
    // Each direction's last step: the forward LSTM's at position S-1, the backward LSTM's at position 0.
    const Var out = concat({select(hs, 1, last), select(hs_back, 1, last)}, 1);  // out: (B, H)
    return {concat({hs, flip_time(hs_back)}, 2), StackState{states, out}};      // hs: (B, S, H)
}

AttentionDecoder::AttentionDecoder(const AttentionConfig& c, Rng& rng)
    : attention(c.score, c.H, c.H, rng),
      cfg(c),
      embed(c.V, c.E, rng),
      lstm(c.wiring == Wiring::Bahdanau ? c.E + c.H : c.E, c.H, c.layers, c.residual, c.dropout, rng),
      out(2 * c.H, c.V, rng) {
    add_child("embed", embed);
    add_child("lstm", lstm);
    add_child("attention", attention);
    add_child("out", out);
    // The variants' own parameters come last, so a global model draws exactly chapter 3's initial weights.
    if (c.attend == Attend::LocalP) {
        local = std::make_unique<LocalAttention>(attention.weight, c.window, rng);
        add_child("local", *local);
    } else if (c.attend == Attend::Location) {
        location = std::make_unique<LocationAwareAttention>(attention.weight, c.location_filters, c.location_width, rng);
        add_child("location", *location);
    }
    if (c.guided_weight < 0 || (c.guided_weight > 0 && !(c.guided_g > 0)))
        throw std::invalid_argument(fmt::format("AttentionDecoder: the guided loss needs a weight ≥ 0 and a width g > 0, got {} and {}",
                                                c.guided_weight, c.guided_g));
    if (c.guided_weight > 0 && c.reversed_source)
        throw std::invalid_argument("AttentionDecoder: the guided attention loss needs a source that is not reversed "
                                    "(its guide is the diagonal s/S = t/T)");
}

Var AttentionDecoder::attend(const Var& q, const Var& hs, const Var& keys, const Tensor* mask, StackState& state, Var* a) {
    if (cfg.attend == Attend::LocalP) {  // time-distributed, like the global attention; its weights spread over S
        const Var c = local->forward(q, hs, keys, mask, a);  // (B, Tq, H)
        last_weights_ = local->last_weights();
        return c;
    }
    Var w;  // the weights (B, Tq, S)
    if (cfg.attend == Attend::Global) {
        w = attention.weight.forward_with_keys(q, keys, mask);
    } else {  // location-aware: one step at a time, each step's weights the next step's α_{t−1}
        const int B = q.dim(0), S = hs.dim(1);
        std::vector<Var> steps;
        for (int t = 0; t < q.dim(1); ++t) {
            const Var prev = state.alignment.defined() ? state.alignment : constant(Tensor(Shape{B, S}));  // α_{t−1}: (B, S)
            steps.push_back(location->weights(slice(q, 1, t, t + 1), keys, prev, mask));               // a_t: (B, 1, S)
            state.alignment = reshape(steps.back(), Shape{B, S});
        }
        w = steps.size() == 1 ? steps[0] : concat(steps, 1);
    }
    last_weights_ = w.value();
    if (a) *a = w;
    return attention.weight_sum.forward(w, hs);  // c (B, Tq, H)
}

Var AttentionDecoder::bahdanau_step(const Var& x, const Var& hs, const Var& keys, const Tensor* mask, StackState& state,
                                    Var* a) {
    if (!state.out.defined()) throw std::invalid_argument("AttentionDecoder: the Bahdanau wiring needs s_{t-1} in state.out");
    const int B = x.dim(0), H = cfg.H;
    // The query is the stack's output s_{t-1}, residual sum included, not the top layer's own h.
    const Var query = reshape(state.out, Shape{B, 1, H});                                  // s_{t-1}: (B, 1, H)
    const Var c = reshape(attend(query, hs, keys, mask, state, a), Shape{B, H});             // c_t: (B, H)
    state.out = lstm.step(concat({x, c}, 1), state.layers);                                // s_t: (B, H)
    return concat({state.out, c}, 1);                                                      // (B, 2H)
}

Var AttentionDecoder::forward(const IndexTensor& tgt_in, const Var& hs, const Tensor* mask, StackState state, Var* weights) {
    const Var x = embed.forward(tgt_in);                                    // x: (B, T, E)
    if (cfg.wiring == Wiring::Luong) {
        const Var s = lstm.forward(x, state.layers).first;                  // s: (B, T, H), every step at once
        const Var keys = attention.weight.keys(hs);                         // the source side, once
        const Var c = attend(s, hs, keys, mask, state, weights);            // c: (B, T, H)
        return out.forward(concat({c, s}, 2));                              // logits: (B, T, V)
    }
    const Var keys = attention.weight.keys(hs);                             // the source side, once
    std::vector<Var> outs, steps_weights;                                   // per step: [s_t; c_t] (B, 2H), a_t (B, 1, S)
    for (int t = 0; t < tgt_in.shape[1]; ++t) {
        Var a;
        outs.push_back(bahdanau_step(select(x, 1, t), hs, keys, mask, state, weights ? &a : nullptr));
        steps_weights.push_back(a);
    }
    if (weights) *weights = concat(steps_weights, 1);                       // a: (B, T, S)
    return out.forward(stack(outs, 1));                                     // logits: (B, T, V)
}

Var AttentionDecoder::step(const IndexTensor& prev, const Var& hs, const Var& keys, const Tensor* mask, StackState& state,
                           Tensor* a) {
    const Var x = embed.forward(prev);                                      // x: (B, E)
    Var features;                                                           // (B, 2H)
    if (cfg.wiring == Wiring::Luong) {
        const int B = x.dim(0), H = cfg.H;
        state.out = lstm.step(x, state.layers);                             // s_t: (B, H)
        const Var c = attend(reshape(state.out, Shape{B, 1, H}), hs, keys, mask, state, nullptr);  // c_t: (B, 1, H)
        features = concat({reshape(c, Shape{B, H}), state.out}, 1);
    } else {
        features = bahdanau_step(x, hs, keys, mask, state, nullptr);
    }
    if (a) *a = last_weights_;                                              // (B, 1, S)
    return out.forward(features);                                           // logits: (B, V)
}

AttentionSeq2seq::AttentionSeq2seq(const AttentionConfig& c, Rng& rng) : encoder(c, rng), decoder(c, rng), cfg(c) {
    add_child("encoder", encoder);
    add_child("decoder", decoder);
}

std::vector<int> guide_lengths(const IndexTensor& targets, int end_id) {
    const int B = targets.shape[0], T = targets.shape[1];
    std::vector<int> lengths(B, 0);  // T_b
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t) {
            const int y = targets[int64_t(b) * T + t];
            lengths[b] += y != -1 && y != end_id;
        }
    return lengths;
}

Var AttentionSeq2seq::loss(const IndexTensor& src, const IndexTensor& tgt) {
    const int L = tgt.shape[1];
    const Tensor mask = source_mask(src, cfg.pad_id, cfg.reversed_source);
    const Tensor* m = cfg.pad_id >= 0 ? &mask : nullptr;
    auto [hs, state] = encoder.forward(src);
    const IndexTensor tgt_in = columns(tgt, 0, L - 1);
    const bool guided = cfg.guided_weight > 0;
    Var logits;  // (B, T, V)
    Var a;       // (B, T, S): every step's attention weights, for the guided loss
    if (sampling_on()) {  // step by step: each step's input may be the model's own previous token
        if (guided) throw std::invalid_argument("AttentionSeq2seq: the guided attention loss is not implemented with scheduled sampling");
        const Var keys = decoder.keys(hs);
        logits = sampled_logits(tgt_in, [&](const IndexTensor& prev) { return decoder.step(prev, hs, keys, m, state, nullptr); });
    } else {
        logits = decoder.forward(tgt_in, hs, m, state, guided ? &a : nullptr);
    }
    const IndexTensor targets = answer_targets(tgt, cfg.end_id);  // (B, T), -1 after each answer's end
    if (!guided) return cross_entropy(logits, targets);
    // λ · L_guided: S_b from the mask, T_b the answer's tokens before its end symbol (guide_lengths).
    const std::vector<int> src_lengths = source_spans(m, src.shape[0], src.shape[1]).length;
    return cross_entropy(logits, targets) +
           scale(guided_attention_loss(a, src_lengths, guide_lengths(targets, cfg.end_id), cfg.guided_g), cfg.guided_weight);
}

DecoderSteps attention_decoder_steps(AttentionDecoder& decoder, const Var& hs, const StackState& state, const Tensor* mask,
                                     int copies, std::vector<Tensor>& weights) {
    // What the steps share, each row repeated `copies` times: the source side (hs, its keys, its mask) and the
    // decoder's state.
    struct Shared {
        Var hs, keys;      // (R, S, H), the keys' shape set by the score function
        Tensor mask;       // (R, S); empty for none
        StackState state;  // every layer's (h, c), and s (R, H)
    };
    const std::vector<int> rows = repeated_rows(hs.dim(0), copies);
    auto shared = std::make_shared<Shared>();
    shared->hs = take_rows(hs, rows);
    shared->keys = take_rows(decoder.keys(hs), rows);
    if (mask) shared->mask = take_rows(*mask, rows);
    const auto move_rows = [](StackState& s, const std::vector<int>& r) {
        for (LSTMState& layer : s.layers) layer = {take_rows(layer.h, r), take_rows(layer.c, r)};
        s.out = take_rows(s.out, r);
        if (s.alignment.defined()) s.alignment = take_rows(s.alignment, r);
    };
    shared->state = state;
    move_rows(shared->state, rows);
    return {[&decoder, &weights, shared, masked = mask != nullptr](const IndexTensor& prev) {
                Tensor a;  // (R, 1, S)
                const Var logits = decoder.step(prev, shared->hs, shared->keys, masked ? &shared->mask : nullptr, shared->state, &a);
                weights.push_back(a);
                return log_softmax(logits).value();  // (R, V)
            },
            [shared, move_rows](const std::vector<int>& parents) { move_rows(shared->state, parents); }};
}

Tensor attention_map_of(const std::vector<Tensor>& steps, int B, int length) {
    const int S = steps.empty() ? 0 : steps[0].dim(2);
    Tensor map(Shape{B, length, S});
    for (int t = 0; t < length; ++t)
        for (int b = 0; b < B; ++b) std::copy_n(steps[t].ptr() + int64_t(b) * S, S, map.ptr() + (int64_t(b) * length + t) * S);
    return map;
}

DecoderSteps AttentionSeq2seq::steps(const IndexTensor& src, int copies) {
    auto [hs, state] = encoder.forward(src);
    const Tensor mask = source_mask(src, cfg.pad_id, cfg.reversed_source);
    step_weights_.clear();
    return attention_decoder_steps(decoder, hs, state, cfg.pad_id >= 0 ? &mask : nullptr, copies, step_weights_);
}

IndexTensor AttentionSeq2seq::generate(const IndexTensor& src, int start_id, int length) {
    const IndexTensor result = Seq2seqModel::generate(src, start_id, length);  // (B, length); fills step_weights_
    attention_map_ = attention_map_of(step_weights_, src.shape[0], length);
    return result;
}

}  // namespace s2a
