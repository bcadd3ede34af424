// experiments/attention.h — what chapters 3 to 5 share about chapter 3's attention model: its configuration
// from the training flags, and where it looked (for the first test questions, the weights a (T, S) of every
// answer step over the source, drawn in the terminal and as one SVG).
//
// Dimensions: B batch, S source length, T answer length.
#pragma once

#include <string>

#include "data/dataset.h"
#include "io/cli.h"
#include "models/attention_seq2seq.h"

namespace s2a {

// Chapter 3's model of these flags: V from the vocabulary, E and H from --embed and --hidden, the source's
// padding (spaces) masked, the source read reversed; Luong wiring, dot score, one layer unless changed.
AttentionConfig attention_config(const TrainingFlags& f, const Vocab& vocab);

// Decodes the first batch of `test` greedily and shows the attention map of its first n questions (`data`
// holds their text): a terminal heat map each, and one SVG with all of them at `path`.
void show_heat_maps(AttentionSeq2seq& model, const Batcher& test, const TextData& data, const Vocab& vocab, int n,
                    const std::string& path);

}  // namespace s2a
