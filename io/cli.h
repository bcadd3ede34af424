// io/cli.h — the command-line flags of the chapter programs and the benchmark: one parser (Cli), and the
// flags every training chapter shares (TrainingFlags), registered through it.
//
//     int main(int argc, char** argv) {
//         TrainingFlags f;   // --seed --epochs --data --examples ... --quick --profile
//         f.epochs = 20;     // defaults are whatever the variables hold before parse()
//         int show = 10;
//         Cli cli("ch1", "the plain encoder-decoder on addition");
//         f.add_to(cli, "a file of questions and answers");
//         cli.option("show", &show, "test predictions to print").range(0, 1000);
//         cli.parse(argc, argv);
//         ...
//
// Both "--lr 0.5" and "--lr=0.5" work. A number flag declares the values it accepts where it is declared
// (.range, .at_least, .above, ...), and --help shows them. --help (or -h) prints the usage and exits with
// status 0; a bad command line prints one line to stderr, e.g.
//     ch1: --epochs expects an integer, got 'abc'
//     ch1: --epochs must be between 1 and 100000, got -1
// and exits with status 2. try_parse() does the same work without exiting or printing, for tests.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace s2a {

class Cli {
  public:
    // What a number option returns: the values it accepts, declared beside it. Each call narrows them; a
    // bound the default breaks is a programming error (std::logic_error). An int option takes whole bounds.
    //     cli.option("epochs", &epochs, "training epochs").range(1, 100000);  // --help: (default: 10, 1..100000)
    //     cli.option("lr", &lr, "learning rate").above(0).at_most(1);          // (default: 0.001, > 0 and ≤ 1)
    class Bounds {
      public:
        Bounds& at_least(double min);  // min ≤ value
        Bounds& above(double min);     // min < value
        Bounds& at_most(double max);   // value ≤ max
        Bounds& below(double max);     // value < max
        Bounds& range(double min, double max);  // min ≤ value ≤ max

      private:
        friend class Cli;
        Bounds(Cli& cli, size_t entry) : cli_(cli), entry_(entry) {}
        void store(double bound, bool is_min, bool open);
        Bounds& checked();  // throws if the default is out of bounds
        Bounds& one_end(double bound, bool is_min, bool open);  // store, then checked
        Cli& cli_;
        size_t entry_;  // an index, not a reference: registering the next flag may move the entries
    };

    Cli(std::string program, std::string description);

    // Registers "--NAME" (NAME may be given with or without the two dashes). The value the target holds
    // now is the default and is shown in --help. Registering the same name twice throws std::logic_error.
    void flag(const std::string& name, bool* target, const std::string& help);  // --NAME sets true
    Bounds option(const std::string& name, int* target, const std::string& help);
    Bounds option(const std::string& name, double* target, const std::string& help);
    // value_name is how the value appears in --help: "--data FILE".
    void option(const std::string& name, std::string* target, const std::string& help,
                const std::string& value_name = "TEXT");

    // A rule between flags, checked after every value has been read and found within its bounds:
    // `problem` returns "" when the values fit together, else what is wrong, e.g.
    // "--test must be below --examples (5000), got 6000", which becomes the one-line error.
    void require(std::function<std::string()> problem);

    // Parses the command line into the targets. On --help prints usage() and exits with status 0; on a
    // bad command line prints the error to stderr and exits with status 2.
    void parse(int argc, const char* const* argv);
    // The same without exiting: returns "" on success, else the one-line error message (without a
    // newline). Targets before the error may already be set. After "--help", help_requested() is true.
    std::string try_parse(int argc, const char* const* argv);
    bool help_requested() const { return help_requested_; }
    // Whether the last parse found --NAME on the command line (a default left alone was not given).
    bool given(const std::string& name) const;

    std::string usage() const;

