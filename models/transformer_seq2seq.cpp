// models/transformer_seq2seq.cpp — TransformerSeq2seq: the forward pass, the loss, and decoding (the cached
// decoder step, greedy decoding, beam search).
//
// Dimensions: B batch, S source, T answer, V vocabulary, D d_model, h heads, k beam, R rows decoded at once.
#include "models/transformer_seq2seq.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "autodiff/ops.h"
#include "models/attention_seq2seq.h"  // source_mask

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

// A module's parameters looked up by their path below it: "self_attn.Wq.W", "add_norm1.norm.gamma", ...
class Weights {
  public:
    explicit Weights(const Module& m) : params_(m.named_parameters()) {}
    const Var& operator[](const std::string& name) const {
        for (const auto& [n, p] : params_)
            if (n == name) return p;
        throw std::logic_error(fmt::format("TransformerSeq2seq: no parameter '{}'", name));
    }
    // x W + b for the Linear called `name`
    Var affine(const Var& x, const std::string& name) const { return linear(x, (*this)[name + ".W"], (*this)[name + ".b"]); }
    // LayerNorm of the AddNorm called `name`
    Var norm(const Var& x, const std::string& name) const {
        return layer_norm(x, (*this)[name + ".norm.gamma"], (*this)[name + ".norm.beta"]);
    }

  private:
    std::vector<std::pair<std::string, Var>> params_;
};

// Rows `rows` of x (R, ...) → (rows.size(), ...): beam search's reordering of its hypotheses.
Tensor take_rows(const Tensor& x, const std::vector<int>& rows) {
    Shape s = x.shape;
    const int64_t row = x.dim(0) ? x.numel() / x.dim(0) : 0;
    s[0] = static_cast<int>(rows.size());
    Tensor out(s);
    for (size_t i = 0; i < rows.size(); ++i) std::copy_n(x.ptr() + rows[i] * row, row, out.ptr() + int64_t(i) * row);
    return out;
}

IndexTensor take_rows(const IndexTensor& x, const std::vector<int>& rows) {
    const int L = x.shape[1];
    IndexTensor out(Shape{static_cast<int>(rows.size()), L});
    for (size_t i = 0; i < rows.size(); ++i) std::copy_n(x.data.begin() + int64_t(rows[i]) * L, L, out.data.begin() + int64_t(i) * L);
    return out;
}

// Each of B rows repeated `copies` times in a row: row b · copies + j is a copy of row b.
std::vector<int> repeated_rows(int B, int copies) {
    std::vector<int> rows;
    for (int b = 0; b < B; ++b) rows.insert(rows.end(), copies, b);
    return rows;
}

// (old, new) → the time axis grown by one step: (R, t, D) and (R, 1, D) → (R, t + 1, D).
Var append_step(const Var& old, const Var& step) { return old.defined() ? concat({old, step}, 1) : step; }

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

Var TransformerSeq2seq::embed(const Embedding& table, const IndexTensor& ids) {
    const Var tokens = scale(table.forward(ids), Real(std::sqrt(double(cfg_.D))));  // (B, L, D) entries of size ~1
    return dropout(positions_.forward(tokens), cfg_.dropout, rng_, training());     // (B, L, D) + PE[:L]
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
    const int B = src.shape[0];
    const std::vector<int> rows = repeated_rows(B, copies);
    DecoderCache cache;
    Tensor mask;
    const Var memory = encode(src, &mask);  // (B, S, D), each sentence once
    cache.memory_mask = take_rows(mask, rows);  // (R, 1, 1, S)
    for (const auto& layer : decoder_.layers()) {
        // The cross-attention's keys and values depend on the source only: projected once, for every step.
        const Weights w(layer->cross_attention());
        cache.memory_k.push_back(constant(take_rows(w.affine(memory, "Wk").value(), rows)));  // (R, S, D)
        cache.memory_v.push_back(constant(take_rows(w.affine(memory, "Wv").value(), rows)));  // (R, S, D)
    }
    cache.self_k.resize(decoder_.layers().size());
    cache.self_v.resize(decoder_.layers().size());
    return cache;
}

