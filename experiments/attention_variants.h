// experiments/attention_variants.h — what chapter 7 shows and measures about its attention variants: the three
// layers on a toy batch, how far a model's attention is from the true alignment of copying, the arithmetic of
// one decoder step's attention, heat maps of where each model looked, and the steps each took to 95%.
//
// Dimensions: B batch, S source length, T answer length, H hidden, A additive size (= H), D half-width,
// F location filters, Kc their width.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "experiments/side_by_side.h"
#include "models/attention_seq2seq.h"

namespace s2a {

// Chapter 7's section 1: the three attentions run on a toy batch and printed — B = 2 sentences of S = 8 source
// states hs of size H = 4 (the second with 5 real ones), one query h each, the additive score shared by all:
// global weights (B, 1, S); local-p's centres (B, 1, 1) and weights with D = 1; location-aware weights when the
// previous step looked at positions 2 and 3; and the guide W for S = T = 6, width g. Clears the tape.
void print_toy_batch(uint64_t seed, Real g);

// Chapter 7's models by name: "global", "local-p", "location" (the attention of that name, no guided loss),
// "guided" (global attention trained with the guided loss, weight λ and width g), "guided-local-p" and
// "guided-location" (local-p and location-aware attention trained with it). `list` is comma-separated.
// variant_list_problem says what is wrong with a list ("" if nothing: every name known, none twice), for the
// command line; variant_list splits one, variant_config gives a name's configuration (c with its attention).
std::string variant_list_problem(const std::string& list);
std::vector<std::string> variant_list(const std::string& list);
AttentionConfig variant_config(AttentionConfig c, const std::string& name, Real guided_weight, Real guided_g);
// What a configuration's attention is, with its settings: "local-p (D = 5)", "global + guided loss (λ = 0.1, g = 0.2)",
// "location-aware (8 filters of width 9) + guided loss (λ = 0.1, g = 0.2)".
std::string describe_variant(const AttentionConfig& c);

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

// The first training step at which a learning curve reaches `percent` ("never" if it does not).
std::string steps_to(const Series& curve, double percent);

// Chapter 7's part (b) table: for each model, the steps its curve took to 95% exact match and its alignment
// error on its test set (alignment_error). curves[m] and nets[m] belong to models[m].
void report_steps_to_95(std::vector<Contender>& models, const std::vector<Series>& curves,
                        const std::vector<AttentionSeq2seq*>& nets, int every, int pad_id);

}  // namespace s2a
