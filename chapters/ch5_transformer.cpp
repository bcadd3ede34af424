// chapters/ch5_transformer.cpp — Chapter 5: the Transformer.
//
// Chapter 3's decoder attends to the encoder, but both halves are still LSTMs: they read one character
// after another, and whatever a step needs from far away must travel through every step between. The
// Transformer drops the recurrence. Every position attends to every other (self-attention), positional
// encodings say where each one is, and the decoder reads the source through cross-attention, with the
// causal mask hiding what it has not written yet.
//
// Section 1 runs one MultiHeadAttention on a toy batch. Part 1 trains a Transformer on dates (warm-up schedule, label smoothing, dropout), decodes greedily and by
// beam search, and draws every head of every attention. The layers are pre-norm, x + f(LN(x)): at this short
// schedule's high learning rate the paper's post-norm LN(x + f(x)) learned far more slowly and unsteadily
// (--post-norm reproduces it; README gives the measured figures). Part 2 races it against chapter 3's model for the same
// training time on the harder task: reversing strings of 8..50 characters. Why reversal, and why
// right-aligned: the answer's character t always comes from source column S-1-t, so neither model has to
// find where a string starts or ends; the race is only about reaching a column. Chapter 3's model has to get
// there by counting through its recurrent state, step after step, at both ends; the Transformer's decoder
// looks the column up through the positional encodings (each sine/cosine pair of PE(S-1-t) is PE(t)'s pair
// reflected and turned by a fixed angle: one linear map, which a query-key product can learn), and an error
// it makes stays local instead of pushing the count off for the rest of the answer. Both models read the source as written (--lstm-reversed lets chapter 3's model read it
// backwards, its usual recipe, which turns reversing into copying for it). The helpers (scores under greedy
// and beam decoding, every head drawn) are in experiments/transformer.h, the race in experiments/race.h.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, D d_model, h heads, F FFN width.
#include <fmt/format.h>

#include <chrono>
#include <utility>

#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "data/tasks_hard.h"
#include "experiments/ask.h"
#include "experiments/attention.h"
#include "experiments/race.h"
#include "experiments/transformer.h"
#include "io/cli.h"
#include "io/progress.h"
#include "models/attention_seq2seq.h"

using namespace s2a;

namespace {

// The shared training flags (seed, epochs, data, examples, test, batch, clip, out, quick) are for the dates;
// --embed, --hidden and --lr are chapter 3's model's in the race.
struct Options : TrainingFlags {
    // the Transformer on dates
    int D = 128, heads = 4, F = 512, layers = 2;   // its sizes (the race's Transformer has its own D and F)
    int warmup = 300;                              // and its learning-rate schedule
    double lr_factor = 1, dropout = 0.1, smoothing = 0.1;
    bool post_norm = false, learned = false, separate = false;
    int beam = 4;                                  // beam search: width k and length penalty α
    double alpha = 0.6;
    std::string dates = "dates";                   // part 1's task: dates, or zh-dates (in Chinese)
    // the race on the harder task
    std::string task = "reverse";
    int min_len = 8, max_len = 50, race_examples = 50000, race_test = 1000;
    int race_D = 64, race_F = 256, race_batch = 64, race_warmup = 200;
    double race_dropout = 0;
    double seconds = 150;                          // processor time of each model
    int checkpoints = 5;                           // evaluations along the way
    bool lstm_reversed = false;
    AskFlags ask;                                  // --load FILE --ask: question the dates' Transformer (experiments/ask.h)