// The decoder on its newest position only. Each layer's row is what DecoderLayer::forward computes for that
// row: the query of the new position attends over the keys of every position so far (itself included; the
// later ones do not exist yet, which is what the causal mask ensured in training), then over the source.
Tensor TransformerSeq2seq::decode_step(const IndexTensor& prev, DecoderCache& c) {
    const int R = prev.shape[0], D = cfg_.D, t = c.t;
    if (t >= cfg_.max_len)
        throw std::invalid_argument(fmt::format("TransformerSeq2seq: step {} is beyond max_len = {}", t + 1, cfg_.max_len));
    Tensor pe(Shape{1, D});  // PE row t
    std::copy_n(positions_.table().ptr() + int64_t(t) * D, D, pe.ptr());
    Var x = scale(embedding(target_table().W, prev), Real(std::sqrt(double(D)))) + constant(pe);  // (R, D)
    x = reshape(x, Shape{R, 1, D});                                                                // (R, 1, D)
    Rng unused;  // no dropout when decoding
    const int heads = cfg_.heads;
    const bool pre = cfg_.pre_norm;
    for (size_t l = 0; l < decoder_.layers().size(); ++l) {
        const Weights w(*decoder_.layers()[l]);
        // masked self-attention
        const Var h1 = pre ? w.norm(x, "add_norm1") : x;
        c.self_k[l] = append_step(c.self_k[l], w.affine(h1, "self_attn.Wk"));  // (R, t + 1, D)
        c.self_v[l] = append_step(c.self_v[l], w.affine(h1, "self_attn.Wv"));  // (R, t + 1, D)
        const Var a = w.affine(multi_head_attention(w.affine(h1, "self_attn.Wq"), c.self_k[l], c.self_v[l], heads,
                                                    nullptr, 0, unused, false), "self_attn.Wo");  // (R, 1, D)
        const Var y1 = pre ? x + a : w.norm(x + a, "add_norm1");
        // cross-attention onto the source
        const Var h2 = pre ? w.norm(y1, "add_norm2") : y1;
        const Var ctx = w.affine(multi_head_attention(w.affine(h2, "cross_attn.Wq"), c.memory_k[l], c.memory_v[l], heads,
                                                      &c.memory_mask, 0, unused, false), "cross_attn.Wo");  // (R, 1, D)
        const Var y2 = pre ? y1 + ctx : w.norm(y1 + ctx, "add_norm2");
        // the feed-forward network
        const Var h3 = pre ? w.norm(y2, "add_norm3") : y2;
        const Var f = w.affine(relu(w.affine(h3, "ffn.linear1")), "ffn.linear2");
        x = pre ? y2 + f : w.norm(y2 + f, "add_norm3");  // (R, 1, D)
    }
    if (pre) {  // the pre-norm stack's final LayerNorm
        const Weights w(decoder_);
        x = layer_norm(x, w["norm.gamma"], w["norm.beta"]);
    }
    ++c.t;
    const Var logp = log_softmax(project(x));  // (R, 1, V)
    Tensor out = logp.value();
    out.shape = Shape{R, cfg_.V};
    return out;  // (R, V)
}

IndexTensor TransformerSeq2seq::generate(const IndexTensor& src, int start_id, int length) {
    NoGrad no_grad;
    EvalMode eval(*this);
    const int B = src.shape[0], V = cfg_.V;
    DecoderCache cache = start_decoding(src, 1);
    IndexTensor prev(Shape{B}, start_id), out(Shape{B, length});
    std::vector<bool> ended(B, false);
    for (int t = 0; t < length; ++t) {
        const Tensor logp = decode_step(prev, cache);  // (B, V)
        for (int b = 0; b < B; ++b) {
            const Real* row = logp.ptr() + int64_t(b) * V;
            // the most probable token (the first of equals), or the end symbol again once the answer has ended
            const int token = ended[b] ? cfg_.end_id : static_cast<int>(std::max_element(row, row + V) - row);
            prev[b] = out[int64_t(b) * length + t] = token;
            ended[b] = ended[b] || token == cfg_.end_id;
        }
    }
    return out;
}

