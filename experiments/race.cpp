// experiments/race.cpp — Trainer and race.
#include "experiments/race.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>

#include "experiments/transformer.h"
#include "io/plot.h"
#include "io/progress.h"

namespace s2a {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double cpu_now() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }  // this process's processor time
}  // namespace

Trainer::Trainer(Contender& contender, Real clip) : c_(contender), clip_(clip) {}

double Trainer::epochs() const { return epochs_ + static_cast<double>(c_.batch) / c_.train->num_batches(); }

double Trainer::step() {
    const auto start = Clock::now();
    const double cpu_start = cpu_now();
    const Batch batch = c_.train->batch(c_.batch);
    const double loss = train_step(*c_.model, batch, *c_.optimizer, clip_);
    if (++c_.batch == c_.train->num_batches()) {  // the epoch is done: a new order for the next
        end_epoch(c_);
        ++epochs_;
    }
    seconds_ += since(start);
    cpu_seconds_ += cpu_now() - cpu_start;
    tokens_ += static_cast<double>(batch.src.numel() + batch.tgt.numel());
    return loss;
}

double Trainer::train_for(double seconds, const std::string& label, std::FILE* progress_out) {
    std::unique_ptr<Progress> progress;
    const int64_t total = std::max<int64_t>(1, std::llround(seconds));
    if (progress_out) progress = std::make_unique<Progress>(label + " (CPU seconds)", total, progress_out);
    const double start = cpu_seconds_;
    double loss = 0;
    int n = 0;
    do {
        loss += step();
        ++n;
        if (progress)
            progress->update(std::min<int64_t>(total, std::llround(cpu_seconds_ - start)),
                             fmt::format("loss {:.4f}  {} tok/s", loss / n, format_rate(tokens_per_s())));
    } while (cpu_seconds_ - start < seconds);
    if (progress) progress->finish(fmt::format("loss {:.4f}  {} steps", loss / n, n));
    return loss / n;
}

namespace {

// race() without its Ctrl-C handling. Each turn ends when every contender's processor time reaches
// turn/checkpoints of `seconds`.
void race_turns(std::vector<Contender>& cs, std::vector<Trainer>& trainers, double seconds, int checkpoints) {
    fmt::print("{:>8}", "CPU s");
    for (const Contender& c : cs) fmt::print(" {:>16}", c.name);
    fmt::print("   (test exact match after each turn; training steps' processor time)\n");
    for (int turn = 1; turn <= checkpoints; ++turn) {
        fmt::print("{:>8.0f}", seconds * turn / checkpoints);
        for (size_t m = 0; m < cs.size(); ++m) {
            const std::string label = fmt::format("{} turn {}/{}", cs[m].name, turn, checkpoints);
            trainers[m].train_for(seconds * turn / checkpoints - trainers[m].cpu_seconds(), label);
            cs[m].seconds = trainers[m].seconds();
            cs[m].accuracy.push_back(exact_match(*cs[m].model, *cs[m].test, cs[m].start_id));
            fmt::print(" {:>15.2f}%", 100 * cs[m].accuracy.back());
        }
        fmt::print("\n");
        std::fflush(stdout);
    }
}

}  // namespace

void race(std::vector<Contender>& cs, std::vector<Trainer>& trainers, double seconds, int checkpoints) {
    interruptible(cs, [&] { race_turns(cs, trainers, seconds, checkpoints); });
}

void report_race(std::vector<Contender>& cs, const std::vector<Trainer>& trainers, double seconds, const TextData& test,
                 const Vocab& vocab, int bucket, const std::string& task, const std::string& out) {
    fmt::print("\n{:<16} {:>10} {:>7} {:>7} {:>8} {:>8} {:>10} {:>8} {:>8}\n", "model", "parameters", "steps", "epochs", "CPU s",
               "wall s", "tokens/s", "exact", "BLEU");
    for (size_t m = 0; m < cs.size(); ++m) {
        Contender& c = cs[m];
        const Decoding greedy = [&](const IndexTensor& src, int T) { return c.model->generate(src, c.start_id, T); };
        const Scores s = evaluate(greedy, *c.test, test, vocab);
        fmt::print("{:<16} {:>10} {:>7} {:>7.2f} {:>8.1f} {:>8.1f} {:>10.0f} {:>7.2f}% {:>8.2f}\n", c.name, c.model->num_parameters(),
                   trainers[m].steps(), trainers[m].epochs(), trainers[m].cpu_seconds(), trainers[m].seconds(),
                   trainers[m].tokens_per_s(), 100 * s.exact, 100 * s.bleu);
    }
    report_by_length(cs, accuracy_by_length(cs, test, vocab, bucket, true), fmt::format("The {} task: exact match by string length", task),
                     out + "/ch5_by_length.svg");
    LinePlot curves{fmt::format("The {} task: test exact match against training time", task), "training CPU seconds",
                    "test exact match (%)", {}};
    for (const Contender& c : cs) {
        Series s{c.name, {}, {}};
        const size_t turns = c.accuracy.size();
        for (size_t i = 0; i < turns; ++i) {
            s.x.push_back(seconds * double(i + 1) / double(turns));
            s.y.push_back(100 * c.accuracy[i]);
        }
        curves.series.push_back(s);
    }
    write_line_plot(out + "/ch5_race.svg", curves);
}

}  // namespace s2a
