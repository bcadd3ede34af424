// experiments/side_by_side.h — the harness the chapter programs share: several models trained side by side on
// the same data, a table row of test accuracy per epoch, predictions with ✓/✗, learning curves, checkpoints.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/cli.h"
#include "io/plot.h"
#include "models/train.h"

namespace s2a {

// The flags every training chapter has; a chapter sets its own defaults before add_to registers them.
struct TrainingFlags {
    int seed = 1, epochs = 10, embed = 16, hidden = 128, batch = 128, examples = 50000, test = 5000;
    double lr = 1e-3, clip = 5;
    std::string data, out = "out";
    bool quick = false;
    void add_to(Cli& cli, const std::string& data_help);
};

struct Contender {
    std::string name;
    std::unique_ptr<Seq2seqModel> model;
    std::unique_ptr<Optimizer> optimizer;
    std::unique_ptr<Batcher> train, test;
    std::vector<double> accuracy;  // test exact match after each epoch
    double seconds = 0;            // training time so far
};

// A contender with Adam and its own batchers (reversed questions if `reversed`).
Contender make_contender(const std::string& name, std::unique_ptr<Seq2seqModel> model, const Split& data,
                         const Vocab& vocab, int batch, bool reversed, Real lr);

// Trains every contender for `epochs` epochs and prints after each epoch a row of test exact-match accuracy
// (the header first). Every contender sees the same batches in the same order (its own shuffle, seeded with
// `seed`). Several contenders train at the same time, one per core, each on one BLAS thread. With epochs = 0
// it only evaluates (for reloaded models).
void train_side_by_side(std::vector<Contender>& contenders, int epochs, Real clip, int start_id, uint64_t seed);

// Prints the first n test questions, the right answer and each contender's answer marked ✓ or ✗.
void print_predictions(std::vector<Contender>& contenders, const TextData& test, const Vocab& vocab, int start_id, int n);

// Every test example's exact-match result, in the test set's order.
std::vector<bool> correct_answers(Contender& c, const TextData& test, const Vocab& vocab, int start_id);

// Exact match grouped by question length (padding not counted), in buckets of `bucket` characters:
// accuracy[m][k] is contender m's accuracy on the questions of lengths starts[k] .. starts[k] + bucket - 1.
struct LengthTable {
    int bucket = 1;
    std::vector<int> starts;
    std::vector<std::vector<double>> accuracy;
};
LengthTable accuracy_by_length(std::vector<Contender>& contenders, const TextData& test, const Vocab& vocab,
                               int start_id, int bucket);
// The table printed, one row per bucket and one column per contender, and drawn as an SVG.
void report_by_length(const std::vector<Contender>& contenders, const LengthTable& table, const std::string& title,
                      const std::string& path);

// The learning curves of all contenders, written as an SVG.
void plot_accuracy(const std::vector<Contender>& contenders, const std::string& title, const std::string& path);

// Checkpoint file of a contender: DIR/PREFIX_NAME.npz with '+' in the name written '_'.
std::string checkpoint_path(const std::string& dir, const std::string& prefix, const std::string& name);

}  // namespace s2a
