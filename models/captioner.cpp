// models/captioner.cpp — the captioner: the image encoder (palette → RGB and coordinates → CNN → grid), the
// decoder's start from the mean feature, the loss with the doubly stochastic regulariser, decoding.
//
// Dimensions: B batch, Hi × Wi image, L grid positions, H hidden, T caption steps, V words, R rows decoded at once.
#include "models/captioner.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "autodiff/ops.h"
#include "data/scenes.h"

namespace s2a {

Var attention_coverage_penalty(const Var& alpha, const IndexTensor& targets) {
    if (alpha.ndim() != 3 || targets.shape != Shape{alpha.dim(0), alpha.dim(1)})
        shape_error("attention_coverage_penalty", "needs weights (B, T, L) and targets (B, T)", {alpha.shape(), targets.shape});
    const int B = alpha.dim(0), T = alpha.dim(1);
    Tensor counted(Shape{B, T, 1});  // 1 while the caption runs, 0 after its end word
    for (int64_t i = 0; i < counted.numel(); ++i) counted[i] = targets[i] != -1;
    const Var coverage = sum(alpha * constant(counted), 1);        // Σₜ α_{b,t,l}: (B, L)
    const Var gap = constant(Tensor::scalar(1)) - coverage;         // 1 - Σₜ α: (B, L)
    return scale(sum(gap * gap), Real(1) / B);                      // a scalar
}

namespace {

AttentionConfig decoder_config(const CaptionerConfig& c) {
    AttentionConfig d;
    d.V = c.V, d.E = c.E, d.H = c.H, d.score = c.score, d.wiring = c.wiring, d.end_id = c.end_id;
    return d;  // one layer, no mask: every grid position is real
}

// kPalette as a table (P, 3) of RGB in [0, 1], for the embedding op to look pixels up in.
Tensor palette_table() {
    Tensor t(Shape{kPaletteSize, 3});
    for (int p = 0; p < kPaletteSize; ++p) {
        t[p * 3] = kPalette[p].r / Real(255), t[p * 3 + 1] = kPalette[p].g / Real(255), t[p * 3 + 2] = kPalette[p].b / Real(255);
    }
    return t;
}

// Each pixel's position, x and y in [-1, 1] (left/top -1): (B, Hi, Wi, 2).
Tensor coordinates(int B, int Hi, int Wi) {
    Tensor t(Shape{B, Hi, Wi, 2});
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < Hi; ++i)
            for (int j = 0; j < Wi; ++j) {
                Real* at = t.ptr() + ((int64_t(b) * Hi + i) * Wi + j) * 2;
                at[0] = Real(2 * (j + 0.5) / Wi - 1), at[1] = Real(2 * (i + 0.5) / Hi - 1);
            }
    return t;
}

}  // namespace

Captioner::Captioner(const CaptionerConfig& c, Rng& rng)
    : cfg(c),
      cnn(5, c.channels, c.H, rng),
      init_h(c.H, c.H, rng),
      init_c(c.H, c.H, rng),
      decoder(decoder_config(c), rng),
      palette_(constant(palette_table(), "palette")) {
    const auto [Ho, Wo] = cnn.grid_size(c.height, c.width);
    if (Ho < 1 || Wo < 1)
        throw std::invalid_argument(fmt::format("Captioner: a {}×{} image is too small for {} pooled blocks (each halves it)",
                                                c.height, c.width, c.channels.size()));
    add_child("cnn", cnn);
    add_child("init_h", init_h);
    add_child("init_c", init_c);
    add_child("decoder", decoder);
}

std::pair<Var, StackState> Captioner::encode(const IndexTensor& pixels) const {
    const int Hi = cfg.height, Wi = cfg.width;
    if (pixels.shape.ndim != 2 || pixels.shape[1] != Hi * Wi)
        throw std::invalid_argument(fmt::format("Captioner: images must come as (B, {}·{} = {}) pixel ids, got {}", Hi, Wi,
                                                Hi * Wi, pixels.shape.str()));
    const int B = pixels.shape[0];
    for (int64_t i = 0; i < pixels.numel(); ++i)
        if (pixels[i] < 0 || pixels[i] >= kPaletteSize)
            throw std::invalid_argument(fmt::format("Captioner: pixel {} of image {} holds {}, not a palette id 0..{}",
                                                    i % (Hi * Wi), i / (Hi * Wi), pixels[i], kPaletteSize - 1));
    const IndexTensor grid_ids = IndexTensor::from(Shape{B, Hi, Wi}, pixels.data);
    const Var x = concat({embedding(palette_, grid_ids), constant(coordinates(B, Hi, Wi))}, 3);  // x: (B, Hi, Wi, 5)
    const Var hs = cnn.forward(x);                                  // hs: (B, L, H)
    const Var mean_a = mean(hs, 1);                                 // ā: (B, H)
    const Var h0 = tanh(init_h.forward(mean_a)), c0 = tanh(init_c.forward(mean_a));  // (B, H) each
    const Var grid = cfg.mean_pool ? reshape(mean_a, Shape{B, 1, cfg.H}) : hs;  // what attention reads: (B, L or 1, H)
    return {grid, StackState{{LSTMState{h0, c0}}, h0}};
}

