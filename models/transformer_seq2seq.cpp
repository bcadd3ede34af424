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

// Rows `rows` of keys and values (R, T, D) each → (rows.size(), T, D) each, outside the tape.
KeysValues take_rows(const KeysValues& kv, const std::vector<int>& rows) {
    return {take_rows(kv.k, rows), take_rows(kv.v, rows)};
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
    const Var looked_up = table.forward(ids);                              // (B, L, D)
    const Var tokens = scale(looked_up, Real(std::sqrt(double(cfg_.D))));  // (B, L, D) entries of size ~1
    const Var x = positions_.forward(tokens, first);                       // (B, L, D) + PE[first : first + L]
    // Their readers have run: backward makes them again (a look-up, a scaling) rather than keep them
    for (const Var& v : {looked_up, tokens}) recompute_in_backward(v);
    return dropout(x, cfg_.dropout, rng_, training());  // (B, L, D)
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
    recompute_in_backward(memory);  // every cross-attention has projected it: a layer norm's output, made again
    return project(y);                                        // (B, T, V)
}

// Under scheduled sampling the Transformer cannot go step by step as the LSTMs do (it reads all T inputs at
// once), so it takes two passes (Mihaylova and Martins, 2019): the first, with teacher forcing and no tape,
// gives the model's own prediction for every position; the second reads the inputs mixed from the teacher's
// tokens and those predictions, and is the one trained.
Var TransformerSeq2seq::loss(const IndexTensor& src, const IndexTensor& tgt) {
    IndexTensor tgt_in = columns(tgt, 0, tgt.shape[1] - 1);  // (B, T)
    if (sampling_on()) {
        const int B = tgt_in.shape[0], T = tgt_in.shape[1];
        Tensor first;  // (B, T, V): position t's logits predict the input of position t + 1
        {
            NoGrad no_grad;
            first = logits(src, tgt_in).value();
        }
        const std::vector<bool> teacher = teacher_choices(B, T);
        IndexTensor mixed = tgt_in;
        for (int t = 1; t < T; ++t) {
            Tensor step_logits(Shape{B, cfg_.V});  // (B, V): the first pass at position t - 1
            for (int b = 0; b < B; ++b)
                std::copy_n(first.ptr() + (int64_t(b) * T + t - 1) * cfg_.V, cfg_.V, step_logits.ptr() + int64_t(b) * cfg_.V);
            const IndexTensor inputs = step_inputs(tgt_in, t, teacher, step_logits);
            for (int b = 0; b < B; ++b) mixed[int64_t(b) * T + t] = inputs[b];
        }
        tgt_in = mixed;
    }
    return cross_entropy(logits(src, tgt_in), answer_targets(tgt, cfg_.end_id), -1, cfg_.label_smoothing);
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

DecoderSteps TransformerSeq2seq::steps(const IndexTensor& src, int copies) {
    auto cache = std::make_shared<DecoderCache>(start_decoding(src, copies));  // row b·copies + j: a copy of sentence b
    // A hypothesis's parent is one of the same sentence's rows, whose source is the same: only the keys and
    // values of the positions decoded so far move with it.
    return {[this, cache](const IndexTensor& prev) { return decode_step(prev, *cache); },
            [cache](const std::vector<int>& parents) {
                for (DecoderLayerCache& layer : cache->layers) layer.self = take_rows(layer.self, parents);  // (R, t, D) each
            }};
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
