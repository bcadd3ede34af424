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
#include "chapters/plot.h"
#include "models/train.h"
#include "nn/checkpoint.h"

using namespace s2a;

namespace {

struct Contender {
    std::string name;
    std::unique_ptr<Seq2seq> model;
    std::unique_ptr<Adam> adam;
    std::unique_ptr<Batcher> train, test;
    std::vector<double> accuracy;  // test exact match after each epoch
};

std::string checkpoint_path(const std::string& out, const std::string& name) {
    std::string file = name;
    for (char& c : file) c = (c == '+') ? '_' : c;
    return fmt::format("{}/ch1_{}.npz", out, file);
}

}  // namespace

int main(int argc, char** argv) {
    int seed = 1, epochs = 25, embed = 16, hidden = 128, batch = 128, examples = 50000, n_test = 5000, show = 10;
    double lr = 1e-3, clip = 5;
    bool quick = false, eval_only = false;
    std::string data, out = "out";
    Cli cli("ch1", "Chapter 1: the plain encoder-decoder on addition; baseline, reversed input, peeky decoder.");
    cli.option("seed", &seed, "random seed (data, split, weights, shuffling)");
    cli.option("epochs", &epochs, "training epochs for each model");
    cli.option("data", &data, "a file in the textbook format ('16+75  _91  ' per line) instead of generated addition");
    cli.option("examples", &examples, "generated examples (when no --data)");
    cli.option("test", &n_test, "examples held out for testing");
    cli.option("embed", &embed, "embedding size E");
    cli.option("hidden", &hidden, "hidden size H");
    cli.option("batch", &batch, "batch size B");
    cli.option("lr", &lr, "Adam learning rate");
    cli.option("clip", &clip, "gradient clipping: max global norm");
    cli.option("show", &show, "test predictions to print at the end");
    cli.option("out", &out, "folder for the plot and the checkpoints");
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
            Contender c;
            c.name = name;
            c.model = std::make_unique<Seq2seq>(vocab.size(), embed, hidden, peeky, init);
            c.adam = std::make_unique<Adam>(c.model->parameters(), Real(lr));
            c.train = std::make_unique<Batcher>(sets.train, vocab, batch, reversed);
            c.test = std::make_unique<Batcher>(sets.test, vocab, batch, reversed);
            if (eval_only) load(*c.model, checkpoint_path(out, name));
            models.push_back(std::move(c));
        }

        fmt::print("{:>6} {:>16} {:>16} {:>16}   (test exact match)\n", "epoch", models[0].name, models[1].name, models[2].name);
        Rng shuffle_rng(seed);
        for (int epoch = 1; epoch <= (eval_only ? 1 : epochs); ++epoch) {
            for (Contender& c : models) {
                if (!eval_only)
                    train_epoch(*c.model, *c.train, *c.adam, Real(clip), shuffle_rng,
                                fmt::format("{} epoch {}/{}", c.name, epoch, epochs));
                c.accuracy.push_back(exact_match(*c.model, *c.test, start_id));
            }
            fmt::print("{:>6} {:>15.2f}% {:>15.2f}% {:>15.2f}%\n", epoch, 100 * models[0].accuracy.back(),
                       100 * models[1].accuracy.back(), 100 * models[2].accuracy.back());
            std::fflush(stdout);  // one row per epoch, shown as it comes even when stdout is a file
        }

        fmt::print("\nSome test questions ({} marks a correct answer):\n{:<10} {:<8}", "✓", "question", "answer");
        std::vector<std::vector<std::vector<int>>> guesses(models.size());
        for (size_t m = 0; m < models.size(); ++m) {
            fmt::print(" {:<16}", models[m].name);
            exact_match(*models[m].model, *models[m].test, start_id, &guesses[m]);
        }
        fmt::print("\n");
        for (int i = 0; i < std::min(show, sets.test.size()); ++i) {
            const std::string answer = sets.test.answers[i].substr(1);
            fmt::print("{:<10} {:<8}", sets.test.questions[i], answer);
            for (auto& g : guesses) {
                const std::string guess = vocab.decode(g[i]);
                fmt::print(" {} {:<14}", guess == answer ? "✓" : "✗", guess);
            }
            fmt::print("\n");
        }

        std::filesystem::create_directories(out);
        LinePlot plot{"Chapter 1: addition, test exact match", "epoch", "accuracy (%)", {}};
        for (Contender& c : models) {
            Series s{c.name, {}, {}};
            for (size_t e = 0; e < c.accuracy.size(); ++e) s.x.push_back(e + 1), s.y.push_back(100 * c.accuracy[e]);
            plot.series.push_back(s);
            if (!eval_only) save(*c.model, checkpoint_path(out, c.name));
        }
        write_line_plot(out + "/ch1_accuracy.svg", plot);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nLearning curves: {}/ch1_accuracy.svg; checkpoints: {}/ch1_*.npz (reload with --eval-only).\n"
                   "Total time {:.1f} s.\n", out, out, seconds);
        return 0;
    });
}
