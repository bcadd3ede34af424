// experiments/side_by_side.cpp — training side by side, tables, predictions, curves.
#include "experiments/side_by_side.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "data/utf8.h"
#include "io/checkpoint.h"
#include "io/interrupt.h"
#include "io/progress.h"

namespace s2a {

Contender make_contender(const std::string& name, std::unique_ptr<Seq2seqModel> model, const Split& data,
                         const Vocab& vocab, int batch, bool reversed, Real lr, uint64_t seed) {
    Contender c;
    c.name = name;
    c.shuffle = Rng(seed);
    c.start_id = vocab.id('_');
    c.reversed = reversed;
    c.optimizer = std::make_unique<Adam>(model->parameters(), lr);
    c.model = std::move(model);
    c.train = std::make_unique<Batcher>(data.train, vocab, batch, reversed);
    c.test = std::make_unique<Batcher>(data.test, vocab, batch, reversed);
    c.train->shuffle(c.shuffle);  // the first epoch's order
    return c;
}

int name_width(const std::vector<Contender>& contenders) {
    size_t width = 10;
    for (const Contender& c : contenders) width = std::max(width, c.name.size());
    return static_cast<int>(width);
}

void end_epoch(Contender& c) {
    c.train->shuffle(c.shuffle);
    c.batch = 0;
}

std::string resume_path(const std::string& dir, const std::string& prefix, const std::string& name) {
    const std::string npz = checkpoint_path(dir, prefix, name);
    return npz.substr(0, npz.size() - 4) + ".resume.npz";
}

std::string interrupted_path(const std::string& resume_file) {
    const std::filesystem::path file(resume_file);
    return (file.parent_path() / "interrupted" / file.filename()).string();
}

void save_resume(const Contender& c, const std::string& path) {
    const std::vector<int>& order = c.train->order();
    Tensor order_array(Shape{static_cast<int>(order.size())});  // (N) example indices, exact in float below 2^24
    std::copy(order.begin(), order.end(), order_array.data.begin());
    NamedArrays run = {{"progress", to_counts({c.accuracy.size(), static_cast<uint64_t>(c.batch)})},
                       {"shuffle", to_counts({c.shuffle.state()})},
                       {"order", order_array}};
    if (!c.accuracy.empty()) run["accuracy"] = Tensor::from(Shape{static_cast<int>(c.accuracy.size())},
                                                            std::vector<Real>(c.accuracy.begin(), c.accuracy.end()));
    save_resumable(*c.model, *c.optimizer, run, path);
}

void save_resume(const Contender& c) {
    if (!c.resume_file.empty()) save_resume(c, c.resume_file);
}

void load_resume(Contender& c, const std::string& path) {
    const int n = c.train->size(), batches = c.train->num_batches();
    // The run.* arrays must fit this run's data: checked before load_resumable copies anything.
    const auto check = [&](const NamedArrays& run) {
        for (const char* name : {"progress", "shuffle", "order"})
            if (!run.count(name)) throw std::runtime_error(fmt::format("array 'run.{}' is missing", name));
        const std::vector<uint64_t> progress = from_counts(run.at("progress"), "run.progress");
        if (progress.size() != 2 || progress[0] > uint64_t(kMaxEpochs) || progress[1] >= uint64_t(batches))
            throw std::runtime_error(fmt::format("array 'run.progress' does not hold (epochs done, next batch below {})", batches));
        const Tensor& order = run.at("order");
        if (order.shape != Shape{n})
            throw std::runtime_error(fmt::format("array 'run.order' is {}, but the training set has {} examples (other "
                                                 "--data, --examples, --test or --seed?)", order.shape.str(), n));
        std::vector<bool> seen(n, false);
        for (Real e : order.data) {
            if (!(e >= 0 && e < n && e == std::floor(e)) || seen[static_cast<size_t>(e)])
                throw std::runtime_error(fmt::format("array 'run.order' is not an order of the {} training examples", n));
            seen[static_cast<size_t>(e)] = true;
        }
        from_counts(run.at("shuffle"), "run.shuffle");
        const size_t accuracies = run.count("accuracy") ? static_cast<size_t>(run.at("accuracy").numel()) : 0;
        if (accuracies != progress[0] || run.size() != (accuracies ? 4u : 3u))
            throw std::runtime_error(fmt::format("the run.* arrays do not fit: {} epochs done, {} accuracies, {} arrays",
                                                 progress[0], accuracies, run.size()));
    };
    const NamedArrays run = load_resumable(*c.model, *c.optimizer, path, check);
    const std::vector<uint64_t> progress = from_counts(run.at("progress"), "run.progress");
    c.batch = static_cast<int>(progress[1]);
    c.shuffle = Rng(from_counts(run.at("shuffle"), "run.shuffle")[0]);
    const Storage& order = run.at("order").data;
    c.train->set_order(std::vector<int>(order.begin(), order.end()));
    c.accuracy.clear();
    if (run.count("accuracy")) c.accuracy.assign(run.at("accuracy").data.begin(), run.at("accuracy").data.end());
}

void resumable(std::vector<Contender>& cs, const TrainingFlags& f, const std::string& prefix) {
    for (Contender& c : cs) {
        c.resume_file = resume_path(f.out, prefix, c.name);
        if (f.resume.empty()) continue;
        const std::string from = resume_path(f.resume, prefix, c.name);
        load_resume(c, from);
        const int done = static_cast<int>(c.accuracy.size());
        if (done >= f.epochs)
            throw std::runtime_error(fmt::format("{}: {} epochs are done already, and --epochs asks for {} in all", from, done, f.epochs));
        fmt::print("{}: resumed from {} at epoch {}, batch {} of {}\n", c.name, from, done + 1, c.batch + 1, c.train->num_batches());
    }
}

void interruptible(std::vector<Contender>& cs, const std::function<void()>& train) {
    const CatchInterrupt catching;
    try {
        train();  // a Ctrl-C after the last step lets the run finish: nothing is left to save
    } catch (const Interrupted&) {
        std::fflush(stdout);
        std::string folder;
        for (const Contender& c : cs) {
            if (c.resume_file.empty()) continue;
            const std::string path = interrupted_path(c.resume_file);
            folder = std::filesystem::path(path).parent_path().string();
            std::filesystem::create_directories(folder);
            save_resume(c, path);
            fmt::print(stderr, "Ctrl-C: {} stopped at epoch {}, batch {} of {} (the next to train); saved {}\n", c.name,
                       c.accuracy.size() + 1, c.batch + 1, c.train->num_batches(), path);
        }
        if (folder.empty()) fmt::print(stderr, "Ctrl-C: stopped; this part of the run keeps no resume files\n");
        else fmt::print(stderr, "To continue, run the same command with --resume {}\n", folder);
        throw;
    }
}

namespace {

// Sets how many threads each matrix product may use, for as long as it lives.
struct BlasThreadsFor {
    int before = blas_threads();
    explicit BlasThreadsFor(int n) { set_blas_threads(n); }
    ~BlasThreadsFor() { set_blas_threads(before); }
};

// The threads of a pool, joined however the scope is left: a std::thread still joinable when destroyed
// ends the program. `stop` tells the workers to take no new job.
struct JoinedPool {
    std::vector<std::thread> threads;
    std::atomic<bool> stop{false};
    ~JoinedPool() {
        stop = true;
        for (std::thread& t : threads)
            if (t.joinable()) t.join();
    }
};

void print_header(const std::vector<Contender>& contenders) {
    fmt::print("{:>6}", "epoch");
    for (const Contender& c : contenders) fmt::print(" {:>16}", c.name);
    fmt::print("   (test exact match)\n");
}

// Every contender's optimizer steps so far: what the progress bar counts.
int64_t total_steps(const std::vector<Contender>& contenders) {
    int64_t steps = 0;
    for (const Contender& c : contenders) steps += c.optimizer->steps();
    return steps;
}

void print_row(const std::vector<Contender>& contenders, int epoch) {
    fmt::print("{:>6}", epoch);
    for (const Contender& c : contenders) fmt::print(" {:>15.2f}%", 100 * c.accuracy[epoch ? epoch - 1 : 0]);
    fmt::print("\n");
    std::fflush(stdout);  // one row per epoch, shown as it comes even when stdout is a file
}

int done_epochs(const Contender& c) { return static_cast<int>(c.accuracy.size()); }

// train_side_by_side without its Ctrl-C handling.
void train_all(std::vector<Contender>& contenders, int epochs, const Epoch& one_epoch) {
    print_header(contenders);
    const int n = static_cast<int>(contenders.size());
    const int threads = std::max(1, std::min<int>(n, static_cast<int>(std::thread::hardware_concurrency())));
    const BlasThreadsFor blas(threads > 1 ? 1 : blas_threads());
    std::mutex lock;  // guards busy, the accuracy lists and error
    // The epochs contender i has finished: one accuracy per epoch. Only the thread training i adds to it.
    auto done = [&](int i) { return done_epochs(contenders[i]); };
    std::vector<bool> busy(n, false);
    std::exception_ptr error;
    std::atomic<int> running{threads};
    JoinedPool pool;
    for (int t = 0; t < threads; ++t)
        pool.threads.emplace_back([&] {
            for (;;) {
                int m = -1;
                {
                    const std::lock_guard<std::mutex> hold(lock);
                    for (int i = 0; i < n && !error && !pool.stop; ++i)
                        if (!busy[i] && done(i) < epochs && (m < 0 || done(i) < done(m))) m = i;
                    if (m < 0) break;
                    busy[m] = true;
                }
                Contender& c = contenders[m];
                try {
                    const auto start = std::chrono::steady_clock::now();
                    const double accuracy = one_epoch(c);
                    c.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    {
                        const std::lock_guard<std::mutex> hold(lock);
                        c.accuracy.push_back(accuracy);
                    }
                    save_resume(c);  // this contender's state after a whole epoch, if it keeps one
                    const std::lock_guard<std::mutex> hold(lock);
                    busy[m] = false;
                } catch (const Interrupted&) {  // Ctrl-C: every thread stops before its next step
                    const std::lock_guard<std::mutex> hold(lock);
                    if (!error) error = std::current_exception();
                    break;
                } catch (const std::exception& e) {  // reported once the other threads have finished their epochs
                    const std::lock_guard<std::mutex> hold(lock);
                    if (!error)
                        error = std::make_exception_ptr(std::runtime_error(
                            fmt::format("{} epoch {}/{}: {}", c.name, done(m) + 1, epochs, e.what())));
                    break;
                }
            }
            --running;
        });
    // This thread draws one progress bar for all of it and prints a row as soon as every contender has
    // finished that epoch.
    int64_t total = 0;  // the steps still to take (a resumed contender has taken some)
    for (const Contender& c : contenders)
        total += std::max<int64_t>(0, int64_t(epochs - done_epochs(c)) * c.train->num_batches() - c.batch);
    const int64_t steps_before = total_steps(contenders);
    Progress bar(fmt::format("{} models, {} at a time", n, threads), std::max<int64_t>(total, 1), stderr);
    for (int row = 1, more = 1; more;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        more = running > 0;  // read before the rows below: when it says done, every result is in
        bar.update(total_steps(contenders) - steps_before);
        const std::lock_guard<std::mutex> hold(lock);
        auto finished = [&](const Contender& c) { return static_cast<int>(c.accuracy.size()) >= row; };
        for (; row <= epochs && std::all_of(contenders.begin(), contenders.end(), finished); ++row) {
            bar.erase();  // the row takes the bar's place on a terminal; the bar comes back below it
            print_row(contenders, row);
        }
    }
    if (error) std::rethrow_exception(error);
    bar.finish();
}

}  // namespace

void train_side_by_side(std::vector<Contender>& contenders, int epochs, const Epoch& one_epoch) {
    interruptible(contenders, [&] { train_all(contenders, epochs, one_epoch); });
}

void test_side_by_side(std::vector<Contender>& contenders) {
    print_header(contenders);
    for (Contender& c : contenders) c.accuracy.push_back(exact_match(*c.model, *c.test, c.start_id));
    print_row(contenders, 0);
}

std::vector<bool> correct_answers(Contender& c, const TextData& test, const Vocab& vocab) {
    std::vector<std::vector<int>> guesses;
    exact_match(*c.model, *c.test, c.start_id, &guesses);
    std::vector<bool> correct;
    for (size_t i = 0; i < guesses.size(); ++i) correct.push_back(vocab.decode(guesses[i]) == test.answers[i].substr(1));
    return correct;
}

void print_predictions(std::vector<Contender>& contenders, const TextData& test, const Vocab& vocab, int n) {
    n = std::min(n, test.size());
    // Widths in terminal columns, as fmt pads: a Chinese character takes two ('年'), a digit one.
    size_t q_width = 0;
    for (int i = 0; i < n; ++i) q_width = std::max(q_width, static_cast<size_t>(display_width(test.questions[i])));
    const size_t a_width = std::max<size_t>(display_width(test.answers[0]), 6);
    fmt::print("\nSome test questions (✓ right, ✗ wrong):\n{:<{}}  {:<{}}", "question", q_width, "answer", a_width);
    std::vector<size_t> widths;  // one column per contender: "✓ " + its answer, or its name if longer
    std::vector<std::vector<std::vector<int>>> guesses(contenders.size());
    for (size_t m = 0; m < contenders.size(); ++m) {
        widths.push_back(std::max(a_width + 2, contenders[m].name.size()));
        fmt::print("  {:<{}}", contenders[m].name, widths[m]);
        exact_match(*contenders[m].model, *contenders[m].test, contenders[m].start_id, &guesses[m]);
    }
    fmt::print("\n");
    for (int i = 0; i < n; ++i) {
        const std::string answer = test.answers[i].substr(1);
        fmt::print("{:<{}}  {:<{}}", test.questions[i], q_width, answer, a_width);
        for (size_t m = 0; m < contenders.size(); ++m) {
            const std::string guess = vocab.decode(guesses[m][i]);
            fmt::print("  {} {:<{}}", guess == answer ? "✓" : "✗", guess, widths[m] - 2);
        }
        fmt::print("\n");
    }
}

LengthTable accuracy_by_length(std::vector<Contender>& contenders, const TextData& test, const Vocab& vocab, int bucket,
                               bool right_aligned) {
    LengthTable table;
    table.bucket = bucket;
    std::vector<int> lengths;  // each test question's length without its padding
    for (const std::string& q : test.questions)
        lengths.push_back(static_cast<int>(right_aligned ? q.size() - q.find_first_not_of(' ') : q.find_last_not_of(' ') + 1));
    const int first = (*std::min_element(lengths.begin(), lengths.end()) - 1) / bucket;  // the shortest's bucket
    const int last = (*std::max_element(lengths.begin(), lengths.end()) - 1) / bucket;
    for (int k = first; k <= last; ++k) table.starts.push_back(k * bucket + 1);
    for (Contender& c : contenders) {
        const std::vector<bool> right = correct_answers(c, test, vocab);
        std::vector<int> hits(table.starts.size()), counts(table.starts.size());
        for (size_t i = 0; i < right.size(); ++i) {
            const int k = (lengths[i] - 1) / bucket - first;
            hits[k] += right[i];
            ++counts[k];
        }
        std::vector<double> acc;
        for (size_t k = 0; k < counts.size(); ++k) acc.push_back(counts[k] ? static_cast<double>(hits[k]) / counts[k] : NAN);
        table.accuracy.push_back(acc);
    }
    return table;
}

void report_by_length(const std::vector<Contender>& contenders, const LengthTable& table, const std::string& title,
                      const std::string& path) {
    fmt::print("\n{}\n{:>10}", title, "length");
    for (const Contender& c : contenders) fmt::print(" {:>16}", c.name);
    fmt::print("\n");
    LinePlot plot{title, "input length", "test exact match (%)", {}};
    for (const Contender& c : contenders) plot.series.push_back({c.name, {}, {}});
    for (size_t k = 0; k < table.starts.size(); ++k) {
        const int first = table.starts[k], last = first + table.bucket - 1;
        fmt::print("{:>10}", fmt::format("{}..{}", first, last));
        for (size_t m = 0; m < contenders.size(); ++m) {
            fmt::print(" {:>15.1f}%", 100 * table.accuracy[m][k]);
            plot.series[m].x.push_back((first + last) / 2.0);
            plot.series[m].y.push_back(100 * table.accuracy[m][k]);
        }
        fmt::print("\n");
    }
    write_line_plot(path, plot);
}

void plot_accuracy(const std::vector<Contender>& contenders, const std::string& title, const std::string& path) {
    LinePlot plot{title, "epoch", "test exact match (%)", {}};
    for (const Contender& c : contenders) {
        Series s{c.name, {}, {}};
        for (size_t e = 0; e < c.accuracy.size(); ++e) {
            s.x.push_back(static_cast<double>(e + 1));
            s.y.push_back(100 * c.accuracy[e]);
        }
        plot.series.push_back(s);
    }
    write_line_plot(path, plot);
}

std::string checkpoint_path(const std::string& dir, const std::string& prefix, const std::string& name) {
    std::string file = name;
    for (char& ch : file) ch = (ch == '+' || ch == ' ') ? '_' : ch;
    return fmt::format("{}/{}_{}.npz", dir, prefix, file);
}

}  // namespace s2a
