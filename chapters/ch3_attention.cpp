// chapters/ch3_attention.cpp — Chapter 3: attention.
//
// Chapter 2 kept all the encoder's hidden states hs (B, S, H). Attention lets the decoder use them: at each
// step it scores its state against every row of hs, a softmax turns the scores into weights a (summing to 1,
// padding weighted exactly 0), and the context c = Σₛ aₛ hsₛ joins the decoder's state in predicting the
// next character. The model learns where to look; the heat maps below show it reading "september" to write
// "09". The program first runs the two layers on a toy batch (section 1), then trains the textbook's model on
// dates (Luong wiring, dot score, reversed input). Flags add the comparisons of
// experiments/attention_comparisons.h: chapter 1's models on the same data, every score function, and chapter
// 2's bottleneck experiment (copying strings of growing length) redone with attention.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden.
#include <fmt/format.h>

#include <chrono>

#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "experiments/ask.h"
#include "experiments/attention.h"
#include "experiments/attention_comparisons.h"
#include "experiments/side_by_side.h"
#include "io/cli.h"
#include "io/progress.h"
#include "models/attention_seq2seq.h"

using namespace s2a;

namespace {

struct Options : TrainingFlags {
    Options() {  // the chapter's defaults for the shared flags
        epochs = 2;
        hidden = 256;
    }
    std::string task = "dates";
    AttentionFlags model;     // --score, --wiring, --bidirectional
    int maps = 3;             // test dates whose attention is drawn
    ComparisonFlags compare;  // --baselines, --scores, --lengths
    AskFlags ask;             // --load FILE --ask: question a trained model instead (experiments/ask.h)
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch3", "Chapter 3: attention seq2seq on dates, heat maps; flags add chapter 1's models, every score "
                   "function, and the accuracy-by-length experiment.");
    o.add_to(cli, "a file in the textbook format instead of generated dates");
    cli.option("task", &o.task, fmt::format("the generated task: {} (zh-dates: dates written in Chinese)", kTaskNames));
    o.model.add_to(cli);
    cli.option("maps", &o.maps, "test dates to draw attention heat maps for").range(0, 100);
    o.compare.add_to(cli);
    o.ask.add_to(cli);
    cli.parse(argc, argv);
    return guarded("ch3", [&] {
        if (o.quick) {
            o.quick_sizes(2000, 200, 32, 1);
            o.maps = 1;
        }
        if (o.ask.wanted()) return question_model(o.ask, o, o.task);
        o.create_out_folder();
        const auto start = std::chrono::steady_clock::now();
        Rng rng(o.seed);

        // 1. Attention on a toy batch: B = 2 sentences of S = 4 source states hs of size H = 3, one decoder
        //    state each as the query (Tq = 1); sentence 2's last position is padding. Dot score.
        const Var hs = constant(randn(Shape{2, 4, 3}, rng), "hs");  // hs: (B, S, H)
        const Var query = constant(randn(Shape{2, 1, 3}, rng), "h");  // h: (B, Tq, H)
        const Tensor mask = lengths_mask({4, 3}, 4);                  // mask: (B, S)
        const AttentionWeight weight(Score::Dot, 3, 3, rng);
        const WeightSum weight_sum;
        const Var e = bmm(query, hs, false, true);                    // e = h · hsₛ: (B, Tq, S)
        const Var a = weight.forward(query, hs, &mask);               // a = softmax(e), padding 0: (B, Tq, S)
        const Var context = weight_sum.forward(a, hs);                // c = Σₛ aₛ hsₛ: (B, Tq, H)
        fmt::print("1. Attention on a toy batch: hs {}, query h {}, mask {}\n\nscores e = h · hs_s {}:\n{}\n"
                   "weights a = softmax(e) {} (each row sums to 1; the padded position gets 0):\n{}\n"
                   "context c = Σ_s a_s hs_s {}:\n{}\n\n",
                   hs.shape().str(), query.shape().str(), mask.shape.str(), e.shape().str(), e.value().str(),
                   a.shape().str(), a.value().str(), context.shape().str(), context.value().str());
        tape().clear();

        // 2. The data: dates in 22 formats (--task zh-dates: 14 Chinese ones) → "1994-09-27"; questions reversed,
        //    padding masked.
        const Split sets = split(load_or_generate(o.task, o.data, o.examples, o.seed), o.test, o.seed);
        const Vocab vocab = make_vocab(sets.train);
        const int start_id = vocab.id('_');
        fmt::print("2. Dates: {} training and {} test examples, vocabulary {}, E {} H {} batch {}, {} wiring, {} score{}\n\n",
                   sets.train.size(), sets.test.size(), vocab.size(), o.embed, o.hidden, o.batch, o.model.wiring,
                   o.model.score, o.model.bidirectional ? ", bidirectional encoder" : "");

        // 3. The model: encoder LSTM → hs; decoder LSTM whose every state attends over hs; Adam.
        Rng init(o.seed);
        auto owned = attention_model(o, o.model, vocab, init);
        AttentionSeq2seq& model = *owned;
        std::vector<Contender> models;
        models.push_back(make_contender("attention", std::move(owned), sets, vocab, o.batch, true, Real(o.lr), o.seed));
        Contender& attention = models[0];
        resumable(models, o, "ch3");  // OUT/ch3_attention.resume.npz after every epoch; --resume reads it
        fmt::print("3. The model: {} parameters, Adam lr {}, gradient norm clipped to {}\n\n", model.num_parameters(), o.lr, o.clip);

        if (o.profile) {  // --profile: where an epoch of the attention model's training spends its time, then stop
            profile_epoch(attention.train->num_batches(), [&](int i) {
                train_step(model, attention.train->batch(i), *attention.optimizer, Real(o.clip));
            });
            return 0;
        }

        // 4. Training: every epoch one train_step per batch (forward with teacher forcing, backward, clip, Adam),
        //    a fresh order of the batches for the next, then exact match on the test dates. Ctrl-C stops it
        //    between two steps and saves where it is (a resumed run starts there: epoch and batch).
        const auto training = std::chrono::steady_clock::now();
        fmt::print("4. Training\n{:>6} {:>10} {:>12}\n", "epoch", "loss", "exact match");
        interruptible(models, [&] {
            for (int epoch = static_cast<int>(attention.accuracy.size()) + 1; epoch <= o.epochs; ++epoch) {
                Batcher& train = *attention.train;
                Progress bar(fmt::format("epoch {}/{}", epoch, o.epochs), train.num_batches(), stderr);
                const int first = attention.batch;
                double loss = 0;
                for (int& i = attention.batch; i < train.num_batches(); ++i) {
                    loss += train_step(model, train.batch(i), *attention.optimizer, Real(o.clip));
                    bar.update(i + 1, fmt::format("loss {:.4f}", loss / (i + 1 - first)));
                }
                end_epoch(attention);
                bar.finish();
                attention.accuracy.push_back(exact_match(model, *attention.test, start_id));
                save_resume(attention);
                fmt::print("{:>6} {:>10.4f} {:>11.2f}%\n", epoch, loss / (train.num_batches() - first), 100 * attention.accuracy.back());
                std::fflush(stdout);
            }
        });
        const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - training).count();

        // 5. What it answers, and where it looked.
        print_predictions(models, sets.test, vocab, 5);
        save_model(attention, vocab, o.out + "/ch3_attention.npz");
        if (o.maps > 0) show_heat_maps(model, *models[0].test, sets.test, vocab, o.maps, o.out + "/ch3_heat_maps.svg");
        plot_accuracy(models, "Chapter 3: dates, test exact match", o.out + "/ch3_accuracy.svg");

        // 6. The comparisons the flags ask for (experiments/attention_comparisons.h): more models on the same
        //    batches, trained side by side, one per core; one epoch of each is section 4's loop.
        const Epoch one_epoch = [&](Contender& c) {
            for (; c.batch < c.train->num_batches(); ++c.batch) train_step(*c.model, c.train->batch(c.batch), *c.optimizer, Real(o.clip));
            end_epoch(c);
            return exact_match(*c.model, *c.test, c.start_id);
        };
        if (o.compare.baselines) baselines_experiment(o, sets, vocab, one_epoch);
        if (o.compare.scores) scores_experiment(o, o.model, sets, vocab, one_epoch);
        if (o.compare.lengths) lengths_experiment(o, o.model, one_epoch);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nHeat maps: {0}/ch3_heat_maps.svg; curves: {0}/ch3_accuracy.svg; model: {0}/ch3_attention.npz.\n"
                   "Training the attention model took {1:.1f} s; total time {2:.1f} s.\n", o.out, train_seconds, seconds);
        return 0;
    });
}
