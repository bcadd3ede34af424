// chapters/ch5_transformer.cpp — Chapter 5: the Transformer.
//
// Chapter 3's decoder attends to the encoder, but both halves are still LSTMs: they read one character
// after another, and whatever a step needs from far away must travel through every step between. The
// Transformer drops the recurrence. Every position attends to every other (self-attention), positional
// encodings say where each one is, and the decoder reads the source through cross-attention, with the
// causal mask hiding what it has not written yet.
//
// Section 1 runs one MultiHeadAttention on a toy batch. Part 1 trains a Transformer on dates (warm-up schedule,
// label smoothing, dropout), decodes greedily and by beam search, and draws every head of every attention. The
// layers are pre-norm, x + f(LN(x)): at this short schedule's high learning rate the paper's post-norm LN(x + f(x))
// learned far more slowly and unsteadily (--post-norm reproduces it; README gives the measured figures). Part 2
// races it against chapter 3's model for the same training time on the harder task: reversing strings of 8..50
// characters. Why reversal, and why right-aligned: the answer's character t always comes from source column S-1-t,
// so neither model has to find where a string starts or ends; the race is only about reaching a column. Chapter 3's
// model has to get there by counting through its recurrent state, step after step, at both ends; the Transformer's
// decoder looks the column up through the positional encodings (each sine/cosine pair of PE(S-1-t) is PE(t)'s pair
// reflected and turned by a fixed angle: one linear map, which a query-key product can learn), and an error it
// makes stays local instead of pushing the count off for the rest of the answer. Both models read the source as
// written (--lstm-reversed lets chapter 3's model read it backwards, its usual recipe, which turns reversing into
// copying for it). The Transformer's flags and helpers (the model they make, scores under greedy and beam decoding,
// every head drawn) are in experiments/transformer.h, the race with its flags in experiments/race.h.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, D d_model, h heads, F FFN width.
#include <fmt/format.h>

#include <chrono>
#include <utility>

#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "experiments/ask.h"
#include "experiments/race.h"
#include "experiments/transformer.h"
#include "io/cli.h"
#include "io/progress.h"

using namespace s2a;

namespace {

// The shared training flags (seed, epochs, data, examples, test, batch, clip, out, quick) are for the dates;
// --embed, --hidden and --lr are chapter 3's model's in the race.
struct Options : TrainingFlags {
    TransformerFlags model;        // the Transformer on dates: --d-model ... --separate-embeddings
    int beam = 4;                  // beam search: width k and length penalty α
    double alpha = 0.6;
    std::string dates = "dates";   // part 1's task: dates, or zh-dates (in Chinese)
    RaceFlags race;                // part 2, the race on the harder task: --task, --race-d-model ... --checkpoints
    AskFlags ask;                  // --load FILE --ask: question the dates' Transformer (experiments/ask.h)

    void add_to(Cli& cli);  // every flag above, and the shared ones
};

double dates_part(const Options& o);

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch5", "Chapter 5: a Transformer on dates (greedy and beam search, every head drawn), then raced against "
                   "chapter 3's model for equal training time on a harder task. --epochs 0 skips the dates, --seconds 0 "
                   "the race.");
    o.add_to(cli);
    cli.parse(argc, argv);
    return guarded("ch5", [&] {
        if (o.quick) {  // sizes that run in seconds (the tests run every chapter this way)
            o.quick_sizes(1000, 100, 32, 1);  // the dates, and chapter 3's model in the race
            o.quick_size("d-model", o.model.D, 32), o.quick_size("ffn", o.model.F, 64);
            o.quick_size("warmup", o.model.warmup, 10), o.quick_size("beam", o.beam, 2);
            o.race.quick_sizes(o);
        }
        if (o.race.task == "dates" || o.race.task == "zh-dates") o.dates = std::exchange(o.race.task, "reverse");  // --task of part 1
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

        // 2. Part 1: the Transformer on dates.
        const double dates_seconds = o.epochs > 0 || o.profile ? dates_part(o) : 0;
        if (o.profile) return 0;  // --profile: only the dates' Transformer, profiled

        // 3. Part 2, the race (experiments/race.h): the dates' Transformer, smaller, and chapter 3's model train for
        //    the same processor time on the harder task, taking turns, with test exact match after each turn. The
        //    table gives what each did with its time (steps, epochs, tokens/s) and where it got (exact match, BLEU);
        //    exact match by string length shows whether a model still finds its column at the far end of a long
        //    string; the Transformer's heads show where it looked.
        if (o.race.seconds > 0) race_transformer_against_lstm(o.race, o.model, o);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nEvery head: {0}/ch5_date_heads.svg, {0}/ch5_{1}_heads.svg; the race: {0}/ch5_race.svg, {0}/ch5_by_length.svg; "
                   "the dates' model: {0}/ch5_transformer.npz (--load it, --ask it).\nDates: {2:.1f} s of training; total time {3:.1f} s.\n",
                   o.out, o.race.task, dates_seconds, seconds);
        return 0;
    });
}

