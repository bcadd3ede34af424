// experiments/side_by_side.h — the harness the chapter programs share: several models trained side by side on
// the same data (the chapter writes the epoch, the harness shares the cores), a table row of test accuracy per
// epoch, predictions with ✓/✗, accuracy by length, learning curves, checkpoint names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/cli.h"
#include "io/plot.h"
#include "models/train.h"

namespace s2a {

// Several models trained on the same data. Each has its own optimizer, batchers and shuffling Rng; all the
// Rngs start from the same seed, so every model sees the same batches in the same order.
struct Contender {
    std::string name;
    std::unique_ptr<Seq2seqModel> model;
    std::unique_ptr<Optimizer> optimizer;
    std::unique_ptr<Batcher> train, test;
    Rng shuffle;
    int start_id = 0;              // the id of '_', the decoder's first input, in the contender's vocabulary
    std::vector<double> accuracy;  // test exact match after each epoch
    double seconds = 0;            // time spent in its epochs so far (training and testing)
};

// A contender with Adam at learning rate lr and its own batchers (reversed questions if `reversed`).
Contender make_contender(const std::string& name, std::unique_ptr<Seq2seqModel> model, const Split& data,
                         const Vocab& vocab, int batch, bool reversed, Real lr, uint64_t seed);

// Runs `one_epoch` (which trains a contender for one epoch and returns its test accuracy) `epochs` times for
// every contender, and prints a row of test accuracy as soon as every contender has finished an epoch (the
// header first). The contenders train at the same time, one per core, each multiplying its matrices on one
// thread: at these sizes a second BLAS thread buys a model far less than a second model running beside it.
// Each thread takes the idle contender with the fewest epochs done, so three models keep two cores busy. A
// progress bar counts the optimizers' steps. An exception in one contender stops the run (once the others
// have finished the epochs they are in) and is rethrown, prefixed with the contender's name and epoch.
using Epoch = std::function<double(Contender&)>;  // one epoch of one contender: train it, return its test accuracy
void train_side_by_side(std::vector<Contender>& contenders, int epochs, const Epoch& one_epoch);

// Tests every contender as it is (no training) and prints the table with the one row "0": for reloaded models.
void test_side_by_side(std::vector<Contender>& contenders);

// Prints the first n test questions, the right answer and each contender's answer marked ✓ or ✗.
void print_predictions(std::vector<Contender>& contenders, const TextData& test, const Vocab& vocab, int n);

// Every test example's exact-match result, in the test set's order.
std::vector<bool> correct_answers(Contender& c, const TextData& test, const Vocab& vocab);

// Exact match grouped by question length (padding not counted), in buckets of `bucket` characters, from the
// shortest question's bucket on: accuracy[m][k] is contender m's accuracy on the questions of lengths
// starts[k] .. starts[k] + bucket - 1. Questions are left-aligned (padded at the end) unless `right_aligned`.
struct LengthTable {
    int bucket = 1;
    std::vector<int> starts;
    std::vector<std::vector<double>> accuracy;
};
LengthTable accuracy_by_length(std::vector<Contender>& contenders, const TextData& test, const Vocab& vocab, int bucket,
                               bool right_aligned = false);
// The table printed, one row per bucket and one column per contender, and drawn as an SVG.
void report_by_length(const std::vector<Contender>& contenders, const LengthTable& table, const std::string& title,
                      const std::string& path);

// The learning curves of all contenders, written as an SVG.
void plot_accuracy(const std::vector<Contender>& contenders, const std::string& title, const std::string& path);

// Checkpoint file of a contender: DIR/PREFIX_NAME.npz with '+' in the name written '_'.
std::string checkpoint_path(const std::string& dir, const std::string& prefix, const std::string& name);

}  // namespace s2a
