// experiments/depth.h — what chapter 4 adds to the harness of side_by_side.h: the models to compare
// (every depth plain and residual, built from chapter 3's model), read from a list like "1,4,8", and the gradient norm of every LSTM layer
// of a model after one backward pass, printed as a table, drawn as a plot and summed up as bottom/top ratios.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden, L layers.
#pragma once

#include <string>
#include <vector>

#include "experiments/side_by_side.h"
#include "models/attention_seq2seq.h"

namespace s2a {

// "1,4,8" → {1, 4, 8}. Throws std::invalid_argument (naming --depths) for anything but numbers 1..kMaxDepth.
constexpr int kMaxDepth = 64;  // the deepest stack --depths accepts (the chapter makes its point by 8)
std::vector<int> parse_depths(const std::string& text);

struct Variant {
    int depth;      // L, the LSTM layers in the encoder and in the decoder
    bool residual;  // out_l = LSTM_l(in_l) + in_l from the second layer up
    std::string name() const;  // "1 layer", "4 plain", "4 residual"
};

// Every depth plain and residual, except depth 1 once (its residual wiring would be the same model).
std::vector<Variant> variants(const std::vector<int>& depths);

// Chapter 3's model `base` with v.depth LSTM layers in the encoder and in the decoder, residual or not, and
// `dropout` between layers. Its weights come from its own Rng(seed): a depth's plain and residual models start
// identical, so the wiring is the only difference between them.
std::unique_ptr<AttentionSeq2seq> deep_model(AttentionConfig base, const Variant& v, double dropout, uint64_t seed);

// The gradient norm of each LSTM layer of one model after one backward pass; index 0 is the bottom layer.
struct LayerNorms {
    Variant model;
    std::vector<double> encoder, decoder;
    double ratio(const std::vector<double>& stack) const { return stack.front() / stack.back(); }  // bottom/top
};

// One backward pass of `model`'s loss on `batch`, then the norms of its layers encoder.lstm.layer0, 1, … and
// decoder.lstm.layer0, 1, … (nn/grad_norms.h); `v` is the variant it was built as. Measured on a fresh model:
// built from the same seed, it holds the very weights its trained twin starts from.
LayerNorms measure(Seq2seqModel& model, const Variant& v, const Batch& batch);

// The table (one row per model and stack, one column per layer, bottom/top last), the plot (log₁₀ of the
// norm against the layer, so a fade by a constant factor per layer is a straight line), and for each depth
// the bottom/top ratios without and with residual connections side by side.
void report_norms(const std::vector<LayerNorms>& all, const std::string& path);

// The final table: every model's parameters, final and best test accuracy, the first epoch at ≥ 99% and its
// time; then whether the best residual model of depth ≥ 4 reached 99%. models[m] was built as variants[m].
void report_depths(const std::vector<Contender>& models, const std::vector<Variant>& variants);

}  // namespace s2a
