// experiments/attention_variants.h — what chapter 7 measures about its attention variants: how far a model's
// attention is from the true alignment of copying, the arithmetic of one decoder step's attention, and heat maps
// of where each model looked.
//
// Dimensions: B batch, S source length, T answer length, H hidden, A additive size (= H), D half-width,
// F location filters, Kc their width.
#pragma once

#include <string>

#include "data/dataset.h"
#include "models/attention_seq2seq.h"

namespace s2a {

// How far the attention is from the alignment of copying, where letter t is read at source position t.
struct Alignment {
    double error = 0;      // mean |argmax_s a[t, s] − t| over the letters written, in positions
    double on_target = 0;  // the fraction of letters with argmax_s a[t, s] = t
};
// Decodes every batch of `test` greedily and compares each step's attention with the diagonal, over each
// source's letters (its ids before the first pad_id). The source must not be reversed.
Alignment alignment_error(AttentionSeq2seq& model, const Batcher& test, int start_id, int pad_id);

// FLOPs of one decoder step's attention for one query over S positions (global or location-aware) or a window
// of 2D + 1 (local-p), additive score of size A = H: a multiply-add counts 2, a tanh, exp or division 1; the
// keys W₂ hs (once per sentence, not per step) are left out. c gives the location filters.
double attention_flops(Attend attend, int S, int H, int D, const AttentionConfig& c);

// Where `model` looked while copying two test strings, a short one (of at least 8 letters, also drawn in the
// terminal) and the longest; rows are the letters written, columns the letters read. Titled `name`, one SVG.
void heat_maps(AttentionSeq2seq& model, const std::string& name, const TextData& test, const Vocab& vocab, const std::string& path);

}  // namespace s2a
