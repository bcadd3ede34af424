// models/transformer_seq2seq.cpp — TransformerSeq2seq: the forward pass, the loss, and decoding (the cached
// decoder step, and greedy decoding and beam search over it, models/decoding.h).
//
// Dimensions: B batch, S source, T answer, V vocabulary, D d_model, h heads, k beam, R rows decoded at once.
#include "models/transformer_seq2seq.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"
#include "models/attention_seq2seq.h"  // source_mask
#include "models/decoding.h"

namespace s2a {

namespace {

// Evaluation mode (no dropout) while decoding, whatever mode the model was in; restored afterwards.
class EvalMode {
  public:
    explicit EvalMode(Module& m) : m_(m), was_training_(m.training()) { m_.eval(); }
    ~EvalMode() { m_.train(was_training_); }
    EvalMode(const EvalMode&) = delete;
    EvalMode& operator=(const EvalMode&) = delete;

  private:
    Module& m_;
    bool was_training_;
};

// Rows `rows` of keys and values (R, T, D) each → (rows.size(), T, D) each, outside the tape.
KeysValues take_rows(const KeysValues& kv, const std::vector<int>& rows) {
    return {constant(take_rows(kv.k.value(), rows)), constant(take_rows(kv.v.value(), rows))};
}

}  // namespace

TransformerSeq2seq::TransformerSeq2seq(const TransformerConfig& c, Rng& rng)
    : cfg_(c),
      embed_(c.V, c.D, rng),
      positions_(c.max_len, c.D, c.learned_positions, rng),
      encoder_(c.encoder_layers, c.D, c.heads, c.F, c.dropout, c.pre_norm, rng),
      decoder_(c.decoder_layers, c.D, c.heads, c.F, c.dropout, c.pre_norm, rng),
      rng_(rng.next_u64()) {
    if (c.label_smoothing < 0 || c.label_smoothing >= 1)
        throw std::invalid_argument(fmt::format("TransformerSeq2seq: label smoothing must be in [0, 1), got {}", c.label_smoothing));
    add_random("dropout", rng_);
    add_child("embed", embed_);
    if (!c.shared_embeddings) {
        target_embed_ = std::make_unique<Embedding>(c.V, c.D, rng);
        add_child("target_embed", *target_embed_);
    }
    add_child("positions", positions_);
    add_child("encoder", encoder_);
    add_child("decoder", decoder_);
    if (!c.tied_output) {
        out_ = std::make_unique<Linear>(c.D, c.V, rng);
        add_child("out", *out_);
    }
}

// ---------------------------------------------------------------- the forward pass and the loss

Var TransformerSeq2seq::embed(const Embedding& table, const IndexTensor& ids, int first) {
    const Var tokens = scale(table.forward(ids), Real(std::sqrt(double(cfg_.D))));     // (B, L, D) entries of size ~1
    return dropout(positions_.forward(tokens, first), cfg_.dropout, rng_, training());  // (B, L, D) + PE[first : first + L]
}

Var TransformerSeq2seq::project(const Var& y) const {
    // tied: the score of token v is y · E[v], how much y looks like v's own embedding
    return out_ ? out_->forward(y) : matmul(y, target_table().W, false, true);  // (..., V)
}

Var TransformerSeq2seq::encode(const IndexTensor& src, Tensor* mask) {
    const int B = src.shape[0], S = src.shape[1];
    *mask = Tensor(Shape{B, S}, 1);  // (B, S)
    if (cfg_.pad_id >= 0)  // the run of pads at the end, and the one at the start (a right-aligned source)
        *mask = combine_masks(source_mask(src, cfg_.pad_id, false), source_mask(src, cfg_.pad_id, true));
    mask->shape = Shape{B, 1, 1, S};  // broadcast over heads and queries
    return encoder_.forward(embed(embed_, src), cfg_.pad_id >= 0 ? mask : nullptr);  // memory (B, S, D)
}

Var TransformerSeq2seq::logits(const IndexTensor& src, const IndexTensor& tgt_in) {
    Tensor src_mask;
    const Var memory = encode(src, &src_mask);                // (B, S, D)
    const Tensor causal = causal_mask(tgt_in.shape[1]);       // (T, T)
    const Var y = decoder_.forward(embed(target_table(), tgt_in), memory, &causal, cfg_.pad_id >= 0 ? &src_mask : nullptr);
    return project(y);                                        // (B, T, V)
}

IndexTensor TransformerSeq2seq::loss_targets(const IndexTensor& tgt) const {
    IndexTensor targets = columns(tgt, 1, tgt.shape[1]);  // (B, T)
    if (cfg_.end_id < 0) return targets;
    const int B = targets.shape[0], T = targets.shape[1];
    for (int b = 0; b < B; ++b) {
        bool ended = false;
        for (int t = 0; t < T; ++t) {
            int& id = targets[int64_t(b) * T + t];
            if (ended) id = -1;  // after the end symbol: decoding forces these, nothing to learn
            ended = ended || id == cfg_.end_id;
        }
    }
    return targets;
}

Var TransformerSeq2seq::loss(const IndexTensor& src, const IndexTensor& tgt) {
    const Var l = logits(src, columns(tgt, 0, tgt.shape[1] - 1));  // (B, T, V)
    return cross_entropy(l, loss_targets(tgt), -1, cfg_.label_smoothing);
}

std::vector<Tensor> TransformerSeq2seq::encoder_self_attention() const {
    std::vector<Tensor> w;
    for (const auto& layer : encoder_.layers()) w.push_back(layer->self_attention().last_weights());
    return w;
}

std::vector<Tensor> TransformerSeq2seq::decoder_self_attention() const {
    std::vector<Tensor> w;
    for (const auto& layer : decoder_.layers()) w.push_back(layer->self_attention().last_weights());
    return w;
}

std::vector<Tensor> TransformerSeq2seq::decoder_cross_attention() const {
    std::vector<Tensor> w;
    for (const auto& layer : decoder_.layers()) w.push_back(layer->cross_attention().last_weights());
    return w;
}

// ---------------------------------------------------------------- incremental decoding

DecoderCache TransformerSeq2seq::start_decoding(const IndexTensor& src, int copies) {
    const std::vector<int> rows = repeated_rows(src.shape[0], copies);  // R = B · copies
    DecoderCache cache;
    Tensor mask;
    const Var memory = encode(src, &mask);      // (B, S, D), each sentence once
    cache.memory_mask = take_rows(mask, rows);  // (R, 1, 1, S)
    // The cross-attention's keys and values depend on the source only: projected once for every step, and
    // once for each sentence, then copied to its rows.
    cache.layers = decoder_.start(memory);  // (B, S, D) each
    for (DecoderLayerCache& layer : cache.layers) layer.memory = take_rows(layer.memory, rows);  // (R, S, D) each
    return cache;
}

// The decoder on its newest position only (DecoderLayer::step): the same layers, the same code, as logits().
Tensor TransformerSeq2seq::decode_step(const IndexTensor& prev, DecoderCache& cache) {
    const int R = prev.shape[0];
    const IndexTensor ids = IndexTensor::from(Shape{R, 1}, prev.data);  // (R, 1)
    const Var x = embed(target_table(), ids, cache.t);                  // (R, 1, D) at position t
    const Var y = decoder_.step(x, &cache.memory_mask, cache.layers);   // (R, 1, D)
    ++cache.t;
    Tensor logp = log_softmax(project(y)).value();                      // (R, 1, V)
    logp.shape = Shape{R, cfg_.V};
    return logp;  // (R, V)
}

IndexTensor TransformerSeq2seq::generate(const IndexTensor& src, int start_id, int length) {
    NoGrad no_grad;
    EvalMode eval(*this);
    DecoderCache cache = start_decoding(src, 1);
    return greedy_decode({src.shape[0], start_id, length, cfg_.end_id},
                         [&](const IndexTensor& prev) { return decode_step(prev, cache); });
}

IndexTensor TransformerSeq2seq::beam_search(const IndexTensor& src, int start_id, int length, int k, Real alpha) {
    NoGrad no_grad;
    EvalMode eval(*this);
    DecoderCache cache = start_decoding(src, k);  // row b·k + j: hypothesis j of sentence b
    // A hypothesis's parent is one of the same sentence's k rows, whose source is the same: only the keys and
    // values of the positions decoded so far move with it.
    const auto reorder = [&](const std::vector<int>& parents) {
        for (DecoderLayerCache& layer : cache.layers) layer.self = take_rows(layer.self, parents);  // (R, t, D) each
    };
    return s2a::beam_search({src.shape[0], start_id, length, cfg_.end_id}, k, alpha,
                            [&](const IndexTensor& prev) { return decode_step(prev, cache); }, reorder);
}

std::vector<double> TransformerSeq2seq::log_prob(const IndexTensor& src, int start_id, const IndexTensor& answer) {
    NoGrad no_grad;
    EvalMode eval(*this);
    const int B = answer.shape[0], L = answer.shape[1], V = cfg_.V;
    IndexTensor tgt_in(Shape{B, L});  // start symbol, then the answer without its last token
    for (int b = 0; b < B; ++b) {
        tgt_in[int64_t(b) * L] = start_id;
        std::copy_n(answer.data.begin() + int64_t(b) * L, L - 1, tgt_in.data.begin() + int64_t(b) * L + 1);
    }
    const Tensor logp = log_softmax(logits(src, tgt_in)).value();  // (B, L, V)
    std::vector<double> total(B, 0);
    for (int b = 0; b < B; ++b)
        for (int t = 0; t < L; ++t) {
            const int token = answer[int64_t(b) * L + t];
            total[b] += logp[(int64_t(b) * L + t) * V + token];
            if (token == cfg_.end_id) break;  // what follows the end is forced, probability 1
        }
    return total;
}

}  // namespace s2a