    void add_to(Cli& cli);  // every flag above, and the shared ones
    void quick_run_sizes();  // --quick: sizes that run in seconds (the tests run every chapter this way)
};

double dates_part(const Options& o);
void race_part(const Options& o);

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch5", "Chapter 5: a Transformer on dates (greedy and beam search, every head drawn), then raced against "
                   "chapter 3's model for equal training time on a harder task. --epochs 0 skips the dates, --seconds 0 "
                   "the race.");
    o.add_to(cli);
    cli.parse(argc, argv);
    return guarded("ch5", [&] {
        if (o.quick) o.quick_run_sizes();
        if (o.task == "dates" || o.task == "zh-dates") o.dates = std::exchange(o.task, "reverse");  // --task of part 1
        if (o.ask.wanted()) return question_model(o.ask.with_beam(o.beam, o.alpha), o, o.dates);
        const auto start = std::chrono::steady_clock::now();
        o.create_out_folder();

        // 1. One MultiHeadAttention on a toy batch: B = 1 sentence of T = 3 positions, D = 4, h = 2 heads, the
        //    causal mask (position t sees positions ≤ t), as in the decoder's self-attention.
        Rng rng(o.seed);
        MultiHeadAttention attention(4, 2, 0, rng);
        const Var x = constant(randn(Shape{1, 3, 4}, rng), "x");  // x: (B, T, D)
        const Tensor causal = causal_mask(3);                     // (T, T)
        const Var y = attention.forward(x, x, &causal);           // y: (B, T, D)
        fmt::print("1. MultiHeadAttention on a toy batch: x {} → y {}; each head's weights softmax(QKᵀ/√dk) {}, rows "
                   "summing to 1, zero above the diagonal (the causal mask):\n{}\n\n",
                   x.shape().str(), y.shape().str(), attention.last_weights().shape.str(), attention.last_weights().str());
        tape().clear();

        // 2. Part 1 (dates), then 3. part 2 (the race).
        const double dates_seconds = o.epochs > 0 || o.profile ? dates_part(o) : 0;
        if (o.profile) return 0;  // --profile: only the dates' Transformer, profiled
        if (o.seconds > 0) race_part(o);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nEvery head: {0}/ch5_date_heads.svg, {0}/ch5_{1}_heads.svg; the race: {0}/ch5_race.svg, {0}/ch5_by_length.svg; "
                   "the dates' model: {0}/ch5_transformer.npz (--load it, --ask it).\nDates: {2:.1f} s of training; total time {3:.1f} s.\n", o.out, o.task, dates_seconds, seconds);
        return 0;
    });
}

