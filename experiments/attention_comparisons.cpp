// experiments/attention_comparisons.cpp — chapter 3's flags, the model they make, and its three comparisons.
#include "experiments/attention_comparisons.h"

#include <fmt/format.h>

#include <vector>

#include "data/tasks.h"
#include "experiments/attention.h"

namespace s2a {

void AttentionFlags::add_to(Cli& cli) {
    cli.option("score", &score, "score function: dot, general, additive, concat");
    cli.option("wiring", &wiring, "luong (attend after the LSTM) or bahdanau (attend before, feed the context in)");
    cli.flag("bidirectional", &bidirectional, "a bidirectional encoder");
}

std::unique_ptr<AttentionSeq2seq> attention_model(const TrainingFlags& f, const AttentionFlags& a, const Vocab& vocab, Rng& rng) {
    const Score score = parse_score(a.score);  // first, so that an unknown score is the error named
    AttentionConfig c = attention_config(f, vocab);
    c.score = score;
    c.wiring = parse_wiring(a.wiring);
    c.bidirectional = a.bidirectional;
    return std::make_unique<AttentionSeq2seq>(c, rng);
}

void ComparisonFlags::add_to(Cli& cli) {
    cli.flag("baselines", &baselines, "also train chapter 1's reversed and peeky+reversed models on the same data");
    cli.flag("scores", &scores, "also train one model per score function and compare them");
    cli.flag("lengths", &lengths, "also rerun chapter 2's accuracy-by-length experiment with attention");
}

void baselines_experiment(const TrainingFlags& f, const Split& sets, const Vocab& vocab, const Epoch& one_epoch) {
    fmt::print("\nChapter 1's models on the same dates, {} epochs each:\n", f.epochs);
    std::vector<Contender> models;
    for (bool peeky : {false, true}) {
        Rng init(f.seed);
        models.push_back(make_contender(peeky ? "peeky+reversed" : "reversed",
                                        std::make_unique<Seq2seq>(vocab.size(), f.embed, f.hidden, peeky, init), sets, vocab,
                                        f.batch, true, Real(f.lr), f.seed));
    }
    train_side_by_side(models, f.epochs, one_epoch);
}

void scores_experiment(const TrainingFlags& f, const AttentionFlags& a, const Split& sets, const Vocab& vocab,
                       const Epoch& one_epoch) {
    fmt::print("\nEvery score function, {} epochs each:\n", f.epochs);
    std::vector<Contender> by_score;
    for (const char* name : {"dot", "general", "additive", "concat"}) {
        AttentionFlags each = a;  // the same wiring and encoder, this score
        each.score = name;
        Rng init(f.seed);
        by_score.push_back(make_contender(name, attention_model(f, each, vocab, init), sets, vocab, f.batch, true, Real(f.lr), f.seed));
    }
    train_side_by_side(by_score, f.epochs, one_epoch);
    for (const Contender& c : by_score) fmt::print("  {:<9} {:6.2f}%  ({:.1f} s)\n", c.name, 100 * c.accuracy.back(), c.seconds);
}

void lengths_experiment(const TrainingFlags& f, const AttentionFlags& a, const Epoch& one_epoch) {
    const Split sets = split(load_or_generate("copy", "", f.quick ? 2000 : 20000, f.seed), f.quick ? 200 : 2000, f.seed);
    const Vocab vocab = make_vocab(sets.train);
    AttentionFlags dot = a;  // the same wiring and encoder, the dot score
    dot.score = "dot";
    Rng init(f.seed);
    std::vector<Contender> models;
    models.push_back(make_contender("attention", attention_model(f, dot, vocab, init), sets, vocab, f.batch, true, Real(f.lr), f.seed));
    fmt::print("\nCopying strings of {} to {} letters with attention (chapter 2's bottleneck experiment):\n", kCopyMinLength,
               kCopyMaxLength);
    train_side_by_side(models, f.quick ? 1 : 6, one_epoch);
    report_by_length(models, accuracy_by_length(models, sets.test, vocab, 4),
                     "Copy task with attention: exact match by input length", f.out + "/ch3_by_length.svg");
}

}  // namespace s2a
