// experiments/transformer.h — what chapter 5 adds to the harness of side_by_side.h: a Transformer
// contender with its own optimizer recipe, exact match and BLEU under greedy or beam decoding, and every
// attention head drawn. (The race for equal processor time is in race.h.)
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, D d_model, h heads, F FFN width.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "experiments/side_by_side.h"
#include "models/transformer_seq2seq.h"

namespace s2a {

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

// Exact match and corpus BLEU (characters, padding stripped) of the answers `decode` writes for `test`
// (the test set `batches` was made from).
Scores evaluate(const Decoding& decode, const Batcher& batches, const TextData& test, const Vocab& vocab);

// Every head of every attention for test example 0 → one SVG; with `print`, the last layer's cross-attention
// to the terminal too.
void show_heads(TransformerSeq2seq& model, const Batcher& test, const Vocab& vocab, const std::string& path, bool print);

}  // namespace s2a
