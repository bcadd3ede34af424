// experiments/transformer.h — what chapter 5 adds to the harness of experiment.h: a Transformer
// contender with its own optimizer recipe, exact match and BLEU under greedy or beam decoding, every attention
// head drawn, a race for equal processor time, and exact match by length for right-aligned questions.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, D d_model, h heads, F FFN width.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "experiments/side_by_side.h"
#include "models/transformer_seq2seq.h"
#include "models/transformer_train.h"

namespace s2a {

// True if some answer has a space before its end: then a space cannot mark where answers end.
bool inner_space(const TextData& data);

// A contender trained with the Transformer's recipe: Adam with β₂ = 0.98 and the warm-up schedule.
Contender transformer_contender(std::unique_ptr<TransformerSeq2seq> model, const Split& sets, const Vocab& vocab, int batch);

struct Scores {
    double exact = 0, bleu = 0;
    std::vector<std::vector<int>> guesses;  // every test answer, as ids
};

// Exact match and corpus BLEU (characters, padding stripped) of greedy decoding, or of beam search if k > 0
// (the contender's model must then be a TransformerSeq2seq).
Scores evaluate(Contender& c, const TextData& test, const Vocab& vocab, int k = 0, Real alpha = 0);

// Every head of every attention for test example 0 → one SVG; with `print`, the last layer's cross-attention
// to the terminal too.
void show_heads(TransformerSeq2seq& model, const Batcher& test, const Vocab& vocab, const std::string& path, bool print);

// Trains every contender for `seconds` of processor time, in `checkpoints` turns, printing test exact match
// after each turn. Processor time, not wall time: on a shared machine the wall time a step takes depends on
// what else runs (see models/transformer_train.h); taking turns evens out what is left of that.
void race(std::vector<Contender>& cs, std::vector<Trainer>& trainers, double seconds, int checkpoints,
          const TextData& test, const Vocab& vocab);

// Exact match grouped by string length in buckets of `bucket`: experiment.h's accuracy_by_length for
// right-aligned questions (their length is what is left after the padding on the left).
LengthTable by_length(std::vector<Contender>& cs, const TextData& test, const Vocab& vocab, int bucket);

}  // namespace s2a
