// models/pointer_generator.cpp — PointerGenerator: training, decoding over the extended vocabulary, p_gen.
//
// Dimensions: B batch, S source, T decoder steps, V vocabulary, W extended vocabulary, E embedding, H hidden,
// R rows decoded at once (B, or B·k in beam search).
#include "models/pointer_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "autodiff/ops.h"
#include "data/tasks_names.h"  // with_unk

namespace s2a {

namespace {

// W: the vocabulary, and every extended id the source holds.
int extended_size(const IndexTensor& src, int V) { return std::max(V, 1 + *std::max_element(src.data.begin(), src.data.end())); }

// Rows `rows` of every layer's state and of the stack's output s.
StackState state_rows(const StackState& state, const std::vector<int>& rows) {
    StackState r;
    for (const LSTMState& layer : state.layers) r.layers.push_back({take_rows(layer.h, rows), take_rows(layer.c, rows)});
    r.out = take_rows(state.out, rows);
    return r;
}

// What the decoding steps kept, (R, 1, n) per step in step order → (R, L, n): row r's L steps together.
Tensor by_row(const std::vector<Tensor>& steps) {
    if (steps.empty()) return Tensor();
    const int R = steps[0].dim(0), L = static_cast<int>(steps.size()), n = steps[0].dim(2);
    Tensor out(Shape{R, L, n});
    for (int t = 0; t < L; ++t)
        for (int r = 0; r < R; ++r) std::copy_n(steps[t].ptr() + int64_t(r) * n, n, out.ptr() + (int64_t(r) * L + t) * n);
    return out;
}

}  // namespace

PointerGenerator::PointerGenerator(const AttentionConfig& c, int unk, Rng& rng)
    : encoder(c, rng),
      cfg(c),
      unk_id(unk),
      embed(c.V, c.E, rng),
      lstm(c.E, c.H, c.layers, c.residual, c.dropout, rng),
      attend(c.score, c.H, c.H, rng),
      out(2 * c.H, c.V, rng),
      gate(2 * c.H + c.E, 1, rng) {
    if (c.wiring != Wiring::Luong || c.pad_id < 0 || unk < 0 || unk >= c.V)
        throw std::invalid_argument(fmt::format("PointerGenerator: needs the Luong wiring, pad_id >= 0 and unk_id in "
                                                "0..V-1 (V = {}); got pad_id {}, unk_id {}", c.V, c.pad_id, unk));
    add_child("encoder", encoder);
    add_child("embed", embed);
    add_child("lstm", lstm);
    add_child("attention", attend);
    add_child("out", out);
    add_child("gate", gate);
}

Var PointerGenerator::output(const Var& x, const Var& s, const Var& hs, const Var& keys, const Tensor& mask,
                             const IndexTensor& src, Tensor* a_seen, Tensor* p_gen_seen) const {
    const Var a = attend.forward_with_keys(s, keys, &mask);               // a: (B, T, S), 0 on padding
    const Var c = read.forward(a, hs);                                    // c: (B, T, H)
    const Var log_p_vocab = log_softmax(out.forward(concat({c, s}, 2)));  // log P_vocab: (B, T, V)
    const Var z = gate.forward(concat({c, s, x}, 2));                     // z: (B, T, 1), p_gen = σ(z)
    if (a_seen) *a_seen = a.value();
    if (p_gen_seen) *p_gen_seen = sigmoid(z).value();
    return copy_mixture(log_p_vocab, a, z, src, extended_size(src, cfg.V), &mask);  // log P: (B, T, W)
}

Var PointerGenerator::loss(const IndexTensor& src, const IndexTensor& tgt) {
    if (sampling_on()) throw std::logic_error("PointerGenerator: scheduled sampling is not supported (it trains with teacher forcing)");
    const IndexTensor src_in = with_unk(src, cfg.V, unk_id);                   // (B, S) what the embeddings read
    const Tensor mask = source_mask(src_in, cfg.pad_id, cfg.reversed_source);  // (B, S)
    auto [hs, state] = encoder.forward(src_in);                                // hs: (B, S, H)
    const Var x = embed.forward(with_unk(columns(tgt, 0, tgt.shape[1] - 1), cfg.V, unk_id));  // x: (B, T, E)
    const Var s = lstm.forward(x, state.layers).first;                         // s: (B, T, H), every step at once
    const Var log_p = output(x, s, hs, attend.keys(hs), mask, src);            // log P: (B, T, W)
    // log P is normalised (Σ_w P(w) = 1), so the log_softmax inside cross_entropy leaves it as it is: the loss
    // is the mean of -log P(y) over the answers' words, the padding after each end symbol ignored.
    return cross_entropy(log_p, answer_targets(tgt, cfg.end_id));
}

DecoderSteps PointerGenerator::steps(const IndexTensor& src, int copies) {
    // What the steps share, each sentence's rows repeated `copies` times.
    struct Shared {
        Var hs, keys;      // (R, S, H), (R, S, K)
        Tensor mask;       // (R, S)
        IndexTensor src;   // (R, S) in extended ids: what can be copied
        StackState state;  // every layer's (h, c), and s (R, H)
    };
    const std::vector<int> rows = repeated_rows(src.shape[0], copies);
    const IndexTensor src_in = with_unk(src, cfg.V, unk_id);
    const auto encoded = encoder.forward(src_in);  // hs (B, S, H) and the decoder's initial state
    const auto shared = std::make_shared<Shared>(Shared{
        take_rows(encoded.first, rows), take_rows(attend.keys(encoded.first), rows),
        take_rows(source_mask(src_in, cfg.pad_id, cfg.reversed_source), rows), take_rows(src, rows),
        state_rows(encoded.second, rows)});
    seen_weights_.clear();
    seen_p_gen_.clear();
    return {[this, shared](const IndexTensor& prev) {
                const int R = prev.shape[0];
                const Var x = embed.forward(with_unk(prev, cfg.V, unk_id));  // x: (R, E); a copied word reads <unk>
                shared->state.out = lstm.step(x, shared->state.layers);      // s_t: (R, H)
                Tensor a, p_gen;                                             // (R, 1, S), (R, 1, 1)
                const Var log_p = output(reshape(x, Shape{R, 1, cfg.E}), reshape(shared->state.out, Shape{R, 1, cfg.H}),
                                         shared->hs, shared->keys, shared->mask, shared->src, &a, &p_gen);  // (R, 1, W)
                seen_weights_.push_back(a);
                seen_p_gen_.push_back(p_gen);
                return reshape(log_p, Shape{R, log_p.dim(2)}).value();  // (R, W)
            },
            [shared](const std::vector<int>& parents) { shared->state = state_rows(shared->state, parents); }};
}

IndexTensor PointerGenerator::generate(const IndexTensor& src, int start_id, int length) {
    const IndexTensor result = Seq2seqModel::generate(src, start_id, length);  // (B, length); fills seen_*
    attention_map_ = by_row(seen_weights_);                                    // (B, length, S)
    p_gen_map_ = by_row(seen_p_gen_);                                          // (B, length, 1)
    return result;
}

}  // namespace s2a
