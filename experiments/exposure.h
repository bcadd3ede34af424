// experiments/exposure.h — chapter 6's measurements: the exposure-bias meter (how much better a model does
// when it is given the true previous tokens than when it reads its own), decoding the test set greedily or
// by beam search, and accuracy broken down by a property of each example (answer length, nesting depth).
//
// Dimensions: B batch, S source length, T answer length (after the start symbol), V vocabulary, k beam.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "experiments/side_by_side.h"
#include "models/seq2seq.h"

namespace s2a {

// The exposure-bias meter: per-token accuracy over the answers' tokens (up to and including the end symbol),
//   teacher-forced: every step is given the true previous token, as in training;
//   free-running:   the model writes the whole answer from its own tokens (greedy), compared position by position.
// Exact match cannot show the gap: an answer is all right under teacher forcing exactly when greedy decoding,
// never leaving the true prefix, writes it all right too. Per token it shows: after a first mistake, teacher
// forcing judges each later step from the true prefix, while free-running the model must go on from its own
// mistake, and every mistake it makes because of the first one is the cost of exposure bias.
struct ExposureMeter {
    std::vector<double> forced, free;  // per epoch: teacher-forced and free-running token accuracy on the test set
    void measure(Seq2seqModel& model, const Batcher& test, int start_id);  // appends one reading
};
// The readings of every contender, a row per epoch (forced, free, and the gap forced - free), printed and
// drawn as an SVG (two curves per contender).
void report_exposure(const std::vector<Contender>& contenders, const std::vector<ExposureMeter>& meters, const std::string& path);

// The test set's answers under one decoding: greedy (k = 1) or beam search of width k and length penalty α.
struct Decoded {
    std::string name;                              // "greedy" or "beam k=4"
    std::vector<bool> correct;                     // per example, in the test set's order: the whole answer right
    std::vector<std::vector<Hypothesis>> nbest;    // per example: the n-best list (k = 1: the greedy answer alone)
    double exact = 0;                              // the fraction correct
};
Decoded decode_test(Seq2seqModel& model, const Batcher& test, int start_id, int k, Real alpha);

// Exact match per group: group[i] in 0..groups-1 says which group example i is in → accuracy per group (NaN
// for an empty one), and how many examples each holds.
std::vector<double> accuracy_by_group(const std::vector<bool>& correct, const std::vector<int>& group, int groups,
                                      std::vector<int>* counts = nullptr);

// A breakdown table: one row per group g in 0..groups-1 (group[i] says example i's), its number of examples,
// and each decoding's exact match on it; printed, and drawn as an SVG line plot against g.
void report_groups(const std::string& title, const std::string& group_name, const std::vector<Decoded>& decodings,
                   const std::vector<int>& group, int groups, const std::string& path);

// An answer's text without its end symbol and what follows it (vocab decodes the ids).
std::string answer_text(const std::vector<int>& tokens, const Vocab& vocab, int end_id);
// An n-best list, one hypothesis a line: its text, log P and the key it was ranked by.
void print_nbest(const std::vector<Hypothesis>& nbest, const Vocab& vocab, int end_id);

}  // namespace s2a
