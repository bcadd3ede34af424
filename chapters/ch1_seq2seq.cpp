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
#include <filesystem>

#include "chapters/cli.h"
#include "chapters/experiment.h"
#include "nn/checkpoint.h"

using namespace s2a;

int main(int argc, char** argv) {
    int seed = 1, epochs = 25, embed = 16, hidden = 128, batch = 128, examples = 50000, n_test = 5000, show = 10;
    double lr = 1e-3, clip = 5;
    bool quick = false, eval_only = false;
    std::string data, out = "out";
    Cli cli("ch1", "Chapter 1: the plain encoder-decoder on addition; baseline, reversed input, peeky decoder.");
    cli.option("seed", &seed, "random seed (data, split, weights, shuffling)");
    cli.option("epochs", &epochs, "training epochs for each model");
    cli.option("data", &data, "a file in the textbook format ('16+75  _91  ' per line) instead of generated addition", "FILE");
    cli.option("examples", &examples, "generated examples (when no --data)");
    cli.option("test", &n_test, "examples held out for testing");
    cli.option("embed", &embed, "embedding size E");
    cli.option("hidden", &hidden, "hidden size H");
    cli.option("batch", &batch, "batch size B");
    cli.option("lr", &lr, "Adam learning rate");
    cli.option("clip", &clip, "gradient clipping: max global norm");
    cli.option("show", &show, "test predictions to print at the end");
    cli.option("out", &out, "folder for the plot and the checkpoints", "DIR");
    cli.flag("eval-only", &eval_only, "load the three checkpoints from --out and evaluate them, no training");
    cli.flag("quick", &quick, "tiny sizes, a few seconds (for tests)");
    cli.parse(argc, argv);
    return guarded("ch1", [&] {
        if (quick) examples = 3000, n_test = 300, hidden = 32, epochs = std::min(epochs, 2), show = 3;
        const auto start = std::chrono::steady_clock::now();
        const Split sets = split(load_or_generate("addition", data, examples, seed), n_test, seed);
        const Vocab vocab = make_vocab(sets.train);
        const int start_id = vocab.id('_');
        fmt::print("Addition: {} training and {} test examples, vocabulary {} ('{}'), E {} H {} batch {}\n\n",
                   sets.train.size(), sets.test.size(), vocab.size(), vocab.chars(), embed, hidden, batch);

        std::vector<Contender> models;
        for (auto [name, reversed, peeky] : {std::tuple{"baseline", false, false}, {"reversed", true, false},
                                             {"peeky+reversed", true, true}}) {
            Rng init(seed);
            auto model = std::make_unique<Seq2seq>(vocab.size(), embed, hidden, peeky, init);
            if (eval_only) load(*model, checkpoint_path(out, "ch1", name));
            models.push_back(make_contender(name, std::move(model), sets, vocab, batch, reversed, Real(lr)));
        }
        train_side_by_side(models, eval_only ? 0 : epochs, Real(clip), start_id, seed);
        print_predictions(models, sets.test, vocab, start_id, show);

        std::filesystem::create_directories(out);
        if (!eval_only)
            for (const Contender& c : models) save(*c.model, checkpoint_path(out, "ch1", c.name));
        plot_accuracy(models, "Chapter 1: addition, test exact match", out + "/ch1_accuracy.svg");
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nLearning curves: {0}/ch1_accuracy.svg; checkpoints: {0}/ch1_*.npz (reload with --eval-only).\n"
                   "Total time {1:.1f} s.\n", out, seconds);
        return 0;
    });
}
