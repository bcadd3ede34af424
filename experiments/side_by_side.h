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
// Rngs start from the same seed, so every model sees the same batches in the same order. An epoch is
//     for (; c.batch < c.train->num_batches(); ++c.batch) train_step(..., c.train->batch(c.batch), ...);
//     end_epoch(c);  // the next epoch's order
// so that c.batch always says where the run is: a run stopped between two steps resumes there.
struct Contender {
    std::string name;
    std::unique_ptr<Seq2seqModel> model;
    std::unique_ptr<Optimizer> optimizer;
    std::unique_ptr<Batcher> train, test;
    Rng shuffle;
    int batch = 0;                 // the next batch of this epoch's order: batches 0..batch-1 are trained
    int start_id = 0;              // the id of '_', the decoder's first input, in the contender's vocabulary
    bool reversed = false;         // its questions are fed back to front
    std::vector<double> accuracy;  // test exact match after each epoch
    double seconds = 0;            // time spent in its epochs so far (training and testing)
    std::string resume_file;       // where its state goes after every epoch (resumable()); "" for nowhere
};

// A contender with Adam at learning rate lr and its own batchers (reversed questions if `reversed`), its
// training batches in the first epoch's order.
Contender make_contender(const std::string& name, std::unique_ptr<Seq2seqModel> model, const Split& data,
                         const Vocab& vocab, int batch, bool reversed, Real lr, uint64_t seed);

// The width of a table's model column: the longest name, and at least 10.
int name_width(const std::vector<Contender>& contenders);

// The epoch is done: a fresh order of the training batches for the next one (the same for every contender of
// one seed), from batch 0.
void end_epoch(Contender& c);

// ---------------------------------------------------------------- stopping and resuming
//
// A contender's resume file, DIR/PREFIX_NAME.resume.npz (io/checkpoint.h: save_resumable), holds its weights,
// its optimizer's state, its model's random streams and, as run.* arrays, the rest of its run: run.progress
// (epochs done, the next batch), run.accuracy (after each epoch), run.shuffle (the data-order Rng) and
// run.order (the training examples' order in the current epoch). Training from it with the same flags gives
// bit for bit the weights of a run that never stopped.

// DIR/PREFIX_NAME.resume.npz, '+' and ' ' in the name written '_' (as checkpoint_path).
std::string resume_path(const std::string& dir, const std::string& prefix, const std::string& name);
// Where Ctrl-C saves instead: DIR/interrupted/PREFIX_NAME.resume.npz for DIR/PREFIX_NAME.resume.npz, so that a
// half epoch never replaces the state after the last whole one.
std::string interrupted_path(const std::string& resume_file);

// Writes c's state to path (atomically); without a path, to c.resume_file if it has one.
void save_resume(const Contender& c, const std::string& path);
void save_resume(const Contender& c);
// Reads c's state from path. Throws std::runtime_error naming the path and the array if the file is not a
// resume file of this model, optimizer and data (shapes, sizes, the order of this training set), is corrupt,
// or holds a NaN; c is then left as it was.
void load_resume(Contender& c, const std::string& path);

// For --resume: gives every contender its resume file, OUT/PREFIX_NAME.resume.npz; with --resume DIR, first
// loads DIR/PREFIX_NAME.resume.npz into it. Throws if a file already holds as many epochs as --epochs asks for.
void resumable(std::vector<Contender>& cs, const TrainingFlags& f, const std::string& prefix);

// Runs `train`, a chapter's training loop over cs, with Ctrl-C caught (io/interrupt.h). When Ctrl-C stops it
// between two steps, every contender with a resume file is saved to its
// interrupted_path, the bar's line ended, where it went and how to continue printed; then Interrupted is
// rethrown (guarded() exits with 130).
void interruptible(std::vector<Contender>& cs, const std::function<void()>& train);

// ---------------------------------------------------------------- training side by side

// Runs `one_epoch` (which trains a contender for one epoch and returns its test accuracy) for every contender
// until it has `epochs` (a resumed one may have some already), each epoch followed by its resume file if it
// has one, all under interruptible(); and prints a row of test accuracy as soon as every contender has finished an epoch (the
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
