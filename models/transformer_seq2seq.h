// models/transformer_seq2seq.h — the Transformer as a sequence-to-sequence model (chapter 5): the layers of
// nn/transformer.h wired into an encoder-decoder, trained by teacher forcing like every model before it, and
// decoded greedily or by beam search, a whole batch at once.
//
// Dimensions:
//   B  batch          S  source length          T  answer length (decoder steps)       V  vocabulary
//   D  d_model        h  heads                  F  feed-forward width                  k  beam size
//   R  rows decoded at once: B for greedy decoding, B·k for beam search
//
// The model, top-down:
//   memory = Encoder(√D · E[src] + PE[:S])                 (B, S, D)   every source position sees every other
//   y      = Decoder(√D · E[tgt_in] + PE[:T], memory)      (B, T, D)   step t sees steps ≤ t and all of memory
//   logits = y Eᵀ   (tied to the embedding)  or  y W + b   (B, T, V)
// The embedding E (V, D) starts with entries of size 1/√D (nn/embedding.h); multiplying by √D brings the
// token vectors to the size of the positional encodings (±1), so neither drowns the other.
//
// Masks. The source is padded with pad_id, at its end (left-aligned) or at its start (right-aligned); the
// run of pads is hidden from the encoder's self-attention and from the decoder's cross-attention (B, 1, 1, S).
// A pad inside the text (the space in "sep 27") is a real character and stays visible. The decoder's self-attention gets the
// causal mask (T, T). The target needs no padding mask: its padding comes last, and the causal mask already
// hides every later position from the earlier ones.
//
// The end of an answer. With end_id set (the chapters use the pad character), an answer ends at its first
// end_id: the loss counts the answer and that one end symbol, and ignores the padding after it (it carries
// nothing to learn); decoding writes end_id at every step after the first one, in greedy decoding and in
// beam search alike. With end_id = -1 every one of the T positions is an ordinary token.
//
// Decoding keeps a cache. A step of the decoder needs, at every layer, the keys and values of all earlier
// positions; recomputing them at every step (run the whole decoder on the prefix) costs O(T²) positions per
// answer, and the source's keys and values never change at all. So decode_step() keeps both per layer
// (DecoderCache) and runs only the newest position through the layers: O(T) positions per answer. It calls
// the decoder's own step (TransformerDecoder::step, DecoderLayer::step), which shares its code with
// DecoderLayer::forward: the same modules, restricted to the last row; tests/test_transformer_model.cpp holds
// its log-probabilities to those of the full forward pass. Greedy decoding and beam search are the
// model-independent loops of models/decoding.h, run over decode_step.
#pragma once

#include <memory>
#include <vector>

#include "models/seq2seq.h"
#include "nn/transformer.h"

namespace s2a {

struct TransformerConfig {
    int V = 0;                     // vocabulary size: source and target share one character vocabulary
    int D = 128, heads = 4, F = 512;
    int encoder_layers = 2, decoder_layers = 2;
    Real dropout = 0.1;            // on the embeddings, the attention weights, the FFN and every sublayer's output
    bool pre_norm = false;         // false: post-norm, as in the paper (see AddNorm)
    bool learned_positions = false;  // false: sinusoidal positional encoding
    bool shared_embeddings = true;   // one embedding table for source and target tokens
    bool tied_output = true;         // the output layer is the target embedding, transposed: logits = y Eᵀ
    int max_len = 256;             // longest source or answer the positional encoding covers
    int pad_id = -1;               // source padding to mask (-1: none)
    int end_id = -1;               // the symbol that ends an answer (-1: answers are always T tokens)
    Real label_smoothing = 0.1;    // ε: the loss's target puts 1 - ε on the right token and ε/V on every token
};

// What incremental decoding keeps for R rows: every decoder layer's keys and values (DecoderLayerCache).
struct DecoderCache {
    std::vector<DecoderLayerCache> layers;  // one per decoder layer: (R, t, D) of the target, (R, S, D) of the source
    Tensor memory_mask;                     // (R, 1, 1, S): the source's padding
    int t = 0;                              // positions decoded so far
};

class TransformerSeq2seq : public Seq2seqModel {
  public:
    // Children "embed" (and "target_embed" unless shared), "positions", "encoder", "decoder", and "out"
    // unless tied. Throws std::invalid_argument for sizes that do not fit (V, D % heads, layers, max_len).
    TransformerSeq2seq(const TransformerConfig& cfg, Rng& rng);

