// io/cli.cpp — the flag parser: registration, parsing with strict value checks, and --help.
#include "io/cli.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "autodiff/tensor.h"
#include "io/interrupt.h"

namespace s2a {

namespace {

// The number of single-character insertions, deletions and substitutions that turn a into b
// (Levenshtein distance), by the classic dynamic program kept to one row: row[j] = distance(a[..i], b[..j]).
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];  // distance(a[..i-1], b[..j-1])
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string without_dashes(const std::string& name) {
    size_t start = 0;
    while (start < name.size() && start < 2 && name[start] == '-') ++start;
    return name.substr(start);
}

}  // namespace

Cli::Cli(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

Cli::Entry& Cli::add(const std::string& name, const std::string& help, const std::string& value_name) {
    Entry entry;
    entry.name = without_dashes(name);
    if (entry.name.empty() || entry.name.find('=') != std::string::npos)
        throw std::logic_error(fmt::format("{}: invalid flag name '{}'", program_, name));
    if (entry.name == "help" || find(entry.name) != nullptr)
        throw std::logic_error(fmt::format("{}: flag '--{}' is registered twice", program_, entry.name));
    entry.help = help;
    entry.value_name = value_name;
    entries_.push_back(entry);
    return entries_.back();
}

std::string Cli::Entry::bounds_text() const {
    if (closed()) return fmt::format("{}..{}", min, max);
    const std::string lower = std::isfinite(min) ? fmt::format("{} {}", min_open ? ">" : "≥", min) : "";
    const std::string upper = std::isfinite(max) ? fmt::format("{} {}", max_open ? "<" : "≤", max) : "";
    return lower + (!lower.empty() && !upper.empty() ? " and " : "") + upper;
}

void Cli::Bounds::store(double bound, bool is_min, bool open) {
    Entry& e = cli_.entries_[entry_];
    if (e.integer != nullptr && (open || bound != std::floor(bound)))
        throw std::logic_error(fmt::format("{}: --{} is an integer: give it whole, closed bounds", cli_.program_, e.name));
    (is_min ? e.min : e.max) = bound;
    (is_min ? e.min_open : e.max_open) = open;
}

Cli::Bounds& Cli::Bounds::checked() {
    const Entry& e = cli_.entries_[entry_];
    if (!e.accepts(e.integer != nullptr ? *e.integer : *e.real))
        throw std::logic_error(
            fmt::format("{}: the default of --{}, {}, is not {}", cli_.program_, e.name, e.default_text, e.bounds_text()));
    return *this;
}

Cli::Bounds& Cli::Bounds::one_end(double bound, bool is_min, bool open) {
    store(bound, is_min, open);
    return checked();
}

Cli::Bounds& Cli::Bounds::at_least(double min) { return one_end(min, true, false); }
Cli::Bounds& Cli::Bounds::above(double min) { return one_end(min, true, true); }
Cli::Bounds& Cli::Bounds::at_most(double max) { return one_end(max, false, false); }
Cli::Bounds& Cli::Bounds::below(double max) { return one_end(max, false, true); }

Cli::Bounds& Cli::Bounds::range(double min, double max) {
    store(min, true, false);
    store(max, false, false);
    return checked();  // both ends first, so that an error shows the whole range
}

void Cli::flag(const std::string& name, bool* target, const std::string& help) {
    Entry& e = add(name, help, "");
    e.boolean = target;
    e.default_text = *target ? "on" : "";  // a flag that is off by default needs no "(default: off)"
}

Cli::Bounds Cli::option(const std::string& name, int* target, const std::string& help) {
    Entry& e = add(name, help, "N");
    e.integer = target;
    e.default_text = std::to_string(*target);
    return Bounds(*this, entries_.size() - 1);
}

Cli::Bounds Cli::option(const std::string& name, double* target, const std::string& help) {
    Entry& e = add(name, help, "X");
    e.real = target;
    e.default_text = fmt::format("{}", *target);  // the shortest text that reads back as the same double
    return Bounds(*this, entries_.size() - 1);
}

void Cli::option(const std::string& name, std::string* target, const std::string& help,
                 const std::string& value_name) {
    Entry& e = add(name, help, value_name);
    e.text = target;
    e.default_text = *target;
}

void Cli::require(std::function<std::string()> problem) { rules_.push_back(std::move(problem)); }

void TrainingFlags::add_to(Cli& cli, const std::string& data_help) {
    cli_ = &cli;
    cli.option("seed", &seed, "random seed (data, split, weights, shuffling)").at_least(0);
    cli.option("epochs", &epochs, "training epochs for each model").range(min_epochs, kMaxEpochs);
    cli.option("data", &data, data_help, "FILE");
    cli.option("examples", &examples, "generated examples (when no --data)").range(2, kMaxExamples);
    cli.option("test", &test, "examples held out for testing").range(1, kMaxExamples);
    cli.option("embed", &embed, "embedding size E").range(1, kMaxWidth);
    cli.option("hidden", &hidden, "hidden size H").range(1, kMaxWidth);
    cli.option("batch", &batch, "batch size B").range(1, kMaxBatch);
    cli.option("lr", &lr, "Adam learning rate").above(0).at_most(1);
    cli.option("clip", &clip, "gradient clipping: max global norm").above(0);
    cli.option("out", &out, "folder for plots and checkpoints", "DIR");
    cli.option("resume", &resume, "continue the run saved in DIR: a run's --out (its state after its last whole epoch) or "
               "OUT/interrupted (after Ctrl-C); with the same flags it ends with the weights of a run never stopped; "
               "--epochs counts the epochs already done", "DIR");
    cli.flag("quick", &quick, "tiny sizes, a few seconds (for tests)");
    cli.flag("profile", &profile, "profile one epoch of the main model's training (after a warm-up step), print where "
             "the time went, and stop");
    // A file brings its own number of examples; generated ones must leave some to train on.
    cli.require([this] {
        return data.empty() && test >= examples
                   ? fmt::format("--test must be below --examples ({}), got {}", examples, test)
                   : std::string();
    });
}

void TrainingFlags::quick_sizes(int quick_examples, int quick_test, int quick_hidden, int quick_epochs) {
    quick_size("examples", examples, quick_examples);
    quick_size("test", test, quick_test);
    quick_size("hidden", hidden, quick_hidden);
    quick_size("epochs", epochs, quick_epochs);
}

void TrainingFlags::create_out_folder() const {
    namespace fs = std::filesystem;
    std::error_code error;
    if (fs::exists(out, error) && !fs::is_directory(out, error))
        throw std::runtime_error(fmt::format("--out {}: exists and is not a folder", out));
    fs::create_directories(out, error);
    if (error) throw std::runtime_error(fmt::format("--out {}: cannot create the folder ({})", out, error.message()));
    // Writing a file is the one sure test: permissions, a read-only disk and quotas all show up here.
    const fs::path probe = fs::path(out) / ".s2a_write_test";
    if (!std::ofstream(probe)) throw std::runtime_error(fmt::format("--out {}: cannot write files in the folder", out));
    fs::remove(probe, error);
}

const Cli::Entry* Cli::find(const std::string& name) const {
    for (const Entry& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

// Converts `value` to the entry's type and stores it; returns "" or the error message. A value counts
// only if all of it is read: "3x" is not the integer 3. std::from_chars is used because, unlike strtol
// and strtod, it skips no spaces and ignores the locale.
std::string Cli::set_value(const Entry& e, const std::string& value) const {
    const char* begin = value.data();
    const char* end = value.data() + value.size();
    if (e.boolean != nullptr) {  // only reached through "--quick=VALUE"
        if (value == "true" || value == "1") {
            *e.boolean = true;
        } else if (value == "false" || value == "0") {
            *e.boolean = false;
        } else {
            return fmt::format("{}: --{} is a flag and takes no value (or =true / =false), got '{}'",
                               program_, e.name, value);
        }
    } else if (e.integer != nullptr) {
        int v = 0;
        const auto [stop, error] = std::from_chars(begin, end, v);
        if (error == std::errc::result_out_of_range)
            return fmt::format("{}: --{} expects an integer, got '{}' (out of range)", program_, e.name,
                               value);
        if (error != std::errc() || stop != end || value.empty())
            return fmt::format("{}: --{} expects an integer, got '{}'", program_, e.name, value);
        if (!e.accepts(v)) return out_of_bounds(e, value);
        *e.integer = v;
    } else if (e.real != nullptr) {
        double v = 0;
        const auto [stop, error] = std::from_chars(begin, end, v);
        if (error != std::errc() || stop != end || value.empty() || !std::isfinite(v))
            return fmt::format("{}: --{} expects a number, got '{}'", program_, e.name, value);
        if (!e.accepts(v)) return out_of_bounds(e, value);
        *e.real = v;
    } else {
        *e.text = value;
    }
    return "";
}

// "ch1: --epochs must be between 1 and 100000, got -1", or "must be > 0 and ≤ 1" when an end is open or missing.
std::string Cli::out_of_bounds(const Entry& e, const std::string& value) const {
    const std::string bounds = e.closed() ? fmt::format("between {} and {}", e.min, e.max) : e.bounds_text();
    return fmt::format("{}: --{} must be {}, got {}", program_, e.name, bounds, value);
}

// "ch1: unknown flag '--epoch', did you mean '--epochs'? (see --help)" — the suggestion only when one
// registered name is a typo away (at most one edit per three characters).
std::string Cli::unknown_flag(const std::string& arg) const {
    const std::string name = without_dashes(arg.substr(0, arg.find('=')));
    const Entry* closest = nullptr;
    size_t best = std::max<size_t>(1, name.size() / 3) + 1;
    for (const Entry& e : entries_) {
        const size_t d = edit_distance(name, e.name);
        if (d < best) {
            best = d;
            closest = &e;
        }
    }
    if (closest != nullptr)
        return fmt::format("{}: unknown flag '{}', did you mean '--{}'? (see --help)", program_, arg,
                           closest->name);
    return fmt::format("{}: unknown flag '{}' (see --help)", program_, arg);
}

std::string Cli::try_parse(int argc, const char* const* argv) {
    help_requested_ = false;
    given_.clear();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help_requested_ = true;
            return "";
        }
        if (arg.empty() || arg[0] != '-')
            return fmt::format("{}: unexpected argument '{}' (see --help)", program_, arg);
        if (arg.compare(0, 2, "--") != 0) return unknown_flag(arg);

        // "--name=value" carries its value; "--name value" takes the next argument.
        const size_t equals = arg.find('=');
        const std::string name = arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
        const Entry* e = find(name);
        if (e == nullptr) return unknown_flag(arg);

        std::string error;
        if (equals != std::string::npos) {
            error = set_value(*e, arg.substr(equals + 1));
        } else if (e->boolean != nullptr) {
            *e->boolean = true;
        } else {
            // The next argument is the value, unless there is none or it is the next flag: "--data --quick"
            // is a forgotten value, not a data file called "--quick". ("-0.5" is a value: one dash only.)
            if (i + 1 >= argc || std::string(argv[i + 1]).compare(0, 2, "--") == 0)
                return fmt::format("{}: --{} needs a value ({})", program_, name, e->value_name);
            error = set_value(*e, argv[++i]);
        }
        if (!error.empty()) return error;
        given_.push_back(e->name);
    }
    for (const auto& problem : rules_) {
        const std::string what = problem();
        if (!what.empty()) return fmt::format("{}: {}", program_, what);
    }
    return "";
}

bool Cli::given(const std::string& name) const { return std::find(given_.begin(), given_.end(), name) != given_.end(); }

void Cli::parse(int argc, const char* const* argv) {
    const std::string error = try_parse(argc, argv);
    if (!error.empty()) {
        fmt::print(stderr, "{}\n", error);
        std::exit(2);  // the conventional status for a usage error
    }
    if (help_requested_) {
        fmt::print("{}", usage());
        std::exit(0);
    }
}

std::string Cli::usage() const {
    // Left column "--epochs N", padded so that all the help texts start in one column.
    std::vector<std::pair<std::string, std::string>> rows;
    for (const Entry& e : entries_) {
        std::string left = "--" + e.name + (e.value_name.empty() ? "" : " " + e.value_name);
        std::string right = e.help;
        const std::string bounds = e.bounds_text();
        if (!e.default_text.empty()) right += " (default: " + e.default_text + (bounds.empty() ? "" : ", " + bounds) + ")";
        rows.emplace_back(left, right);
    }
    rows.emplace_back("-h, --help", "show this help and exit");
    size_t width = 0;
    for (const auto& row : rows) width = std::max(width, row.first.size());

    std::string text =
        fmt::format("{} — {}\n\nusage: {} [flags]\n\nflags:\n", program_, description_, program_);
    for (const auto& [left, right] : rows) text += fmt::format("  {:<{}}  {}\n", left, width, right);
    // The kernels belong to what a seed reproduces: the same code, seed and kernels print the same digits.
    text += fmt::format("\nMatrix products: OpenBLAS's {} kernels on this processor. The same seed and kernels give "
                        "the same digits, to the last (docs/results: the published runs and their kernels; README, "
                        "Reproducibility).\n",
                        blas_kernels());
    return text;
}

int guarded(const std::string& program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Interrupted& e) {  // whoever caught it first has saved the run and said how to resume it
        std::fflush(stdout);
        fmt::print(stderr, "{}: {}\n", program, e.what());
        return kInterruptedStatus;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 1;
    }
}

}  // namespace s2a