  private:
    // One registered flag. Exactly one of the target pointers is set; it says the flag's type.
    struct Entry {
        std::string name;          // without dashes: "epochs"
        std::string help;
        std::string value_name;    // "N", "X", "FILE"; empty for a boolean flag
        std::string default_text;  // the default as shown in --help; empty for none
        bool* boolean = nullptr;
        int* integer = nullptr;
        double* real = nullptr;
        std::string* text = nullptr;
        // A number's accepted values: from min to max, an infinite end unbounded, an open end excluded.
        double min = -HUGE_VAL, max = HUGE_VAL;
        bool min_open = false, max_open = false;
        bool accepts(double v) const { return (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max); }
        bool closed() const { return std::isfinite(min) && std::isfinite(max) && !min_open && !max_open; }
        std::string bounds_text() const;  // "1..100000", "> 0 and ≤ 1", "≥ 0"; "" for no bounds
    };

    Entry& add(const std::string& name, const std::string& help, const std::string& value_name);
    const Entry* find(const std::string& name) const;
    std::string set_value(const Entry& entry, const std::string& value) const;
    std::string out_of_bounds(const Entry& entry, const std::string& value) const;
    std::string unknown_flag(const std::string& arg) const;

    std::string program_;
    std::string description_;
    std::vector<Entry> entries_;  // in registration order, which is the order --help lists them
    std::vector<std::function<std::string()>> rules_;  // the require() rules, checked in this order
    bool help_requested_ = false;
    std::vector<std::string> given_;  // the flags the last parse found, by name
};

// The largest values the programs accept. Widths (E, H, D, F) up to 4096 and batches up to 65536 keep
// every product of sizes a layer forms, such as an LSTM's B·4H, within int; larger models would not fit in
// memory anyway.
constexpr int kMaxWidth = 4096;
constexpr int kMaxBatch = 65536;
constexpr int kMaxExamples = 10'000'000;
constexpr int kMaxEpochs = 100'000;

// The flags every training chapter has; a chapter sets its own defaults on the struct before add_to registers
// them (the defaults are what --help shows).
struct TrainingFlags {
    int seed = 1;          // the seed of every random choice: same seed, same run
    int epochs = 10;       // passes over the training data
    int min_epochs = 1;    // the fewest --epochs accepts: 0 only where a chapter can skip its training (ch5)
    int embed = 16;        // E
    int hidden = 128;      // H
    int batch = 128;       // B
    int examples = 50000;  // generated examples, training and test together
    int test = 5000;       // of them held out for testing
    double lr = 1e-3;      // Adam's learning rate
    double clip = 5;       // the largest global gradient norm a step may take
    std::string data;      // a data file instead of the generated task
    std::string out = "out";  // folder for plots and checkpoints
    std::string resume;    // a folder of resume files (OUT/chN_NAME.resume.npz) to continue the run from
    bool quick = false;    // a tiny run that finishes in seconds (the tests run every chapter this way)
    bool profile = false;  // profile one epoch of training and stop (autodiff/profile.h)
    // Registers the flags with their bounds, and the rule that generated data keeps a training set.
    void add_to(Cli& cli, const std::string& data_help);
    // The sizes of a --quick run: fewer examples, a smaller model, fewer epochs; a size given on the command
    // line keeps its value (--quick --epochs 3 trains three epochs).
    void quick_sizes(int quick_examples, int quick_test, int quick_hidden, int quick_epochs);
    // One more size of a --quick run: `size` becomes `quick_value` unless --FLAG was on the command line.
    template <class T>
    void quick_size(const char* flag, T& size, T quick_value) const {
        if (!cli_ || !cli_->given(flag)) size = quick_value;
    }
    // Creates the --out folder if it is missing and writes a file there to be sure it can: a chapter calls
    // this before it trains, so a bad --out costs a second, not the run. Throws std::runtime_error naming
    // the folder.
    void create_out_folder() const;

  private:
    const Cli* cli_ = nullptr;  // the command line add_to registered with: which flags were given
};

// Runs a program's body and turns any exception into one clear line on stderr and exit status 1
// ("ch1: error: data.txt:12: no '_' separator"), instead of an abort with a stack of C++ internals; Ctrl-C
// (Interrupted, io/interrupt.h) into "ch1: interrupted (Ctrl-C)" and status 130.
int guarded(const std::string& program, const std::function<int()>& body);

}  // namespace s2a
