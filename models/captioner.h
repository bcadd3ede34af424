// models/captioner.h — show, attend and tell (Xu et al., 2015): a convolutional encoder turns the image into a
// grid of feature vectors, and chapter 3's attention decoder writes the caption word by word, looking at the grid.
//
// Dimensions:
//   B      batch                                  Hi, Wi   image height and width (pixels)
//   L      grid positions, Ho · Wo                H        the decoder's hidden size, and each grid vector's size
//   T      caption words after the start word     V        caption vocabulary (kSceneWords)
//
// The encoder: each pixel's palette id looked up in kPalette (RGB in [0, 1]), two more channels holding the
// pixel's own x and y in [-1, 1], then a small CNN (nn/conv.h) → grid (B, L, H). The coordinates are there
// because a convolution is blind to where it is: the same filter runs everywhere, so without them a grid
// vector says "a red circle is here" but not where "here" is, and "left of" could only be guessed (Liu et al.,
// 2018, "CoordConv").
//
// The grid plays the role of a sentence's encoder states hs: the decoder is AttentionDecoder
// (models/attention_seq2seq.h), unchanged, with the L grid positions as its S source positions and no mask.
// It starts from the image's mean feature vector ā = (1/L) Σₗ aₗ, as Xu et al. do:
//   h₀ = tanh(ā W_h + b_h),   c₀ = tanh(ā W_c + b_c)
// With the Bahdanau wiring (their model) step t attends with h_{t-1} and feeds the context into the LSTM.
//
// The doubly stochastic regulariser (Xu et al., section 4.2.1). Each step's weights sum to 1 over the grid,
// Σₗ α_{t,l} = 1; the penalty asks the other sum, over the caption's steps, to be near 1 for every position:
//   loss = cross-entropy + λ · (1/B) Σ_b Σₗ (1 - Σₜ α_{b,t,l})²
// so that over the whole caption every part of the image gets looked at about once; the steps after a
// caption's end word are not counted. λ = 0 turns it off.
#pragma once

#include "data/scenes.h"
#include "models/attention_seq2seq.h"
#include "models/bleu.h"
#include "nn/conv.h"

namespace s2a {

struct CaptionerConfig {
    int V = 0;                        // words
    int height = 32, width = 32;      // Hi, Wi
    std::vector<int> channels = {16, 32};  // the CNN's pooled blocks (nn/conv.h): L = (Hi / 4) · (Wi / 4) with two
    int E = 16, H = 64;               // word embedding, decoder hidden size = grid vector size
    Score score = Score::Additive;    // Xu et al.'s score is additive
    Wiring wiring = Wiring::Bahdanau;
    Real lambda = 0;                  // the doubly stochastic regulariser's weight
    int end_id = -1;                  // the word that ends a caption (-1: captions are always T words)
    bool mean_pool = false;           // the grid averaged to one position ā: the same decoder, nothing to choose
};

// The penalty Σ_b Σₗ (1 - Σₜ mask_{b,t} α_{b,t,l})² / B for weights alpha (B, T, L), where mask_{b,t} is 1 while
// targets (B, T) counts the step (not the ignore value -1 that answer_targets writes after the end word).
Var attention_coverage_penalty(const Var& alpha, const IndexTensor& targets);

class Captioner : public Seq2seqModel {
  public:
    // Throws std::invalid_argument for a config the parts refuse (sizes < 1, an image the pools cannot halve).
    Captioner(const CaptionerConfig& cfg, Rng& rng);

    // pixels (B, Hi·Wi) palette ids → the grid hs (B, L, H) and the decoder's initial state; with mean_pool,
    // hs is ā alone (B, 1, H), so every step's context is the same summary of the image.
    // Throws std::invalid_argument naming the limit if a row's length is not Hi·Wi or an id is not a colour.
    std::pair<Var, StackState> encode(const IndexTensor& pixels) const;

    // Cross-entropy of the caption tgt (B, T + 1) given the image src (B, Hi·Wi), plus the regulariser when
    // λ > 0. The decoder runs step by step (it has to: each step's weights are needed on the tape).
    Var loss(const IndexTensor& src, const IndexTensor& tgt) override;
    DecoderSteps steps(const IndexTensor& src, int copies) override;
    int end_id() const override { return cfg.end_id; }
    // Greedy captions, keeping each step's attention weights for attention_map().
    IndexTensor generate(const IndexTensor& src, int start_id, int length) override;
    // The weights of the last generate(): (B, length, L), row t = where word t looked; reshape a row to
    // (Ho, Wo) to lay it over the image.
    const Tensor& attention_map() const { return attention_map_; }
    std::pair<int, int> grid_size() const { return cfg.mean_pool ? std::pair{1, 1} : cnn.grid_size(cfg.height, cfg.width); }

    // Step t's weights α_t (B, 1, L) as a value of the tape, so the regulariser's gradient reaches the scores.
    // The decoder keeps only a copy for display, so they are computed again here from the query it used: the
    // state before the step (Bahdanau) or after it (Luong). Same inputs, same op: the same numbers.
    Var step_weights(const Var& keys, const StackState& before, const StackState& after) const;

    CaptionerConfig cfg;
    CNNEncoder cnn;
    Linear init_h, init_c;
    AttentionDecoder decoder;

  private:
    Var palette_;  // kPalette's RGB in [0, 1] (P, 3): a constant, looked up like an embedding table
    Tensor attention_map_;
    std::vector<Tensor> step_weights_;  // every step's weights (R, 1, L) since the last generate()
};

// How well a captioner describes a set of scenes: each caption written greedily (k = 1) or by beam search
// (k hypotheses, length penalty alpha; models/decoding.h), a batch at a time.
struct CaptionScores {
    double exact_match = 0;                     // the fraction of captions equal to the truth word for word
    BleuScore bleu;                             // corpus BLEU over words, the end word and what follows left out
    std::vector<std::vector<int>> predictions;  // every caption written, (width - 1) word ids, in scene order
};
CaptionScores score_captions(Captioner& model, const std::vector<Scene>& scenes, int width, int batch_size, int k = 1,
                             Real alpha = 0);

}  // namespace s2a