    // Teacher forcing: src (B, S), tgt (B, T + 1) starting with the start symbol → the mean label-smoothed
    // cross-entropy of predicting tgt[:, 1:] (the positions after each answer's end not counted). Under
    // scheduled sampling, the two-pass variant (transformer_seq2seq.cpp).
    Var loss(const IndexTensor& src, const IndexTensor& tgt) override;
    // src (B, S), tgt_in (B, T) → logits (B, T, V); every attention's weights are kept for the heat maps.
    Var logits(const IndexTensor& src, const IndexTensor& tgt_in);

    // Greedy decoding (generate) and beam search (beam_search, nbest) are Seq2seqModel's, over these steps:
    // decode_step on a cache of R rows, the cache's rows moved with the hypotheses. Beam search ranks
    // hypotheses by log P / lp(L), lp(L) = ((5 + L) / 6)^α (Wu et al., 2016); k = 1 gives exactly the greedy output.
    DecoderSteps steps(const IndexTensor& src, int copies) override;
    int end_id() const override { return cfg_.end_id; }
    // log P(answer | src) of each row of answer (B, L), under teacher forcing (tokens after the end count 0,
    // as decoding forces them) → (B) in double.
    std::vector<double> log_prob(const IndexTensor& src, int start_id, const IndexTensor& answer);

    // Incremental decoding, for generate and beam_search (and the tests).
    // Encodes src (B, S) and projects it into every layer's cross-attention keys and values, each sentence's
    // row repeated `copies` times (beam search's k hypotheses) → a cache for R = B · copies rows.
    DecoderCache start_decoding(const IndexTensor& src, int copies);
    // The next tokens prev (R) → log-probabilities of the token after them (R, V); the cache grows by one step.
    // Throws ShapeError (naming PositionalEncoding) for a step beyond max_len.
    Tensor decode_step(const IndexTensor& prev, DecoderCache& cache);

    // The attention weights of the last logits() or loss(), one (B, h, Tq, Tk) tensor per layer: for heat maps.
    // Decoding overwrites them: the encoder's with those of its source, the decoder's with its last step's
    // (R, h, 1, Tk).
    std::vector<Tensor> encoder_self_attention() const;
    std::vector<Tensor> decoder_self_attention() const;
    std::vector<Tensor> decoder_cross_attention() const;

    const TransformerConfig& config() const { return cfg_; }

  private:
    // src (B, S) → memory (B, S, D); *mask receives the source mask (B, 1, 1, S) (all ones without pad_id).
    Var encode(const IndexTensor& src, Tensor* mask);
    // √D · E[ids] + PE[first : first + L], with dropout when training: ids (B, L) → (B, L, D). first > 0 for a
    // decoding step.
    Var embed(const Embedding& table, const IndexTensor& ids, int first = 0);
    const Embedding& target_table() const { return target_embed_ ? *target_embed_ : embed_; }
    // y (..., D) → logits (..., V).
    Var project(const Var& y) const;

    TransformerConfig cfg_;
    Embedding embed_;
    std::unique_ptr<Embedding> target_embed_;  // null when shared
    PositionalEncoding positions_;
    TransformerEncoder encoder_;
    TransformerDecoder decoder_;
    std::unique_ptr<Linear> out_;  // null when tied
    Rng rng_;                      // dropout on the embeddings
};

}  // namespace s2a
