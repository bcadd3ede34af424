// experiments/transformer.h — what chapter 5 adds to the harness of side_by_side.h: the Transformer's flags and
// the model they make, a Transformer contender with its own optimizer recipe, exact match and BLEU under greedy
// or beam decoding, and every attention head drawn. (The race for equal processor time is in race.h.)
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, D d_model, h heads, F FFN width.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "experiments/side_by_side.h"
#include "io/cli.h"
#include "models/transformer_seq2seq.h"

namespace s2a {

// Chapter 5's Transformer as its flags give it: the dates' model; the race's (race.h) takes these with its own
// D, F, dropout and warm-up.
struct TransformerFlags {
    int D = 128, heads = 4, F = 512, layers = 2;  // its sizes: d_model, heads h, FFN width, encoder (and decoder) layers
    int warmup = 300;                             // and its learning-rate schedule
    double lr_factor = 1, dropout = 0.1, smoothing = 0.1;
    bool post_norm = false, learned = false, separate = false;

    // Registers --d-model, --heads, --ffn, --layers, --dropout, --smoothing, --warmup, --lr-factor, --post-norm,
    // --learned-positions and --separate-embeddings, in this order, with their bounds. (That --heads divides
    // --d-model is checked with the race's width, by RaceFlags::add_to in race.h.)
    void add_to(Cli& cli);
    // The learning rate of these flags: lr = factor · D^-0.5 · min(step^-0.5, step · warmup^-1.5).
    WarmupSchedule schedule() const;
    // "D 128 h 4 F 512 layers 2+2 pre-norm": the sizes, as the chapter prints them.
    std::string sizes() const;
};

// The model of these flags for `data` in `vocab`: V from the vocabulary, the source's padding (spaces) masked,
// the first space after an answer ending it unless some answer holds a space (inner_space); pre-norm unless
// --post-norm, sinusoids unless --learned-positions, one shared and tied table unless --separate-embeddings.
TransformerConfig transformer_config(const TransformerFlags& f, const Vocab& vocab, const TextData& data);

// True if some answer has a space before its end: then a space cannot mark where answers end.
bool inner_space(const TextData& data);

// A contender trained with the Transformer's recipe: Adam with β₂ = 0.98 and `schedule` setting its learning rate.
Contender transformer_contender(std::unique_ptr<TransformerSeq2seq> model, const WarmupSchedule& schedule, const Split& sets,
                                const Vocab& vocab, int batch, uint64_t seed);

struct Scores {
    double exact = 0, bleu = 0;
    std::vector<std::vector<int>> guesses;  // every test answer, as ids
};

// How answers are written: source ids (B, S) and the answer length T → answer ids (B, T).
using Decoding = std::function<IndexTensor(const IndexTensor& src, int T)>;
// Greedy decoding by `model` (which must outlive it), from the start symbol start_id.
Decoding greedy_decoding(Seq2seqModel& model, int start_id);

// Exact match and corpus BLEU (characters, padding stripped) of the answers `decode` writes for `test`
// (the test set `batches` was made from).
Scores evaluate(const Decoding& decode, const Batcher& batches, const TextData& test, const Vocab& vocab);

// Chapter 5's test dates decoded three ways, a row of exact match and BLEU each: greedily, by beam search with
// k = 1 and with k (length penalty α); then whether k = 1 wrote exactly the greedy answers, as it should (a beam
// of one keeps the most probable token at every step). `batches` were made from `test`.
void compare_decodings(Seq2seqModel& model, const Batcher& batches, const TextData& test, const Vocab& vocab, int k, double alpha);

// Every head of every attention for test example 0 → one SVG; with `print`, the last layer's cross-attention
// to the terminal too.
void show_heads(TransformerSeq2seq& model, const Batcher& test, const Vocab& vocab, const std::string& path, bool print);

}  // namespace s2a
