// tests/test_cli.cpp — the flag parser: both value spellings, defaults, bounds, --help, and every kind of bad input.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/tensor.h"
#include "io/cli.h"
#include "tests/util.h"

using namespace s2a;

namespace {

// A chapter-like program: the training flags plus a number without bounds and one flag.
struct Program {
    TrainingFlags common;
    double shift = 0;
    bool verbose = false;
    Cli cli{"ch1", "a character-level language model"};

    Program() {
        common.epochs = 20;
        common.hidden = 64;
        common.out = "model.npz";
        common.add_to(cli, "a data file");
        cli.option("shift", &shift, "an offset, of either sign");
        cli.flag("--verbose", &verbose, "print more");  // the dashes are optional when registering
    }

    // Parses a command line given as its arguments after the program name; returns the error or "".
    std::string parse(const std::vector<std::string>& args) {
        std::vector<const char*> argv = {"ch1"};
        for (const std::string& a : args) argv.push_back(a.c_str());
        return cli.try_parse(static_cast<int>(argv.size()), argv.data());
    }
};

}  // namespace

TEST_CASE("cli: no arguments keep the defaults") {
    Program p;
    CHECK(p.parse({}) == "");
    CHECK_FALSE(p.cli.help_requested());
    CHECK(p.common.seed == 1);
    CHECK(p.common.epochs == 20);
    CHECK(p.common.data == "");
    CHECK_FALSE(p.common.quick);
    CHECK(p.common.lr == 0.001);
    CHECK(p.common.hidden == 64);
    CHECK(p.common.out == "model.npz");
}

TEST_CASE("cli: values as '--name value' and '--name=value'") {
    Program p;
    CHECK(p.parse({"--epochs", "3", "--seed=42", "--shift", "-0.5", "--hidden=128", "--data", "train.txt",
                   "--out=runs/a=b.npz", "--quick", "--verbose"}) == "");
    CHECK(p.common.epochs == 3);
    CHECK(p.common.seed == 42);
    CHECK(p.shift == -0.5);  // a negative number is a value, not a flag
    CHECK(p.common.hidden == 128);
    CHECK(p.common.data == "train.txt");
    CHECK(p.common.out == "runs/a=b.npz");  // only the first '=' separates name and value
    CHECK(p.common.quick);
    CHECK(p.verbose);

    Program q;
    CHECK(q.parse({"--lr=1e-4", "--epochs", "5", "--epochs", "7", "--verbose=false", "--quick=true"}) == "");
    CHECK(q.common.lr == doctest::Approx(1e-4));
    CHECK(q.common.epochs == 7);  // the last one wins
    CHECK_FALSE(q.verbose);
    CHECK(q.common.quick);
}

TEST_CASE("cli: --quick's sizes leave alone a size given on the command line") {
    Program p;
    CHECK(p.parse({"--quick", "--epochs", "5", "--hidden=8"}) == "");
    CHECK(p.cli.given("epochs"));
    CHECK_FALSE(p.cli.given("examples"));
    p.common.quick_sizes(600, 60, 16, 1);
    CHECK(p.common.epochs == 5);  // given: kept
    CHECK(p.common.hidden == 8);
    CHECK(p.common.examples == 600);  // not given: the quick size
    CHECK(p.common.test == 60);
    CHECK(p.parse({"--quick"}) == "");  // a second parse forgets what the first one was given
    CHECK_FALSE(p.cli.given("epochs"));
    p.common.quick_sizes(600, 60, 16, 1);
    CHECK(p.common.epochs == 1);
}

TEST_CASE("cli: --help and -h ask for the usage, which lists every flag with its default") {
    for (const char* help : {"--help", "-h"}) {
        Program p;
        CHECK(p.parse({"--epochs", "3", help}) == "");
        CHECK(p.cli.help_requested());
    }
    Program p;
    CHECK(p.parse({"--epochs", "3", "--lr", "0.5"}) == "");
    const std::string usage = p.cli.usage();
    // The defaults shown are the values before parsing, not what this command line set; then the bounds.
    for (const char* text : {"ch1", "a character-level language model", "--seed N", "--data FILE", "--quick", "--help",
                             "training epochs for each model (default: 20, 1..100000)",
                             "Adam learning rate (default: 0.001, > 0 and ≤ 1)",
                             "hidden size H (default: 64, 1..4096)",
                             "random seed (data, split, weights, shuffling) (default: 1, ≥ 0)",
                             "gradient clipping: max global norm (default: 5, > 0)",
                             "an offset, of either sign (default: 0)\n",
                             "folder for plots and checkpoints (default: model.npz)"})
        CHECK_MESSAGE(contains(usage, text), "missing from --help: ", text);
    // and the kernels the products run on, which a seed's digits depend on (tools/reproduce.py reads them here)
    CHECK(contains(usage, fmt::format("Matrix products: OpenBLAS's {} kernels on this processor.", blas_kernels())));
    CHECK(!blas_kernels().empty());
}

