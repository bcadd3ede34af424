// io/cli.h — the command-line flags of the chapter programs and the benchmark: one parser (Cli), and the
// flags every training chapter shares (TrainingFlags), registered through it.
//
//     int main(int argc, char** argv) {
//         TrainingFlags f;   // --seed --epochs --data --examples ... --quick
//         f.epochs = 20;     // defaults are whatever the variables hold before parse()
//         int show = 10;
//         Cli cli("ch1", "the plain encoder-decoder on addition");
//         f.add_to(cli, "a file of questions and answers");
//         cli.option("show", &show, "test predictions to print");
//         cli.parse(argc, argv);
//         ...
//
// Both "--lr 0.5" and "--lr=0.5" work. --help (or -h) prints the usage and exits with status 0; a bad
// command line prints one line to stderr, e.g.
//     ch1: --epochs expects an integer, got 'abc'
// and exits with status 2. try_parse() does the same work without exiting or printing, for tests.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace s2a {

class Cli {
  public:
    Cli(std::string program, std::string description);

    // Registers "--NAME" (NAME may be given with or without the two dashes). The value the target holds
    // now is the default and is shown in --help. Registering the same name twice throws std::logic_error.
    void flag(const std::string& name, bool* target, const std::string& help);  // --NAME sets true
    void option(const std::string& name, int* target, const std::string& help);
    void option(const std::string& name, double* target, const std::string& help);
    // value_name is how the value appears in --help: "--data FILE".
    void option(const std::string& name, std::string* target, const std::string& help,
                const std::string& value_name = "TEXT");

    // Parses the command line into the targets. On --help prints usage() and exits with status 0; on a
    // bad command line prints the error to stderr and exits with status 2.
    void parse(int argc, const char* const* argv);
    // The same without exiting: returns "" on success, else the one-line error message (without a
    // newline). Targets before the error may already be set. After "--help", help_requested() is true.
    std::string try_parse(int argc, const char* const* argv);
    bool help_requested() const { return help_requested_; }

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
    };

    Entry& add(const std::string& name, const std::string& help, const std::string& value_name);
    const Entry* find(const std::string& name) const;
    std::string set_value(const Entry& entry, const std::string& value) const;
    std::string unknown_flag(const std::string& arg) const;

    std::string program_;
    std::string description_;
    std::vector<Entry> entries_;  // in registration order, which is the order --help lists them
    bool help_requested_ = false;
};

// The flags every training chapter has; a chapter sets its own defaults on the struct before add_to registers
// them (the defaults are what --help shows).
struct TrainingFlags {
    int seed = 1;          // the seed of every random choice: same seed, same run
    int epochs = 10;       // passes over the training data
    int embed = 16;        // E
    int hidden = 128;      // H
    int batch = 128;       // B
    int examples = 50000;  // generated examples, training and test together
    int test = 5000;       // of them held out for testing
    double lr = 1e-3;      // Adam's learning rate
    double clip = 5;       // the largest global gradient norm a step may take
    std::string data;      // a data file instead of the generated task
    std::string out = "out";  // folder for plots and checkpoints
    bool quick = false;    // a tiny run that finishes in seconds (the tests run every chapter this way)
    void add_to(Cli& cli, const std::string& data_help);
    // The sizes of a --quick run: fewer examples, a smaller model, fewer epochs.
    void quick_sizes(int quick_examples, int quick_test, int quick_hidden, int quick_epochs);
};

// Runs a program's body and turns any exception into one clear line on stderr and exit status 1
// ("ch1: error: data.txt:12: no '_' separator"), instead of an abort with a stack of C++ internals.
int guarded(const std::string& program, const std::function<int()>& body);

}  // namespace s2a