namespace {

// Part 1: a Transformer on dates, decoded greedily and by beam search, every head drawn. Returns the
// training time in seconds.
double dates_part(const Options& o) {
    const Split sets = split(load_or_generate(o.dates, o.data, o.examples, o.seed), o.test, o.seed);
    const Vocab vocab = make_vocab(sets.train);
    Rng rng(o.seed);
    auto owned = std::make_unique<TransformerSeq2seq>(transformer_config(o.model, vocab, sets.train), rng);
    TransformerSeq2seq& model = *owned;
    const WarmupSchedule schedule = o.model.schedule();
    std::vector<Contender> dates;
    dates.push_back(transformer_contender(std::move(owned), schedule, sets, vocab, o.batch, o.seed));
    Contender& c = dates[0];
    resumable(dates, o, "ch5");  // OUT/ch5_transformer.resume.npz after every epoch; --resume reads it
    fmt::print("2. Dates: {} training and {} test examples, vocabulary {}; {}, {} parameters\n"
               "Adam (β₂ 0.98), lr warm-up over {} steps to {:.2e}, then ∝ 1/√step; label smoothing {}, dropout {}\n\n",
               sets.train.size(), sets.test.size(), vocab.size(), o.model.sizes(), model.num_parameters(), o.model.warmup,
               schedule.peak(), o.model.smoothing, o.model.dropout);

    if (o.profile) {  // --profile: where an epoch of the Transformer's training spends its time, then stop
        profile_epoch(c.train->num_batches(), [&](int i) { train_step(model, c.train->batch(i), *c.optimizer, Real(o.clip)); });
        return 0;
    }

    // Training: every epoch one train_step per batch (the optimizer takes its learning rate from the schedule),
    // a fresh order for the next, then exact match and BLEU of greedy decoding on the test dates. Ctrl-C stops
    // it between two steps and saves where it is.
    const Decoding greedy = greedy_decoding(model, vocab.id('_'));
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

    compare_decodings(model, *c.test, sets.test, vocab, o.beam, o.alpha);  // greedy, and beam search with k = 1 and k
    print_predictions(dates, sets.test, vocab, 5);
    save_model(c, vocab, o.out + "/ch5_transformer.npz");
    show_heads(model, *c.test, vocab, o.out + "/ch5_date_heads.svg", true);
    return train_seconds;
}

void Options::add_to(Cli& cli) {
    epochs = 3;
    min_epochs = 0;  // --epochs 0 skips the dates
    embed = 16;      // chapter 3's model in the race
    hidden = 256;
    TrainingFlags::add_to(cli, "a file in the textbook format instead of generated dates");
    model.add_to(cli);
    cli.option("beam", &beam, "beam size k for beam search").range(1, 64);
    cli.option("alpha", &alpha, "length-penalty exponent α of beam search").range(0, 10);
    cli.option("task", &race.task, "part 1's dates (dates, or zh-dates: in Chinese) or part 2's harder task (reverse or sort)");
    race.add_to(cli, model, ask);  // the race's flags, and ask's among them (--beam and --alpha above serve --ask too)
}

}  // namespace
