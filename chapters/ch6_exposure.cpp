// chapters/ch6_exposure.cpp — Chapter 6: exposure bias and search.
//
// Every model so far learned with teacher forcing: each decoder step read the true previous character. It
// writes its answers from its own, and one early mistake sends it where training never took it (exposure
// bias). This chapter measures that gap and tries Bengio et al.'s cure, scheduled sampling: in training,
// each step reads the true previous token with probability ε and the model's own token otherwise, ε
// decaying over the epochs. It also lets the decoder choose the answer's length (an end symbol) and search
// for it (beam search with length normalisation) instead of committing to one token at a time.
// The task is seq2seq as a parser: "(3+4)*5-2" → "-*+3452", the prefix notation of its parse tree.
// Section 1 shows the new pieces on a toy scale; then two attention models train on the same batches, one
// with teacher forcing and one with scheduled sampling; then greedy decoding against beam search k = 2, 4, 8.
// The measurements are in experiments/exposure.h.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden, k beam.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "data/tasks_parse.h"
#include "experiments/attention.h"
#include "experiments/exposure.h"
#include "experiments/side_by_side.h"
#include "experiments/transformer.h"  // inner_space
#include "io/cli.h"

using namespace s2a;

namespace {

// Text without the padding at its end.
std::string trim(const std::string& s) { return s.substr(0, s.find_last_not_of(' ') + 1); }

struct Options : TrainingFlags {
    Options() {  // the chapter's defaults for the shared flags
        epochs = 10;
        examples = 40000;
        test = 2000;
    }
    std::string decay = "inverse-sigmoid";  // ε's schedule, over the epochs
    double k = 6, c = 0.1, floor = 0;
    bool argmax = false;    // the model's own token: its most probable, or drawn from its softmax
    double alpha = 0.6;     // beam search's length penalty
    int show = 3;           // n-best lists to print
    std::string other = "dates";  // a second task for greedy against beam: chapter 3's dates, briefly trained
    int other_epochs = 1;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch6", "Chapter 6: exposure bias and search. An attention model parses arithmetic into prefix notation, "
                   "trained with teacher forcing and with scheduled sampling; then greedy decoding against beam search.");
    o.add_to(cli, "a file in the textbook format instead of generated expressions");
    cli.option("decay", &o.decay, "how ε falls: linear (k - c·i, not below --floor), exponential (k^i), inverse-sigmoid (k/(k+exp(i/k)))");
    cli.option("k", &o.k, "the decay's k").above(0);
    cli.option("c", &o.c, "the linear decay's slope c").at_least(0);
    cli.option("floor", &o.floor, "the linear decay's lowest ε").range(0, 1);
    cli.flag("argmax", &o.argmax, "feed the model's most probable token instead of a sample from its softmax");
    cli.option("alpha", &o.alpha, "beam search's length penalty α: rank by log P / ((5 + L) / 6)^α").range(0, 5);
    cli.option("show", &o.show, "test examples whose n-best lists to print").range(0, 100);
    cli.option("other", &o.other, "the second task for greedy against beam: addition, dates, copy (none: skip)");
    cli.option("other-epochs", &o.other_epochs, "training epochs on the second task").range(1, 1000);
    cli.require([&] {  // ε must stay a probability from the first epoch on
        if (o.decay == "inverse-sigmoid") return o.k >= 1 ? "" : fmt::format("--k must be at least 1 for the inverse-sigmoid decay, got {}", o.k);
        if (o.decay != "linear" && o.decay != "exponential") return fmt::format("--decay {}: known are linear, exponential, inverse-sigmoid", o.decay);
        return o.k <= 1 ? "" : fmt::format("--k must be at most 1 for the {} decay, got {}", o.decay, o.k);
    });
    cli.require([&] {
        for (const char* task : {"addition", "dates", "copy", "none"})
            if (o.other == task) return std::string();
        return fmt::format("--other {}: known are addition, dates, copy, none", o.other);
    });
    cli.parse(argc, argv);
    return guarded("ch6", [&] {
        if (o.quick) {
            o.quick_sizes(1500, 200, 32, 2);
            o.other_epochs = 1;
            o.show = 1;
        }
        o.create_out_folder();
        const auto start = std::chrono::steady_clock::now();
        const SamplingSchedule schedule{parse_decay(o.decay), o.k, o.c, o.floor};

        // 1. The new pieces on a toy scale: the data, how ε decays, and beam search's n-best list from an
        //    untrained model (the scores are log P and log P / lp(L); nothing is learned yet).
        const Split sets = split(load_or_generate("parse", o.data, o.examples, o.seed), o.test, o.seed);
        const Vocab vocab = make_vocab(sets.train);
        const int start_id = vocab.id('_'), end_id = inner_space(sets.train) ? -1 : vocab.id(' ');  // a space ends an answer
        fmt::print("1. Parsing: \"{}\" → \"{}\"; {} training and {} test examples, vocabulary {} ('{}'); "
                   "the answer ends at its first ' '\nε by epoch ({} decay):",
                   trim(sets.test.questions[0]), trim(sets.test.answers[0].substr(1)), sets.train.size(), sets.test.size(), vocab.size(),
                   vocab.chars(), o.decay);
        for (int i = 0; i < o.epochs; ++i) fmt::print(" {:.2f}", schedule.epsilon(i));
        AttentionConfig config = attention_config(o, vocab);
        config.end_id = end_id;
        Rng toy_init(o.seed);
        AttentionSeq2seq toy(config, toy_init);
        const Batch first = Batcher(sets.test, vocab, 1, true).batch(0);
        const BeamResult toy_beams = toy.nbest(first.src, start_id, first.tgt.shape[1] - 1, 3, Real(o.alpha));
        fmt::print("\nan untrained model's 3-best for \"{}\":\n", trim(sets.test.questions[0]));
        print_nbest(toy_beams.nbest[0], vocab, end_id);

        // 2. Two attention models from the same initial weights, fed the same batches in the same order.
        std::vector<Contender> models;
        for (const char* name : {"teacher forcing", "scheduled"}) {
            Rng init(o.seed);
            models.push_back(make_contender(name, std::make_unique<AttentionSeq2seq>(config, init), sets, vocab, o.batch,
                                            true, Real(o.lr), o.seed));
        }
        fmt::print("\n2. Two attention models (E {} H {}, {} parameters each), Adam lr {}, batch {}, {} epochs\n\n", o.embed,
                   o.hidden, models[0].model->num_parameters(), o.lr, o.batch, o.epochs);

        // 3. Training. An epoch: set the decoder's inputs (ε_i for the scheduled model, 1 for teacher forcing),
        //    one train_step per batch, then the exposure-bias meter (token accuracy with the true previous
        //    tokens given, and with the model's own) and the test exact match.
        std::vector<ExposureMeter> meter(models.size());
        const Epoch one_epoch = [&](Contender& c) {
            const int epoch = static_cast<int>(c.accuracy.size());
            ScheduledSampling sampling;
            sampling.epsilon = c.name == "scheduled" ? schedule.epsilon(epoch) : 1;
            sampling.argmax = o.argmax;
            sampling.seed = uint64_t(o.seed) + epoch;
            c.model->set_sampling(sampling);
            c.train->shuffle(c.shuffle);
            for (int i = 0; i < c.train->num_batches(); ++i) train_step(*c.model, c.train->batch(i), *c.optimizer, Real(o.clip));
            meter[&c - &models[0]].measure(*c.model, *c.test, c.start_id);
            return exact_match(*c.model, *c.test, c.start_id);
        };
        fmt::print("3. Training (free-running test exact match):\n");
        train_side_by_side(models, o.epochs, one_epoch);
        report_exposure(models, meter, o.out + "/ch6_exposure.svg");

        // 4. Search: greedy decoding against beam search for the better model, by answer length and by depth.
        Contender& best = models[1].accuracy.back() > models[0].accuracy.back() ? models[1] : models[0];
        std::vector<Decoded> decodings;
        for (int k : {1, 2, 4, 8}) decodings.push_back(decode_test(*best.model, *best.test, start_id, k, Real(o.alpha)));
        fmt::print("\n4. Greedy against beam search (α {}), the {} model:", o.alpha, best.name);
        for (const Decoded& d : decodings) fmt::print("  {} {:.2f}%", d.name, 100 * d.exact);
        std::vector<int> lengths, depths;
        for (const std::string& q : sets.test.questions) depths.push_back(paren_depth(q));
        for (const std::string& a : sets.test.answers) lengths.push_back(static_cast<int>(trim(a).size()) - 1);  // without '_'

        const auto groups = [](const std::vector<int>& g) { return *std::max_element(g.begin(), g.end()) + 1; };
        report_groups("Exact match by answer length", "length", decodings, lengths, groups(lengths), o.out + "/ch6_by_length.svg");
        report_groups("Exact match by nesting depth", "depth", decodings, depths, groups(depths), o.out + "/ch6_by_depth.svg");
        fmt::print("\nn-best lists (beam k=4):\n");
        for (int i = 0; i < std::min(o.show, sets.test.size()); ++i) {
            fmt::print("  {} → {}\n", trim(sets.test.questions[i]), trim(sets.test.answers[i].substr(1)));
            print_nbest(decodings[2].nbest[i], vocab, end_id);
        }

        // 5. A second task where search matters, with the same attention model, teacher forcing and an end symbol.
        if (o.other != "none") {
            const Split other = split(load_or_generate(o.other, "", o.quick ? 1500 : o.examples, o.seed), o.quick ? 200 : o.test, o.seed);
            const Vocab other_vocab = make_vocab(other.train);
            AttentionConfig other_config = attention_config(o, other_vocab);
            other_config.end_id = inner_space(other.train) ? -1 : other_vocab.id(' ');
            Rng init(o.seed);
            std::vector<Contender> second;
            second.push_back(make_contender(o.other, std::make_unique<AttentionSeq2seq>(other_config, init), other, other_vocab,
                                            o.batch, true, Real(o.lr), o.seed));
            fmt::print("\n5. {} with an end symbol, {} epochs (free-running test exact match):\n", o.other, o.other_epochs);
            train_side_by_side(second, o.other_epochs, [&](Contender& c) {
                c.train->shuffle(c.shuffle);
                for (int i = 0; i < c.train->num_batches(); ++i) train_step(*c.model, c.train->batch(i), *c.optimizer, Real(o.clip));
                return exact_match(*c.model, *c.test, c.start_id);
            });
            fmt::print("greedy against beam search (α {}) on {}:", o.alpha, o.other);
            for (int k : {1, 2, 4, 8})
                fmt::print("  {} {:.2f}%", k == 1 ? "greedy" : fmt::format("beam k={}", k),
                           100 * decode_test(*second[0].model, *second[0].test, second[0].start_id, k, Real(o.alpha)).exact);
            fmt::print("\n");
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nCurves: {0}/ch6_exposure.svg; breakdowns: {0}/ch6_by_length.svg, {0}/ch6_by_depth.svg. Total time {1:.1f} s.\n",
                   o.out, seconds);
        return 0;
    });
}
