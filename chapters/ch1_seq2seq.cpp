// chapters/ch1_seq2seq.cpp — Chapter 1: the plain encoder-decoder, and two cheap tricks.
//
// An encoder LSTM reads "16+75" one character at a time; its last hidden state, one vector of H numbers,
// is all the decoder LSTM gets to unroll the answer "91" from. Three models learn addition side by side:
//   baseline        the plain seq2seq;
//   reversed        the same model, fed the question back to front ("  57+61"): the answer's first digits
//                   depend most on the operands' last digits, which now sit next to the decoder's start;
//   peeky+reversed  the decoder also sees the encoder's vector at every step, not only at the start.
// Each epoch trains every model once and prints one row of test exact-match accuracy.
//
// Dimensions: B batch, S question length, T answer length, V vocabulary, E embedding, H hidden.
#include <fmt/format.h>

#include <chrono>

#include "autodiff/profile.h"
#include "experiments/ask.h"
#include "experiments/side_by_side.h"
#include "io/checkpoint.h"
#include "io/cli.h"

using namespace s2a;

int main(int argc, char** argv) {
    TrainingFlags f;
    f.epochs = 25;
    int show = 10;
    bool eval_only = false;
    AskFlags ask;  // --load FILE --ask: question a trained model instead (experiments/ask.h)
    Cli cli("ch1", "Chapter 1: the plain encoder-decoder on addition; baseline, reversed input, peeky decoder.");
    f.add_to(cli, "a file in the textbook format ('16+75  _91  ' per line) instead of generated addition");
    cli.option("show", &show, "test predictions to print at the end").range(0, 1000);
    cli.flag("eval-only", &eval_only, "load the three checkpoints from --out and evaluate them, no training");
    cli.require([&] { return eval_only && !f.resume.empty() ? "--eval-only trains nothing: it cannot --resume" : ""; });
    ask.add_to(cli);
    cli.parse(argc, argv);
    return guarded("ch1", [&] {
        if (f.quick) {
            f.quick_sizes(3000, 300, 32, 2);
            show = 3;
        }
        if (ask.wanted()) return question_model(ask, f, "addition");
        if (!eval_only) f.create_out_folder();  // an evaluation writes nothing there
        const auto start = std::chrono::steady_clock::now();

        // 1. The data: "16+75" → "_91", padded to fixed widths; the vocabulary is every character seen.
        const Split sets = split(load_or_generate("addition", f.data, f.examples, f.seed), f.test, f.seed);
        const Vocab vocab = make_vocab(sets.train);
        fmt::print("Addition: {} training and {} test examples, vocabulary {} ('{}'), E {} H {} batch {}\n\n",
                   sets.train.size(), sets.test.size(), vocab.size(), vocab.chars(), f.embed, f.hidden, f.batch);

        // 2. Three models from the same initial weights (each its own Rng with the same seed).
        std::vector<Contender> models;
        for (auto [name, reversed, peeky] : {std::tuple{"baseline", false, false}, {"reversed", true, false},
                                             {"peeky+reversed", true, true}}) {
            Rng init(f.seed);
            auto model = std::make_unique<Seq2seq>(vocab.size(), f.embed, f.hidden, peeky, init);
            if (eval_only) load(*model, checkpoint_path(f.out, "ch1", name));
            models.push_back(make_contender(name, std::move(model), sets, vocab, f.batch, reversed, Real(f.lr), f.seed));
        }
        if (!eval_only) resumable(models, f, "ch1");  // OUT/ch1_NAME.resume.npz after every epoch; --resume reads them

        if (f.profile) {  // --profile: where an epoch of the baseline's training spends its time, then stop
            profile_epoch(models[0].train->num_batches(), [&](int i) {
                train_step(*models[0].model, models[0].train->batch(i), *models[0].optimizer, Real(f.clip));
            });
            return 0;
        }

        // 3. Training. One epoch of one model is this loop: one train_step per batch (forward, backward, clip,
        //    Adam), a fresh order of the batches for the next epoch (the same for every model), then the test
        //    set. The models take turns on the cores, one per core, and a row of test accuracy is printed after
        //    every epoch. Ctrl-C stops them between two steps and saves where they are.
        const auto one_epoch = [&](Contender& c) {
            for (; c.batch < c.train->num_batches(); ++c.batch) train_step(*c.model, c.train->batch(c.batch), *c.optimizer, Real(f.clip));
            end_epoch(c);
            return exact_match(*c.model, *c.test, c.start_id);
        };
        if (eval_only) test_side_by_side(models);
        else train_side_by_side(models, f.epochs, one_epoch);

        // 4. What the models answer; after training, their checkpoints and learning curves. An evaluation
        //    leaves the files of the training run as they are: it has no curve to draw, only one point.
        print_predictions(models, sets.test, vocab, show);
        if (!eval_only) {
            for (const Contender& c : models) save_model(c, vocab, checkpoint_path(f.out, "ch1", c.name));
            plot_accuracy(models, "Chapter 1: addition, test exact match", f.out + "/ch1_accuracy.svg");
            fmt::print("\nLearning curves: {0}/ch1_accuracy.svg; checkpoints: {0}/ch1_*.npz (reload with --eval-only; --load FILE --ask to question one).\n", f.out);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("Total time {:.1f} s.\n", seconds);
        return 0;
    });
}