namespace {

// The Transformer of the options, with its width D, FFN width F and dropout given (they differ between parts).
std::unique_ptr<TransformerSeq2seq> transformer(const Options& o, int D, int F, double dropout, const Vocab& vocab,
                                                const TextData& data, Rng& rng) {
    TransformerConfig c;
    c.V = vocab.size();
    c.D = D;
    c.heads = o.heads;
    c.F = F;
    c.encoder_layers = o.layers;
    c.decoder_layers = o.layers;
    c.dropout = Real(dropout);
    c.label_smoothing = Real(o.smoothing);
    c.pre_norm = !o.post_norm;
    c.learned_positions = o.learned;
    c.shared_embeddings = !o.separate;
    c.tied_output = !o.separate;
    c.pad_id = vocab.id(' ');
    c.end_id = inner_space(data) ? -1 : vocab.id(' ');  // the first space after an answer ends it
    return std::make_unique<TransformerSeq2seq>(c, rng);
}

// Part 1: a Transformer on dates, decoded greedily and by beam search, every head drawn. Returns the
// training time in seconds.
double dates_part(const Options& o) {
    const Split sets = split(load_or_generate(o.dates, o.data, o.examples, o.seed), o.test, o.seed);
    const Vocab vocab = make_vocab(sets.train);
    const int start_id = vocab.id('_');
    Rng rng(o.seed);
    auto owned = transformer(o, o.D, o.F, o.dropout, vocab, sets.train, rng);
    TransformerSeq2seq& model = *owned;
    const WarmupSchedule schedule(Real(o.lr_factor), o.D, o.warmup);
    std::vector<Contender> dates;
    dates.push_back(transformer_contender(std::move(owned), schedule, sets, vocab, o.batch, o.seed));
    Contender& c = dates[0];
    resumable(dates, o, "ch5");  // OUT/ch5_transformer.resume.npz after every epoch; --resume reads it
    fmt::print("2. Dates: {} training and {} test examples, vocabulary {}; D {} h {} F {} layers {}+{} {}, {} parameters\n"
               "Adam (β₂ 0.98), lr warm-up over {} steps to {:.2e}, then ∝ 1/√step; label smoothing {}, dropout {}\n\n",
               sets.train.size(), sets.test.size(), vocab.size(), o.D, o.heads, o.F, o.layers, o.layers,
               o.post_norm ? "post-norm" : "pre-norm", model.num_parameters(), o.warmup, schedule.peak(), o.smoothing, o.dropout);

    if (o.profile) {  // --profile: where an epoch of the Transformer's training spends its time, then stop
        profile_epoch(c.train->num_batches(), [&](int i) {
            train_step(model, c.train->batch(i), *c.optimizer, Real(o.clip));
        });
        return 0;
    }

    // Training: every epoch one train_step per batch (the optimizer takes its learning rate from the schedule),
    // a fresh order for the next, then exact match and BLEU of greedy decoding on the test dates. Ctrl-C stops
    // it between two steps and saves where it is.
    const Decoding greedy = [&](const IndexTensor& src, int T) { return model.generate(src, start_id, T); };
    fmt::print("{:>6} {:>10} {:>10} {:>8} {:>10}\n", "epoch", "loss", "exact", "BLEU", "seconds");
    const auto start = std::chrono::steady_clock::now();
    interruptible(dates, [&] {
        for (int epoch = static_cast<int>(c.accuracy.size()) + 1; epoch <= o.epochs; ++epoch) {
            Progress bar(fmt::format("transformer epoch {}/{}", epoch, o.epochs), c.train->num_batches(), stderr);
            const int first = c.batch;
            double loss = 0;
            for (int& i = c.batch; i < c.train->num_batches(); ++i) {
                loss += train_step(model, c.train->batch(i), *c.optimizer, Real(o.clip));
                bar.update(i + 1, fmt::format("loss {:.4f}  lr {:.2e}", loss / (i + 1 - first), c.optimizer->lr()));
            }
            end_epoch(c);
            bar.finish();
            const Scores s = evaluate(greedy, *c.test, sets.test, vocab);
            c.accuracy.push_back(s.exact);
            save_resume(c);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            fmt::print("{:>6} {:>10.4f} {:>9.2f}% {:>8.2f} {:>10.1f}\n", epoch, loss / (c.train->num_batches() - first),
                       100 * s.exact, 100 * s.bleu, seconds);
            std::fflush(stdout);
        }
    });
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    fmt::print("\nDecoding the {} test dates:{:>14} {:>8}\n", sets.test.size(), "exact", "BLEU");
    std::vector<Scores> by_k;
    for (int k : {0, 1, o.beam}) {
        const Decoding beam = [&](const IndexTensor& src, int T) { return model.beam_search(src, start_id, T, k, Real(o.alpha)); };
        by_k.push_back(evaluate(k == 0 ? greedy : beam, *c.test, sets.test, vocab));
        const std::string how = k == 0 ? "greedy" : fmt::format("beam search, k = {}, α = {}", k, o.alpha);
        fmt::print("  {:<32} {:>7.2f}% {:>8.2f}\n", how, 100 * by_k.back().exact, 100 * by_k.back().bleu);
    }
    fmt::print("Beam search with k = 1 wrote exactly the greedy answers: {}\n", by_k[1].guesses == by_k[0].guesses ? "yes" : "NO");
    print_predictions(dates, sets.test, vocab, 5);
    save_model(c, vocab, o.out + "/ch5_transformer.npz");
    show_heads(model, *c.test, vocab, o.out + "/ch5_date_heads.svg", true);
    return train_seconds;
}

// Part 2: the Transformer and chapter 3's model, the same processor time each on the harder task.
void race_part(const Options& o) {
    const std::vector<Example> examples = make_hard_task(o.task, o.race_examples + o.race_test, o.min_len, o.max_len, o.seed);
    const Split hard = split(pad_left(examples, o.max_len, o.max_len), o.race_test, o.seed);
    const Vocab vocab = make_vocab(hard.train);
    Rng rng(o.seed + 1);
    fmt::print("\n3. The harder task: {} strings of {}..{} characters from [0-9A-Za-z]; {} training, {} test examples.\n"
               "Transformer D {} h {} F {} layers {}+{} {}, dropout {}, lr warm-up over {} steps; chapter 3's model E {} H {}.\n"
               "Each model trains for {} s of processor time (the wall time it takes depends on what else runs).\n\n",
               o.task, o.min_len, o.max_len, hard.train.size(), hard.test.size(), o.race_D, o.heads, o.race_F, o.layers,
               o.layers, o.post_norm ? "post-norm" : "pre-norm", o.race_dropout, o.race_warmup, o.embed, o.hidden, o.seconds);
    std::vector<Contender> racers;
    auto owned = transformer(o, o.race_D, o.race_F, o.race_dropout, vocab, hard.train, rng);
    TransformerSeq2seq& model = *owned;
    racers.push_back(transformer_contender(std::move(owned), WarmupSchedule(Real(o.lr_factor), o.race_D, o.race_warmup), hard,
                                           vocab, o.race_batch, o.seed));
    // Chapter 3's model: E 16, H 256, Luong wiring, dot score, Adam at 1e-3 (--embed, --hidden, --lr). It reads the
    // source as written, like the Transformer: read backwards, reversing would become copying. Right-aligned, its
    // padding comes first.
    AttentionConfig ac = attention_config(o, vocab);
    ac.reversed_source = !o.lstm_reversed;
    racers.push_back(make_contender("chapter-3 LSTM", std::make_unique<AttentionSeq2seq>(ac, rng), hard, vocab, o.race_batch,
                                    o.lstm_reversed, Real(o.lr), o.seed));
    std::vector<Trainer> trainers;
    for (Contender& c : racers) trainers.emplace_back(c, Real(o.clip));
    race(racers, trainers, o.seconds, o.checkpoints);

    report_race(racers, trainers, o.seconds, hard.test, vocab, o.quick ? 4 : 10, o.task, o.out);
    show_heads(model, *racers[0].test, vocab, o.out + "/ch5_" + o.task + "_heads.svg", false);
}

void Options::add_to(Cli& cli) {
    epochs = 3;
    min_epochs = 0;  // --epochs 0 skips the dates
    embed = 16;
    hidden = 256;
    TrainingFlags::add_to(cli, "a file in the textbook format instead of generated dates");
    cli.option("d-model", &D, "d_model D").range(1, kMaxWidth);
    cli.option("heads", &heads, "attention heads h").range(1, 64);
    cli.option("ffn", &F, "feed-forward width F").range(1, kMaxWidth);
    cli.option("layers", &layers, "encoder layers, and as many decoder layers").range(1, 64);
    cli.option("dropout", &dropout, "dropout on dates").at_least(0).below(1);
    cli.option("smoothing", &smoothing, "label smoothing ε").at_least(0).below(1);
    cli.option("warmup", &warmup, "warm-up steps of the learning-rate schedule").range(1, 1'000'000);
    cli.option("lr-factor", &lr_factor, "factor of the schedule: lr = factor · D^-0.5 · min(step^-0.5, step · warmup^-1.5)")
        .above(0).at_most(100);
    cli.flag("post-norm", &post_norm, "the paper's post-norm sublayers LN(x + f(x)) instead of pre-norm x + f(LN(x))");
    cli.flag("learned-positions", &learned, "a learned positional table instead of sinusoids");
    cli.flag("separate-embeddings", &separate, "separate source, target and output tables instead of one shared");
    cli.option("beam", &beam, "beam size k for beam search").range(1, 64);
    cli.option("alpha", &alpha, "length-penalty exponent α of beam search").range(0, 10);
    cli.option("task", &task, "part 1's dates (dates, or zh-dates: in Chinese) or part 2's harder task (reverse or sort)");
    cli.option("race-d-model", &race_D, "d_model of the Transformer on the harder task").range(1, kMaxWidth);
    cli.option("race-ffn", &race_F, "its feed-forward width").range(1, kMaxWidth);
    cli.option("race-batch", &race_batch, "batch size of both models on the harder task").range(1, kMaxBatch);
    cli.option("race-dropout", &race_dropout, "its dropout (random strings leave nothing to overfit)").at_least(0).below(1);
    cli.option("race-warmup", &race_warmup, "its warm-up steps").range(1, 1'000'000);
    cli.flag("lstm-reversed", &lstm_reversed, "chapter 3's model reads the source reversed (reversing becomes copying)");
    ask.add_to(cli, false);  // --beam and --alpha above serve --ask too
    cli.option("min-len", &min_len, "shortest string of the harder task").range(1, 1000);
    cli.option("max-len", &max_len, "longest string of the harder task").range(1, 1000);
    cli.option("race-examples", &race_examples, "training examples of the harder task").range(1, kMaxExamples);
    cli.option("race-test", &race_test, "test examples of the harder task").range(1, kMaxExamples);
    cli.option("seconds", &seconds, "processor time each model trains on the harder task (0: skip part 2)").range(0, 86400);
    cli.option("checkpoints", &checkpoints, "evaluations during the race").range(1, 1000);
    // Each head takes an equal slice of the model's width.
    cli.require([this] {
        for (auto [flag, width] : {std::pair{"--d-model", D}, {"--race-d-model", race_D}})
            if (width % heads != 0) return fmt::format("{} ({}) must be a multiple of --heads ({})", flag, width, heads);
        return min_len > max_len ? fmt::format("--min-len ({}) must not exceed --max-len ({})", min_len, max_len) : std::string();
    });
}

void Options::quick_run_sizes() {
    TrainingFlags::quick_sizes(1000, 100, 32, 1);  // the dates, and chapter 3's model in the race
    D = 32;                                        // the Transformer on the dates
    F = 64;
    warmup = 10;
    beam = 2;

    max_len = 12;                                  // the race: short strings, a second of training
    race_examples = 400;
    race_test = 50;
    seconds = 1;
    checkpoints = 2;

    race_D = 32;                                   // and a smaller Transformer
    race_F = 64;
    race_warmup = 10;
}

}  // namespace