Var Captioner::step_weights(const Var& keys, const StackState& before, const StackState& after) const {
    const Var& query = cfg.wiring == Wiring::Bahdanau ? before.out : after.out;  // (B, H)
    return decoder.attention.weight.forward_with_keys(reshape(query, Shape{query.dim(0), 1, cfg.H}), keys, nullptr);
}

Var Captioner::loss(const IndexTensor& src, const IndexTensor& tgt) {
    const IndexTensor tgt_in = columns(tgt, 0, tgt.shape[1] - 1);  // (B, T)
    auto [hs, state] = encode(src);
    const Var keys = decoder.keys(hs);
    std::vector<Var> alphas;  // T of (B, 1, L), when the regulariser needs them
    // One step at a time (sampled_logits: the teacher's words, unless scheduled sampling is set).
    const Var logits = sampled_logits(tgt_in, [&](const IndexTensor& prev) {
        const StackState before = state;
        const Var logits_t = decoder.step(prev, hs, keys, nullptr, state, nullptr);  // (B, V)
        if (cfg.lambda > 0) alphas.push_back(step_weights(keys, before, state));
        return logits_t;
    });
    const IndexTensor targets = answer_targets(tgt, cfg.end_id);  // (B, T)
    const Var ce = cross_entropy(logits, targets);
    if (cfg.lambda <= 0) return ce;
    return ce + scale(attention_coverage_penalty(concat(alphas, 1), targets), cfg.lambda);
}

DecoderSteps Captioner::steps(const IndexTensor& src, int copies) {
    auto [hs, state] = encode(src);
    step_weights_.clear();
    return attention_decoder_steps(decoder, hs, state, nullptr, copies, step_weights_);  // no mask: every cell is real
}

IndexTensor Captioner::generate(const IndexTensor& src, int start_id, int length) {
    const IndexTensor words = Seq2seqModel::generate(src, start_id, length);  // (B, length); fills step_weights_
    attention_map_ = attention_map_of(step_weights_, src.shape[0], length);
    return words;
}

// The words of a caption up to its end word: the tokens BLEU compares.
static std::vector<int> words_of(const int* ids, int n) { return std::vector<int>(ids, std::find(ids, ids + n, kEndWord)); }

CaptionScores score_captions(Captioner& model, const std::vector<Scene>& scenes, int width, int batch_size, int k, Real alpha) {
    if (batch_size < 1) throw std::invalid_argument(fmt::format("score_captions: batch size {} must be at least 1", batch_size));
    CaptionScores s;
    std::vector<std::vector<int>> hypotheses, references;
    const int n = static_cast<int>(scenes.size()), T = width - 1;
    for (int first = 0; first < n; first += batch_size) {
        std::vector<int> rows;
        for (int i = first; i < std::min(n, first + batch_size); ++i) rows.push_back(i);
        const Batch batch = scene_batch(scenes, rows, width);
        const IndexTensor guess = k == 1 ? model.generate(batch.src, kStartWord, T)              // (B, T)
                                         : model.beam_search(batch.src, kStartWord, T, k, alpha);
        for (size_t b = 0; b < rows.size(); ++b) {
            const int* g = guess.data.data() + b * T;
            const int* truth = batch.tgt.data.data() + b * width + 1;  // after the start word
            s.exact_match += std::equal(g, g + T, truth);
            s.predictions.emplace_back(g, g + T);
            hypotheses.push_back(words_of(g, T));
            references.push_back(words_of(truth, T));
        }
    }
    s.exact_match = n ? s.exact_match / n : 0;
    s.bleu = corpus_bleu(hypotheses, references);
    return s;
}

}  // namespace s2a
