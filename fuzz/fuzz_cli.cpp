// fuzz/fuzz_cli.cpp — the flag parser (io/cli.h) on arbitrary command lines.
//
// The input is split at spaces, tabs and newlines into words, as a shell would split it without quotes,
// and parsed by a Cli that has every kind of option: a flag, integers and reals with closed, open and
// one-sided bounds, text, and the shared TrainingFlags with their rule between --test and --examples.
// try_parse() is what parse() runs before it prints and exits, so the fuzzer stays alive.
//
// Properties: try_parse never throws; after a success every number is within its declared bounds and the
// rule holds; after a failure the message starts with the program's name.
#include <cmath>
#include <string>
#include <vector>

#include "fuzz/fuzz.h"
#include "io/cli.h"

using namespace s2a;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> words = {"fuzz"};  // argv[0]
    std::string word;
    for (size_t i = 0; i <= size; ++i) {
        const char c = i < size ? static_cast<char>(data[i]) : ' ';
        if (c == ' ' || c == '\t' || c == '\n') {
            if (!word.empty()) words.push_back(word);
            word.clear();
        } else {
            word += c;
        }
    }
    std::vector<const char*> argv;
    for (const std::string& w : words) argv.push_back(w.c_str());

    TrainingFlags training;
    int depth = 2, beam = 0;
    double dropout = 0.1, temperature = 1;
    bool verbose = false;
    std::string name = "run";
    Cli cli("fuzz", "every kind of flag");
    training.add_to(cli, "a data file");
    cli.option("depth", &depth, "layers").range(1, 8);
    cli.option("beam", &beam, "beam width, 0 for greedy").at_least(0).at_most(64);
    cli.option("dropout", &dropout, "dropout probability").at_least(0).below(1);
    cli.option("temperature", &temperature, "sampling temperature").above(0);
    cli.flag("verbose", &verbose, "say more");
    cli.option("name", &name, "the run's name", "NAME");

    const std::string error = cli.try_parse(static_cast<int>(argv.size()), argv.data());
    if (!error.empty()) {
        fuzz::fuzz_require(error.rfind("fuzz: ", 0) == 0, "an error starts with the program's name");
        return 0;
    }
    if (cli.help_requested()) {
        fuzz::fuzz_require(!cli.usage().empty(), "--help has a text");
        return 0;
    }
    fuzz::fuzz_require(depth >= 1 && depth <= 8 && beam >= 0 && beam <= 64, "integers within their bounds");
    fuzz::fuzz_require(dropout >= 0 && dropout < 1 && temperature > 0 && std::isfinite(temperature),
                       "reals within their bounds");
    const TrainingFlags& t = training;
    fuzz::fuzz_require(t.seed >= 0 && t.epochs >= t.min_epochs && t.epochs <= kMaxEpochs && t.embed >= 1 &&
                           t.embed <= kMaxWidth && t.hidden >= 1 && t.hidden <= kMaxWidth && t.batch >= 1 &&
                           t.batch <= kMaxBatch && t.examples >= 2 && t.examples <= kMaxExamples && t.test >= 1 &&
                           t.test <= kMaxExamples && t.lr > 0 && t.lr <= 1 && t.clip > 0 && std::isfinite(t.clip),
                       "the training flags within their bounds");
    fuzz::fuzz_require(!t.data.empty() || t.test < t.examples, "generated data keeps a training set");
    return 0;
}