IndexTensor TransformerSeq2seq::beam_search(const IndexTensor& src, int start_id, int length, int k, Real alpha) {
    if (k < 1) throw std::invalid_argument(fmt::format("beam_search: the beam size must be at least 1, got {}", k));
    NoGrad no_grad;
    EvalMode eval(*this);
    const int B = src.shape[0], R = B * k, V = cfg_.V;
    const double dead = -std::numeric_limits<double>::infinity();
    const auto penalty = [alpha](int L) { return std::pow((5.0 + L) / 6.0, double(alpha)); };  // lp(L)

    DecoderCache cache = start_decoding(src, k);  // row b·k + j: hypothesis j of sentence b
    // Hypothesis state. Only beam 0 of each sentence is alive at first, so the first step's k best are k
    // different tokens rather than k copies of the same one.
    std::vector<double> score(R, dead);  // log P of the tokens so far
    std::vector<int> len(R, 0);          // its length L, up to and including the end symbol
    std::vector<bool> ended(R, false);
    for (int b = 0; b < B; ++b) score[int64_t(b) * k] = 0;
    IndexTensor tokens(Shape{R, length}), prev(Shape{R}, start_id);

    struct Candidate {
        int parent, token;
        double score, logp, key;  // key = score / lp(L): what hypotheses are ranked by
        int len;
    };
    std::vector<Candidate> cand;
    for (int t = 0; t < length; ++t) {
        const Tensor logp = decode_step(prev, cache);  // (R, V)
        std::vector<int> parents(R);
        std::vector<double> new_score(R, dead);
        std::vector<int> new_len(R, 0), new_token(R, cfg_.end_id < 0 ? 0 : cfg_.end_id);
        std::vector<bool> new_ended(R, false);
        for (int b = 0; b < B; ++b) {
            cand.clear();
            for (int j = 0; j < k; ++j) {
                const int r = b * k + j;
                if (score[r] == dead) continue;
                if (ended[r]) {  // an ended hypothesis goes on only with the end symbol, at no cost
                    cand.push_back({r, cfg_.end_id, score[r], 0, score[r] / penalty(len[r]), len[r]});
                    continue;
                }
                for (int v = 0; v < V; ++v) {
                    const double lp = logp[int64_t(r) * V + v], s = score[r] + lp;
                    cand.push_back({r, v, s, lp, s / penalty(t + 1), t + 1});
                }
            }
            // The k best keys; equal keys go to the more probable step, then to the earlier candidate, so
            // that with k = 1 the choice is exactly greedy decoding's (the first most probable token).
            const size_t keep = std::min<size_t>(k, cand.size());
            std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), [](const Candidate& a, const Candidate& c) {
                if (a.key != c.key) return a.key > c.key;
                if (a.logp != c.logp) return a.logp > c.logp;
                return a.parent != c.parent ? a.parent < c.parent : a.token < c.token;
            });
            for (int j = 0; j < k; ++j) {
                const int r = b * k + j;
                parents[r] = j < int(keep) ? cand[j].parent : b * k;  // an unfilled beam stays dead
                if (j >= int(keep)) continue;
                new_score[r] = cand[j].score;
                new_len[r] = cand[j].len;
                new_token[r] = cand[j].token;
                new_ended[r] = ended[cand[j].parent] || cand[j].token == cfg_.end_id;
            }
        }
        // Every hypothesis continues from its parent: its tokens and its cached keys and values move with it.
        tokens = take_rows(tokens, parents);
        for (size_t l = 0; l < cache.self_k.size(); ++l) {
            cache.self_k[l] = constant(take_rows(cache.self_k[l].value(), parents));
            cache.self_v[l] = constant(take_rows(cache.self_v[l].value(), parents));
        }
        for (int r = 0; r < R; ++r) prev[r] = tokens[int64_t(r) * length + t] = new_token[r];
        score = new_score, len = new_len, ended = new_ended;
    }
    // The candidates were sorted by their keys, so each sentence's beam 0 is its best hypothesis.
    std::vector<int> best;
    for (int b = 0; b < B; ++b) best.push_back(b * k);
    return take_rows(tokens, best);
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
