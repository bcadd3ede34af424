// experiments/heat_maps.h — where chapter 3's attention model looked: for the first test questions, the
// weights a (T, S) of every answer step over the source, drawn in the terminal and as one SVG.
//
// Dimensions: B batch, S source length, T answer length.
#pragma once

#include <string>

#include "data/dataset.h"
#include "models/attention_seq2seq.h"

namespace s2a {

// Decodes the first batch of `test` greedily and shows the attention map of its first n questions (`data`
// holds their text): a terminal heat map each, and one SVG with all of them at `path`.
void show_heat_maps(AttentionSeq2seq& model, const Batcher& test, const TextData& data, const Vocab& vocab, int n,
                    const std::string& path);

}  // namespace s2a
