// chapters/ch5_transformer.cpp — Chapter 5: the Transformer.
//
// Chapter 3's decoder attends to the encoder, but both halves are still LSTMs: they read one character
// after another, and whatever a step needs from far away must travel through every step between. The
// Transformer drops the recurrence. Every position attends to every other (self-attention), positional
// encodings say where each one is, and the decoder reads the source through cross-attention, with the
// causal mask hiding what it has not written yet.
//
// Part 1 trains a Transformer on dates (warm-up schedule, label smoothing, dropout), decodes greedily and by
// beam search, and draws every head of every attention. The layers are pre-norm, x + f(LN(x)): at this short
// schedule's high learning rate the paper's post-norm LN(x + f(x)) learned far more slowly and unsteadily
// (measured: dates 94.4% after two epochs, then 89.4% after three; --post-norm reproduces it). Part 2 races it against chapter 3's model for the same
// training time on the harder task: reversing strings of 8..50 characters. Why reversal, and why
// right-aligned: the answer's character t always comes from source column S-1-t, so neither model has to
// find where a string starts or ends; the race is only about reaching a column. Chapter 3's model has to get
// there by counting through its recurrent state, step after step, at both ends; the Transformer's decoder
// looks the column up through the positional encodings (each sine/cosine pair of PE(S-1-t) is PE(t)'s pair
// reflected and turned by a fixed angle: one linear map, which a query-key product can learn), and an error
// it makes stays local instead of pushing the count off for the rest of the answer. Both models read the source as written (--lstm-reversed lets chapter 3's model read it
// backwards, its usual recipe, which turns reversing into copying for it). The helpers (scores under greedy
// and beam decoding, every head drawn, the race) are in experiments/transformer.h.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, D d_model, h heads, F FFN width.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "io/cli.h"
#include "experiments/transformer.h"
#include "data/tasks_hard.h"
#include "models/attention_seq2seq.h"

using namespace s2a;

