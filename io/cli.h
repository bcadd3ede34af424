// io/cli.h — the command-line flags of the chapter programs and the benchmark.
//
//     int main(int argc, char** argv) {
//         StandardFlags common;  // --seed --epochs --data --quick
//         common.epochs = 20;    // defaults are whatever the variables hold before parse()
//         double lr = 0.01;
//         Cli cli("ch1", "a character-level language model with an RNN");
//         cli.standard(&common);
//         cli.option("lr", &lr, "learning rate");
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

// The flags every program has. Set a program's own defaults on this struct before Cli::standard().
struct StandardFlags {
    int seed = 1;         // the seed of every random choice: same seed, same run
    int epochs = 10;      // passes over the training data
    std::string data;     // a data file to use instead of the program's built-in one
    bool quick = false;   // a tiny run that finishes in seconds (the tests run every chapter this way)
};

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
    // Registers --seed, --epochs, --data and --quick.
    void standard(StandardFlags* flags);

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

// Runs a program's body and turns any exception into one clear line on stderr and exit status 1
// ("ch1: error: data.txt:12: no '_' separator"), instead of an abort with a stack of C++ internals.
int guarded(const std::string& program, const std::function<int()>& body);

}  // namespace s2a
