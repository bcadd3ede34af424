// chapters/ch3_attention.cpp — Chapter 3: attention.
//
// Chapter 2 kept all the encoder's hidden states hs (B, S, H). Attention lets the decoder use them: at each
// step it scores its state against every row of hs, a softmax turns the scores into weights a (summing to 1,
// padding weighted exactly 0), and the context c = Σₛ aₛ hsₛ joins the decoder's state in predicting the
// next character. The model learns where to look; the heat maps below show it reading "september" to write
// "09". The main run trains the textbook's model on dates (Luong wiring, dot score, reversed input). Flags add
// the comparisons: chapter 1's models on the same data, every score function, and chapter 2's bottleneck
// experiment (copying strings of growing length) redone with attention.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "io/cli.h"
#include "experiments/side_by_side.h"
#include "models/attention_seq2seq.h"
#include "io/checkpoint.h"

using namespace s2a;

namespace {

struct Options : TrainingFlags {
    int maps = 3;
    std::string score = "dot", wiring = "luong";
    bool bidirectional = false, baselines = false, scores = false, lengths = false;
};

std::unique_ptr<AttentionSeq2seq> attention_model(const Options& o, Score score, const Vocab& vocab, Rng& rng) {
    AttentionConfig c;
    c.V = vocab.size(), c.E = o.embed, c.H = o.hidden, c.score = score, c.wiring = parse_wiring(o.wiring);
    c.bidirectional = o.bidirectional, c.pad_id = vocab.id(' '), c.reversed_source = true;
    return std::make_unique<AttentionSeq2seq>(c, rng);
}

// Where the decoder looked for the first test dates: a terminal heat map each, and one SVG with all.
void show_heat_maps(AttentionSeq2seq& model, const Batcher& test, const TextData& data, const Vocab& vocab, int n,
                    const std::string& path) {
    const Batch batch = test.batch(0);
    const int T = batch.tgt.shape[1] - 1, S = batch.src.shape[1];
    const IndexTensor guess = model.generate(batch.src, vocab.id('_'), T);
    const Tensor& a = model.attention_map();  // (B, T, S)
    std::vector<HeatMap> maps;
    for (int i = 0; i < std::min(n, batch.src.shape[0]); ++i) {
        HeatMap m{fmt::format("\"{}\" → {}", data.questions[i], data.answers[i].substr(1)), {}, {}, {}};
        for (int s = 0; s < S; ++s) m.col_labels.push_back(std::string(1, vocab.ch(batch.src[i * S + s])));
        for (int t = 0; t < T; ++t) {
            m.row_labels.push_back(std::string(1, vocab.ch(guess[i * T + t])));
            for (int s = 0; s < S; ++s) m.values.push_back(a[(int64_t(i) * T + t) * S + s]);
        }
        fmt::print("\n{} (source read reversed, left to right; rows: the answer written)\n{}", m.title,
                   heat_map_text(m, stdout_is_terminal()));
        maps.push_back(std::move(m));
    }
    write_heat_map(path, maps);
}

// Exact match by input length on the copy task: the bottleneck experiment of chapter 2, with attention.
void lengths_experiment(const Options& o) {
    const Split sets = split(load_or_generate("copy", "", o.quick ? 2000 : 20000, o.seed), o.quick ? 200 : 2000, o.seed);
    const Vocab vocab = make_vocab(sets.train);
    Rng rng(o.seed);
    std::vector<Contender> models;
    models.push_back(make_contender("attention", attention_model(o, Score::Dot, vocab, rng), sets, vocab, o.batch, true, Real(o.lr)));
    fmt::print("\nCopying strings of {} to {} letters with attention (chapter 2's bottleneck experiment):\n", kCopyMinLength, kCopyMaxLength);
    train_side_by_side(models, o.quick ? 1 : 6, Real(o.clip), vocab.id('_'), o.seed);
    report_by_length(models, accuracy_by_length(models, sets.test, vocab, vocab.id('_'), 4),
                     "Copy task with attention: exact match by input length", o.out + "/ch3_by_length.svg");
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    o.epochs = 2, o.hidden = 256;
    Cli cli("ch3", "Chapter 3: attention seq2seq on dates, heat maps; flags add chapter 1's models, every score "
                   "function, and the accuracy-by-length experiment.");
    o.add_to(cli, "a file in the textbook format instead of generated dates");
    cli.option("score", &o.score, "score function: dot, general, additive, concat");
    cli.option("wiring", &o.wiring, "luong (attend after the LSTM) or bahdanau (attend before, feed the context in)");
    cli.flag("bidirectional", &o.bidirectional, "a bidirectional encoder");
    cli.option("maps", &o.maps, "test dates to draw attention heat maps for");
    cli.flag("baselines", &o.baselines, "also train chapter 1's reversed and peeky+reversed models on the same data");
    cli.flag("scores", &o.scores, "also train one model per score function and compare them");
    cli.flag("lengths", &o.lengths, "also rerun chapter 2's accuracy-by-length experiment with attention");
    cli.parse(argc, argv);
    return guarded("ch3", [&] {
        if (o.quick) o.examples = 2000, o.test = 200, o.hidden = 32, o.epochs = 1, o.maps = 1;
        const auto start = std::chrono::steady_clock::now();
        const Split sets = split(load_or_generate("dates", o.data, o.examples, o.seed), o.test, o.seed);
        const Vocab vocab = make_vocab(sets.train);
        const int start_id = vocab.id('_');
        fmt::print("Dates: {} training and {} test examples, vocabulary {}, E {} H {} batch {}, {} wiring, {} score{}\n\n",
                   sets.train.size(), sets.test.size(), vocab.size(), o.embed, o.hidden, o.batch, o.wiring, o.score,
                   o.bidirectional ? ", bidirectional encoder" : "");

        std::vector<Contender> models;
        Rng rng(o.seed);
        models.push_back(make_contender("attention", attention_model(o, parse_score(o.score), vocab, rng), sets, vocab,
                                        o.batch, true, Real(o.lr)));
        if (o.baselines)
            for (bool peeky : {false, true})
                models.push_back(make_contender(peeky ? "peeky+reversed" : "reversed",
                                                std::make_unique<Seq2seq>(vocab.size(), o.embed, o.hidden, peeky, rng),
                                                sets, vocab, o.batch, true, Real(o.lr)));
        train_side_by_side(models, o.epochs, Real(o.clip), start_id, o.seed);
        print_predictions(models, sets.test, vocab, start_id, 5);
        std::filesystem::create_directories(o.out);
        auto& attention = dynamic_cast<AttentionSeq2seq&>(*models[0].model);
        save(attention, o.out + "/ch3_attention.npz");
        if (o.maps > 0) show_heat_maps(attention, *models[0].test, sets.test, vocab, o.maps, o.out + "/ch3_heat_maps.svg");
        plot_accuracy(models, "Chapter 3: dates, test exact match", o.out + "/ch3_accuracy.svg");

        if (o.scores) {
            fmt::print("\nEvery score function, {} epochs each:\n", o.epochs);
            std::vector<Contender> by_score;
            for (const char* name : {"dot", "general", "additive", "concat"})
                by_score.push_back(make_contender(name, attention_model(o, parse_score(name), vocab, rng), sets, vocab,
                                                  o.batch, true, Real(o.lr)));
            train_side_by_side(by_score, o.epochs, Real(o.clip), start_id, o.seed);
            for (const Contender& c : by_score) fmt::print("  {:<9} {:6.2f}%  ({:.1f} s)\n", c.name, 100 * c.accuracy.back(), c.seconds);
        }
        if (o.lengths) lengths_experiment(o);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nHeat maps: {0}/ch3_heat_maps.svg; curves: {0}/ch3_accuracy.svg; model: {0}/ch3_attention.npz.\n"
                   "Training the attention model took {1:.1f} s; total time {2:.1f} s.\n", o.out, models[0].seconds, seconds);
        return 0;
    });
}