TEST_CASE("cli: bad command lines give one clear line") {
    struct Case {
        std::vector<std::string> args;
        std::string error;
    };
    const std::vector<Case> cases = {
        {{"--epoch", "3"}, "ch1: unknown flag '--epoch', did you mean '--epochs'? (see --help)"},
        {{"--zzz"}, "ch1: unknown flag '--zzz' (see --help)"},
        {{"-epochs", "3"}, "ch1: unknown flag '-epochs', did you mean '--epochs'? (see --help)"},
        {{"train.txt"}, "ch1: unexpected argument 'train.txt' (see --help)"},
        {{"--epochs", "abc"}, "ch1: --epochs expects an integer, got 'abc'"},
        {{"--epochs", "3x"}, "ch1: --epochs expects an integer, got '3x'"},
        {{"--epochs", "2.5"}, "ch1: --epochs expects an integer, got '2.5'"},
        {{"--epochs", " 3"}, "ch1: --epochs expects an integer, got ' 3'"},
        {{"--epochs="}, "ch1: --epochs expects an integer, got ''"},
        {{"--epochs", "99999999999"}, "ch1: --epochs expects an integer, got '99999999999' (out of range)"},
        {{"--epochs"}, "ch1: --epochs needs a value (N)"},
        {{"--data", "--quick"}, "ch1: --data needs a value (FILE)"},
        {{"--lr", "fast"}, "ch1: --lr expects a number, got 'fast'"},
        {{"--lr", "0.1.2"}, "ch1: --lr expects a number, got '0.1.2'"},
        {{"--lr", "nan"}, "ch1: --lr expects a number, got 'nan'"},
        {{"--quick=maybe"}, "ch1: --quick is a flag and takes no value (or =true / =false), got 'maybe'"},
        {{"--epochs", "-1"}, "ch1: --epochs must be between 1 and 100000, got -1"},
        {{"--epochs=0"}, "ch1: --epochs must be between 1 and 100000, got 0"},
        {{"--epochs", "100001"}, "ch1: --epochs must be between 1 and 100000, got 100001"},
        {{"--hidden", "536870912"}, "ch1: --hidden must be between 1 and 4096, got 536870912"},
        {{"--batch", "0"}, "ch1: --batch must be between 1 and 65536, got 0"},
        {{"--seed", "-3"}, "ch1: --seed must be ≥ 0, got -3"},
        {{"--lr", "0"}, "ch1: --lr must be > 0 and ≤ 1, got 0"},
        {{"--lr", "1e300"}, "ch1: --lr must be > 0 and ≤ 1, got 1e300"},
        {{"--clip", "-1"}, "ch1: --clip must be > 0, got -1"},
        {{"--test", "6000", "--examples", "5000"}, "ch1: --test must be below --examples (5000), got 6000"},
        {{"--examples", "10", "--test", "10"}, "ch1: --test must be below --examples (10), got 10"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.error);
        Program p;
        CHECK(p.parse(c.args) == c.error);
        CHECK_FALSE(p.cli.help_requested());
    }
}

TEST_CASE("cli: bounds are checked as values are read, then the rules between flags") {
    Program p;
    CHECK(p.parse({"--epochs", "1", "--epochs", "100000", "--lr", "1", "--seed", "0", "--shift", "-1e300"}) == "");
    CHECK(p.common.epochs == 100000);
    // The first value out of bounds is the error; the rules run only once every value was read.
    Program q;
    CHECK(q.parse({"--test", "9000", "--epochs", "0"}) == "ch1: --epochs must be between 1 and 100000, got 0");
    CHECK(q.common.epochs == 20);  // a refused value is not stored
    // A data file brings its own examples: --test is its business then.
    Program r;
    CHECK(r.parse({"--data", "train.txt", "--test", "6000", "--examples", "5000"}) == "");
    // A chapter that can skip its training lowers the epochs' minimum before registering.
    TrainingFlags skip;
    skip.min_epochs = 0;
    Cli cli("ch5", "skips its training with --epochs 0");
    skip.add_to(cli, "a data file");
    const char* argv[] = {"ch5", "--epochs", "0"};
    CHECK(cli.try_parse(3, argv) == "");
    CHECK(skip.epochs == 0);
    CHECK(contains(cli.usage(), "(default: 10, 0..100000)"));
}

TEST_CASE("cli: bounds that a default breaks, or an integer cannot keep, are programming errors") {
    Cli cli("ch9", "bounds");
    int layers = 0;
    double rate = 2;
    CHECK_THROWS_WITH_AS(cli.option("layers", &layers, "layers").range(1, 8),
                         "ch9: the default of --layers, 0, is not 1..8", std::logic_error);
    CHECK_THROWS_WITH_AS(cli.option("rate", &rate, "rate").below(1), "ch9: the default of --rate, 2, is not < 1",
                         std::logic_error);
    int width = 4;
    CHECK_THROWS_WITH_AS(cli.option("width", &width, "width").above(0),
                         "ch9: --width is an integer: give it whole, closed bounds", std::logic_error);
    int heads = 4;
    CHECK_THROWS_AS(cli.option("heads", &heads, "heads").at_most(7.5), std::logic_error);
}

TEST_CASE("cli: registering a name twice is a programming error") {
    Program p;
    int again = 0;
    CHECK_THROWS_AS(p.cli.option("epochs", &again, "twice"), std::logic_error);
    CHECK_THROWS_AS(p.cli.option("--epochs", &again, "twice"), std::logic_error);
    CHECK_THROWS_AS(p.cli.option("help", &again, "reserved"), std::logic_error);
    CHECK_THROWS_AS(p.cli.option("", &again, "empty"), std::logic_error);
}
