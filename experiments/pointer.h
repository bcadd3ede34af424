// experiments/pointer.h — chapter 7, part (c): writing words the vocabulary does not hold.
//
// Plain attention (chapter 3's Luong model) and the pointer-generator (models/pointer_generator.h) train on the
// same batches of the names task (data/tasks_names.h), where half the test sentences carry names no training
// sentence holds. Both are scored by exact match on the whole test set and on the answers with such an unseen
// name. Plain attention can only write <unk> for a name outside its vocabulary; the pointer-generator can copy
// it. The run prints p_gen, step by step, for a few test answers, and draws where the pointer looked.
#pragma once

#include <string>

namespace s2a {

// Test exact match: over every answer, and over the answers that hold a name no training sentence holds.
struct PointerScores {
    double all = 0, unseen = 0;
};

struct PointerResult {
    int vocab = 0;                       // V
    double oov_train = 0, oov_test = 0;  // the share of answer words outside the vocabulary, training and test set
    int test = 0, unseen = 0;            // test answers, and how many hold a name no training sentence holds
    PointerScores plain, pointer;        // greedy decoding, after the last epoch
    PointerScores pointer_beam;          // the pointer-generator with beam search, k = 4
};

// Trains both models from `seed` (quick: a small run of a few seconds, for the tests and --quick), prints the
// data, a row of exact match per epoch, p_gen for three test answers with unseen names and a heat map of the
// first, and writes the three heat maps to OUT/ch7_pointer.svg. Returns what it printed.
PointerResult pointer_experiment(int seed, const std::string& out, bool quick);

}  // namespace s2a
