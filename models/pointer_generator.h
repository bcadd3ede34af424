// models/pointer_generator.h — the pointer-generator (See et al. 2017): an attention model that can also copy
// words from the source, including words its vocabulary does not hold.
//
// Dimensions: B batch, S source length, T decoder steps, V vocabulary, W extended vocabulary (V + the batch's
// source words outside the vocabulary; data/tasks_names.h), E embedding, H hidden.
//
// It is chapter 3's Luong model (the encoder is AttentionEncoder itself) with one more output path. At step t,
// with the decoder state s_t, the attention weights a_t over the source and the context c_t = Σₛ a_t[s] hsₛ:
//   P_vocab  = softmax(Linear([c_t; s_t]))                  what the attention model would write    (V)
//   p_gen    = σ(w_cᵀc_t + w_sᵀs_t + w_xᵀx_t + b)            one number: generate (1) or copy (0)    ()
//   P(w)     = p_gen · P_vocab(w) + (1 - p_gen) · Σ_{s: src[s] = w} a_t[s]                          (W)
// x_t the embedded input word. The same attention weights choose what to read (the context) and what to copy;
// copy_mixture (autodiff/ops_copy.cpp) forms P in log space, with its backward.
//
// Ids. The model takes batches in extended ids (WordBatch): a source word outside the vocabulary is V + k.
// Its embeddings have V rows, so every id ≥ V is read as <unk> — by the encoder, and by the decoder when the
// word it just wrote was a copied one; the copy path still knows which word it is from the extended id. The
// output distribution covers W = max(V, 1 + the largest source id) words, so greedy decoding and beam search
// (models/decoding.h) write extended ids with no change: they only ever see rows of log-probabilities.
#pragma once

#include "models/attention_seq2seq.h"

namespace s2a {

class PointerGenerator : public Seq2seqModel {
  public:
    // cfg as for AttentionSeq2seq, with the Luong wiring, pad_id ≥ 0 (the source's padding, masked: it is
    // never copied) and end_id; unk_id the vocabulary's <unk>. Throws std::invalid_argument otherwise.
    PointerGenerator(const AttentionConfig& cfg, int unk_id, Rng& rng);

    // The mean -log P(y) over the answers' words (up to and including the end symbol), teacher forcing;
    // src (B, S) and tgt (B, T + 1) in extended ids. Scheduled sampling is not supported (std::logic_error).
    Var loss(const IndexTensor& src, const IndexTensor& tgt) override;
    // Steps whose log-probabilities cover the extended vocabulary: (R, W).
    DecoderSteps steps(const IndexTensor& src, int copies) override;
    int end_id() const override { return cfg.end_id; }
    // Greedy decoding, keeping every step's attention weights and p_gen for display.
    IndexTensor generate(const IndexTensor& src, int start_id, int length) override;
    const Tensor& attention_map() const { return attention_map_; }  // (B, length, S) of the last generate()
    const Tensor& p_gen_map() const { return p_gen_map_; }          // (B, length, 1) of the last generate()

    AttentionEncoder encoder;

  private:
    // The decoder's output for inputs x (B, T, E) and states s (B, T, H): attention, P_vocab, p_gen and their
    // mixture → log P (B, T, W). With a_seen / p_gen_seen, also the weights (B, T, S) and p_gen (B, T, 1).
    Var output(const Var& x, const Var& s, const Var& hs, const Var& keys, const Tensor& mask, const IndexTensor& src,
               Tensor* a_seen = nullptr, Tensor* p_gen_seen = nullptr) const;

    AttentionConfig cfg;
    int unk_id;
    Embedding embed;
    StackedLSTM lstm;
    AttentionWeight attend;  // a_t, from s_t and the source's keys
    WeightSum read;          // c_t = Σₛ a_t[s] hsₛ
    Linear out;              // [c_t; s_t] (2H) → the vocabulary's logits (V)
    Linear gate;             // [c_t; s_t; x_t] (2H + E) → z, p_gen = σ(z)
    Tensor attention_map_, p_gen_map_;
    std::vector<Tensor> seen_weights_, seen_p_gen_;  // every decoding step's (R, 1, S) and (R, 1, 1) since steps()
};

}  // namespace s2a