namespace {

// The shared training flags (seed, epochs, data, examples, test, batch, clip, out, quick) are for the dates;
// --embed, --hidden and --lr are chapter 3's model's in the race.
struct Options : TrainingFlags {
    int D = 128, heads = 4, F = 512, layers = 2, warmup = 300, beam = 4;
    int min_len = 8, max_len = 50, race_examples = 50000, race_test = 1000, checkpoints = 5;
    int race_D = 64, race_F = 256, race_batch = 64, race_warmup = 200;
    double lr_factor = 1, dropout = 0.1, smoothing = 0.1, alpha = 0.6, seconds = 150, race_dropout = 0;
    std::string task = "reverse";
    bool post_norm = false, learned = false, separate = false, lstm_reversed = false;
};

// The Transformer of the options, with its width D, FFN width F and dropout given (they differ between parts).
std::unique_ptr<TransformerSeq2seq> transformer(const Options& o, int D, int F, double dropout, const Vocab& vocab,
                                                const TextData& data, Rng& rng) {
    TransformerConfig c;
    c.V = vocab.size(), c.D = D, c.heads = o.heads, c.F = F, c.encoder_layers = c.decoder_layers = o.layers;
    c.dropout = Real(dropout), c.label_smoothing = Real(o.smoothing), c.pre_norm = !o.post_norm;
    c.learned_positions = o.learned, c.shared_embeddings = c.tied_output = !o.separate, c.pad_id = vocab.id(' ');
    c.end_id = inner_space(data) ? -1 : vocab.id(' ');  // the first space after an answer ends it
    return std::make_unique<TransformerSeq2seq>(c, rng);
}

// Part 1: a Transformer on dates, decoded greedily and by beam search, every head drawn. Returns the
// training time in seconds.
double dates_part(const Options& o) {
    const Split sets = split(load_or_generate("dates", o.data, o.examples, o.seed), o.test, o.seed);
    const Vocab vocab = make_vocab(sets.train);
    Rng rng(o.seed);
    std::vector<Contender> dates;
    dates.push_back(transformer_contender(transformer(o, o.D, o.F, o.dropout, vocab, sets.train, rng), sets, vocab, o.batch));
    const WarmupSchedule schedule(Real(o.lr_factor), o.D, o.warmup);
    Trainer trainer(*dates[0].model, *dates[0].train, *dates[0].optimizer, Real(o.clip), &schedule, o.seed);
    fmt::print("Dates: {} training and {} test examples, vocabulary {}; D {} h {} F {} layers {}+{} {}, {} parameters\n"
               "Adam (β₂ 0.98), lr warm-up over {} steps to {:.2e}, then ∝ 1/√step; label smoothing {}, dropout {}\n\n",
               sets.train.size(), sets.test.size(), vocab.size(), o.D, o.heads, o.F, o.layers, o.layers,
               o.post_norm ? "post-norm" : "pre-norm", dates[0].model->num_parameters(), o.warmup, schedule.peak(),
               o.smoothing, o.dropout);
    fmt::print("{:>6} {:>10} {:>10} {:>8} {:>10}\n", "epoch", "loss", "exact", "BLEU", "seconds");
    for (int e = 1; e <= o.epochs; ++e) {
        const double loss = trainer.train_epoch(fmt::format("transformer epoch {}/{}", e, o.epochs));
        const Scores s = evaluate(dates[0], sets.test, vocab);
        dates[0].accuracy.push_back(s.exact);
        fmt::print("{:>6} {:>10.4f} {:>9.2f}% {:>8.2f} {:>10.1f}\n", e, loss, 100 * s.exact, 100 * s.bleu, trainer.seconds());
        std::fflush(stdout);
    }
    fmt::print("\nDecoding the {} test dates:{:>14} {:>8}\n", sets.test.size(), "exact", "BLEU");
    std::vector<Scores> by_k;
    for (int k : {0, 1, o.beam}) {
        by_k.push_back(evaluate(dates[0], sets.test, vocab, k, Real(o.alpha)));
        const std::string how = k == 0 ? "greedy" : fmt::format("beam search, k = {}, α = {}", k, o.alpha);
        fmt::print("  {:<32} {:>7.2f}% {:>8.2f}\n", how, 100 * by_k.back().exact, 100 * by_k.back().bleu);
    }
    fmt::print("Beam search with k = 1 wrote exactly the greedy answers: {}\n", by_k[1].guesses == by_k[0].guesses ? "yes" : "NO");
    print_predictions(dates, sets.test, vocab, vocab.id('_'), 5);
    show_heads(dynamic_cast<TransformerSeq2seq&>(*dates[0].model), *dates[0].test, vocab, o.out + "/ch5_date_heads.svg", true);
    return trainer.seconds();
}

// Part 2: the Transformer and chapter 3's model, the same training time each on the harder task.
void race_part(const Options& o) {
    const Split hard = split(pad_left(make_hard_task(o.task, o.race_examples + o.race_test, o.min_len, o.max_len, o.seed), o.max_len, o.max_len),
                             o.race_test, o.seed);
    const Vocab vocab = make_vocab(hard.train);
    Rng rng(o.seed + 1);
    fmt::print("\nThe harder task: {} strings of {}..{} characters from [0-9A-Za-z]; {} training, {} test examples.\n"
               "Transformer D {} h {} F {} layers {}+{} {}, dropout {}, lr warm-up over {} steps; chapter 3's model E {} H {}.\n"
               "Each model trains for {} s of processor time (the wall time it takes depends on what else runs).\n\n",
               o.task, o.min_len, o.max_len, hard.train.size(), hard.test.size(), o.race_D, o.heads, o.race_F, o.layers,
               o.layers, o.post_norm ? "post-norm" : "pre-norm", o.race_dropout, o.race_warmup, o.embed, o.hidden, o.seconds);
    std::vector<Contender> racers;
    racers.push_back(transformer_contender(transformer(o, o.race_D, o.race_F, o.race_dropout, vocab, hard.train, rng), hard, vocab, o.race_batch));
    // Chapter 3's model: E 16, H 256, Luong wiring, dot score, Adam at 1e-3 (--embed, --hidden, --lr). It reads the source as written, like
    // the Transformer: read backwards, reversing would become copying. Right-aligned, its padding comes first.
    AttentionConfig ac;
    ac.V = vocab.size(), ac.E = o.embed, ac.H = o.hidden, ac.pad_id = vocab.id(' '), ac.reversed_source = !o.lstm_reversed;
    racers.push_back(make_contender("chapter-3 LSTM", std::make_unique<AttentionSeq2seq>(ac, rng), hard, vocab, o.race_batch, o.lstm_reversed, Real(o.lr)));
    const WarmupSchedule schedule(Real(o.lr_factor), o.race_D, o.race_warmup);
    std::vector<Trainer> trainers;
    trainers.emplace_back(*racers[0].model, *racers[0].train, *racers[0].optimizer, Real(o.clip), &schedule, o.seed);
    trainers.emplace_back(*racers[1].model, *racers[1].train, *racers[1].optimizer, Real(o.clip), nullptr, o.seed);
    race(racers, trainers, o.seconds, o.checkpoints, hard.test, vocab);
    fmt::print("\n{:<16} {:>10} {:>7} {:>7} {:>8} {:>8} {:>10} {:>8} {:>8}\n", "model", "parameters", "steps", "epochs", "CPU s",
               "wall s", "tokens/s", "exact", "BLEU");
    for (size_t m = 0; m < racers.size(); ++m) {
        const Scores s = evaluate(racers[m], hard.test, vocab);
        fmt::print("{:<16} {:>10} {:>7} {:>7.2f} {:>8.1f} {:>8.1f} {:>10.0f} {:>7.2f}% {:>8.2f}\n", racers[m].name,
                   racers[m].model->num_parameters(), trainers[m].steps(), trainers[m].epochs(), trainers[m].cpu_seconds(),
                   trainers[m].seconds(), trainers[m].tokens_per_s(), 100 * s.exact, 100 * s.bleu);
    }
    report_by_length(racers, by_length(racers, hard.test, vocab, o.quick ? 4 : 10),
                     fmt::format("The {} task: exact match by string length", o.task), o.out + "/ch5_by_length.svg");
    LinePlot curves{fmt::format("The {} task: test exact match against training time", o.task), "training CPU seconds", "test exact match (%)", {}};
    for (const Contender& c : racers) {
        Series s{c.name, {}, {}};
        for (size_t i = 0; i < c.accuracy.size(); ++i) s.x.push_back(o.seconds * (i + 1) / o.checkpoints), s.y.push_back(100 * c.accuracy[i]);
        curves.series.push_back(s);
    }
    write_line_plot(o.out + "/ch5_race.svg", curves);
    show_heads(dynamic_cast<TransformerSeq2seq&>(*racers[0].model), *racers[0].test, vocab, o.out + "/ch5_" + o.task + "_heads.svg", false);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch5", "Chapter 5: a Transformer on dates (greedy and beam search, every head drawn), then raced against "
                   "chapter 3's model for equal training time on a harder task. --epochs 0 skips the dates, --seconds 0 "
                   "the race.");
    o.epochs = 3, o.embed = 16, o.hidden = 256;
    o.add_to(cli, "a file in the textbook format instead of generated dates");
    cli.option("d-model", &o.D, "d_model D");
    cli.option("heads", &o.heads, "attention heads h");
    cli.option("ffn", &o.F, "feed-forward width F");
    cli.option("layers", &o.layers, "encoder layers, and as many decoder layers");
    cli.option("dropout", &o.dropout, "dropout on dates");
    cli.option("smoothing", &o.smoothing, "label smoothing ε");
    cli.option("warmup", &o.warmup, "warm-up steps of the learning-rate schedule");
    cli.option("lr-factor", &o.lr_factor, "factor of the schedule: lr = factor · D^-0.5 · min(step^-0.5, step · warmup^-1.5)");
    cli.flag("post-norm", &o.post_norm, "the paper's post-norm sublayers LN(x + f(x)) instead of pre-norm x + f(LN(x))");
    cli.flag("learned-positions", &o.learned, "a learned positional table instead of sinusoids");
    cli.flag("separate-embeddings", &o.separate, "separate source, target and output tables instead of one shared");
    cli.option("beam", &o.beam, "beam size k for beam search");
    cli.option("alpha", &o.alpha, "length-penalty exponent α of beam search");
    cli.option("task", &o.task, "the harder task: reverse or sort");
    cli.option("race-d-model", &o.race_D, "d_model of the Transformer on the harder task");
    cli.option("race-ffn", &o.race_F, "its feed-forward width");
    cli.option("race-batch", &o.race_batch, "batch size of both models on the harder task");
    cli.option("race-dropout", &o.race_dropout, "its dropout (random strings leave nothing to overfit)");
    cli.option("race-warmup", &o.race_warmup, "its warm-up steps");
    cli.flag("lstm-reversed", &o.lstm_reversed, "chapter 3's model reads the source reversed (reversing becomes copying)");
    cli.option("min-len", &o.min_len, "shortest string of the harder task");
    cli.option("max-len", &o.max_len, "longest string of the harder task");
    cli.option("race-examples", &o.race_examples, "training examples of the harder task");
    cli.option("race-test", &o.race_test, "test examples of the harder task");
    cli.option("seconds", &o.seconds, "processor time each model trains on the harder task (0: skip part 2)");
    cli.option("checkpoints", &o.checkpoints, "evaluations during the race");
    cli.parse(argc, argv);
    return guarded("ch5", [&] {
        if (o.quick)
            o.examples = 1000, o.test = 100, o.D = 32, o.F = 64, o.epochs = 1, o.hidden = 32, o.warmup = 10, o.max_len = 12,
            o.race_examples = 400, o.race_test = 50, o.seconds = 1, o.checkpoints = 2, o.beam = 2, o.race_D = 32, o.race_F = 64, o.race_warmup = 10;
        const auto start = std::chrono::steady_clock::now();
        std::filesystem::create_directories(o.out);

        const double dates_seconds = o.epochs > 0 ? dates_part(o) : 0;
        if (o.seconds > 0) race_part(o);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nEvery head: {0}/ch5_date_heads.svg, {0}/ch5_{1}_heads.svg; the race: {0}/ch5_race.svg, {0}/ch5_by_length.svg.\n"
                   "Dates: {2:.1f} s of training; total time {3:.1f} s.\n", o.out, o.task, dates_seconds, seconds);
        return 0;
    });
}
