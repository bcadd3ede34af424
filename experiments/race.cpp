// experiments/race.cpp — Trainer, race, report_race, and chapter 5's race with its flags.
#include "experiments/race.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <utility>

#include "data/tasks_hard.h"
#include "experiments/attention.h"
#include "io/plot.h"
#include "io/progress.h"
#include "models/attention_seq2seq.h"

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
        const Scores s = evaluate(greedy_decoding(*c.model, c.start_id), *c.test, test, vocab);
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

void RaceFlags::add_to(Cli& cli, const TransformerFlags& model, AskFlags& ask) {
    cli.option("race-d-model", &D, "d_model of the Transformer on the harder task").range(1, kMaxWidth);
    cli.option("race-ffn", &F, "its feed-forward width").range(1, kMaxWidth);
    cli.option("race-batch", &batch, "batch size of both models on the harder task").range(1, kMaxBatch);
    cli.option("race-dropout", &dropout, "its dropout (random strings leave nothing to overfit)").at_least(0).below(1);
    cli.option("race-warmup", &warmup, "its warm-up steps").range(1, 1'000'000);
    cli.flag("lstm-reversed", &lstm_reversed, "chapter 3's model reads the source reversed (reversing becomes copying)");
    ask.add_to(cli, false);
    cli.option("min-len", &min_len, "shortest string of the harder task").range(1, 1000);
    cli.option("max-len", &max_len, "longest string of the harder task").range(1, 1000);
    cli.option("race-examples", &examples, "training examples of the harder task").range(1, kMaxExamples);
    cli.option("race-test", &test, "test examples of the harder task").range(1, kMaxExamples);
    cli.option("seconds", &seconds, "processor time each model trains on the harder task (0: skip part 2)").range(0, 86400);
    cli.option("checkpoints", &checkpoints, "evaluations during the race").range(1, 1000);
    cli.require([this, &model] {
        for (auto [flag, width] : {std::pair{"--d-model", model.D}, {"--race-d-model", D}})
            if (width % model.heads != 0) return fmt::format("{} ({}) must be a multiple of --heads ({})", flag, width, model.heads);
        return min_len > max_len ? fmt::format("--min-len ({}) must not exceed --max-len ({})", min_len, max_len) : std::string();
    });
}

void RaceFlags::quick_sizes(const TrainingFlags& flags) {
    flags.quick_size("max-len", max_len, 12);  // short strings, a second of training
    flags.quick_size("race-examples", examples, 400);
    flags.quick_size("race-test", test, 50);
    flags.quick_size("seconds", seconds, 1.0);
    flags.quick_size("checkpoints", checkpoints, 2);
    flags.quick_size("race-d-model", D, 32);  // and a smaller Transformer
    flags.quick_size("race-ffn", F, 64);
    flags.quick_size("race-warmup", warmup, 10);
}

void race_transformer_against_lstm(const RaceFlags& r, const TransformerFlags& model, const TrainingFlags& f) {
    const std::vector<Example> examples = make_hard_task(r.task, r.examples + r.test, r.min_len, r.max_len, f.seed);
    const Split hard = split(pad_left(examples, r.max_len, r.max_len), r.test, f.seed);
    const Vocab vocab = make_vocab(hard.train);
    TransformerFlags t = model;  // the dates' Transformer with the race's sizes
    t.D = r.D, t.F = r.F, t.dropout = r.dropout, t.warmup = r.warmup;
    Rng rng(f.seed + 1);
    fmt::print("\n3. The harder task: {} strings of {}..{} characters from [0-9A-Za-z]; {} training, {} test examples.\n"
               "Transformer {}, dropout {}, lr warm-up over {} steps; chapter 3's model E {} H {}.\n"
               "Each model trains for {} s of processor time (the wall time it takes depends on what else runs).\n\n",
               r.task, r.min_len, r.max_len, hard.train.size(), hard.test.size(), t.sizes(), t.dropout, t.warmup, f.embed,
               f.hidden, r.seconds);
    std::vector<Contender> racers;
    auto owned = std::make_unique<TransformerSeq2seq>(transformer_config(t, vocab, hard.train), rng);
    TransformerSeq2seq& transformer = *owned;
    racers.push_back(transformer_contender(std::move(owned), t.schedule(), hard, vocab, r.batch, f.seed));
    // Chapter 3's model reads the source as written, like the Transformer: read backwards, reversing would become
    // copying. Right-aligned, its padding comes first.
    AttentionConfig ac = attention_config(f, vocab);
    ac.reversed_source = !r.lstm_reversed;
    racers.push_back(make_contender("chapter-3 LSTM", std::make_unique<AttentionSeq2seq>(ac, rng), hard, vocab, r.batch,
                                    r.lstm_reversed, Real(f.lr), f.seed));
    std::vector<Trainer> trainers;
    for (Contender& c : racers) trainers.emplace_back(c, Real(f.clip));
    race(racers, trainers, r.seconds, r.checkpoints);

    report_race(racers, trainers, r.seconds, hard.test, vocab, f.quick ? 4 : 10, r.task, f.out);
    show_heads(transformer, *racers[0].test, vocab, f.out + "/ch5_" + r.task + "_heads.svg", false);
}

}  // namespace s2a
