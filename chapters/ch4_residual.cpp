// chapters/ch4_residual.cpp — Chapter 4: residual connections, deep LSTM stacks that still train.
//
// DRAFT
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden, L layers.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "autodiff/ops.h"
#include "chapters/cli.h"
#include "chapters/experiment.h"
#include "models/attention_seq2seq.h"
#include "nn/grad_norms.h"

using namespace s2a;

namespace {

struct Options {
    int seed = 1, epochs = 3, embed = 16, hidden = 128, batch = 128, examples = 20000, n_test = 2000;
    double lr = 1e-3, clip = 5, dropout = 0;
    std::string data, out = "out", depths = "1,4,8";
    bool quick = false;
};

std::vector<int> parse_depths(const std::string& text) {
    std::vector<int> depths;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        size_t used = 0;
        int d = 0;
        try {
            d = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || d < 1) throw std::invalid_argument(fmt::format("--depths: '{}' is not a depth ≥ 1", item));
        depths.push_back(d);
    }
    if (depths.empty()) throw std::invalid_argument("--depths: give at least one depth, e.g. 1,4,8");
    return depths;
}

// Each model is built from its own Rng(seed): the plain and the residual model of one depth start from the
// very same weights, so whatever differs between them is the wiring alone.
std::unique_ptr<AttentionSeq2seq> deep_model(const Options& o, int depth, bool residual, const Vocab& vocab) {
    AttentionConfig c;
    c.V = vocab.size(), c.E = o.embed, c.H = o.hidden, c.layers = depth, c.residual = residual;
    c.dropout = Real(o.dropout), c.pad_id = vocab.id(' '), c.reversed_source = true;
    Rng rng(o.seed);
    return std::make_unique<AttentionSeq2seq>(c, rng);
}

std::string model_name(int depth, bool residual) {
    return depth == 1 ? "1 layer" : fmt::format("{} {}", depth, residual ? "residual" : "plain");
}

// The gradient norm of every layer of the encoder and of the decoder after one backward pass.
struct LayerNorms {
    std::string name;
    std::vector<double> encoder, decoder;  // index 0 is the bottom layer
};

LayerNorms measure(AttentionSeq2seq& model, const Batch& batch, const std::string& name) {
    model.zero_grad();
    backward(model.loss(batch.src, batch.tgt));
    tape().clear();
    LayerNorms r{name, {}, {}};
    for (const GradNorm& g : layer_grad_norms(model, "encoder.lstm.layer")) r.encoder.push_back(g.norm);
    for (const GradNorm& g : layer_grad_norms(model, "decoder.lstm.layer")) r.decoder.push_back(g.norm);
    model.zero_grad();
    return r;
}

void print_norms(const std::vector<LayerNorms>& all, int max_depth) {
    fmt::print("{:<12} {:<8}", "model", "stack");
    for (int l = 1; l <= max_depth; ++l) fmt::print(" {:>8}", fmt::format("layer {}", l));
    fmt::print("  {:>10}\n", "bottom/top");
    for (const LayerNorms& m : all)
        for (const auto& [stack, norms] : {std::pair{"encoder", &m.encoder}, std::pair{"decoder", &m.decoder}}) {
            fmt::print("{:<12} {:<8}", m.name, stack);
            for (int l = 0; l < max_depth; ++l)
                fmt::print(" {:>8}", l < int(norms->size()) ? fmt::format("{:.2e}", (*norms)[l]) : "");
            fmt::print("  {:>10.3g}\n", norms->front() / norms->back());
        }
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch4", "Chapter 4: deep LSTM stacks with and without residual connections.");
    cli.option("seed", &o.seed, "random seed");
    cli.option("epochs", &o.epochs, "training epochs (the same budget for every model)");
    cli.option("data", &o.data, "a file in the textbook format instead of generated dates", "FILE");
    cli.option("examples", &o.examples, "generated examples (when no --data)");
    cli.option("test", &o.n_test, "examples held out for testing");
    cli.option("depths", &o.depths, "LSTM layers in the encoder and decoder, one model each", "LIST");
    cli.option("embed", &o.embed, "embedding size E");
    cli.option("hidden", &o.hidden, "hidden size H");
    cli.option("batch", &o.batch, "batch size B");
    cli.option("lr", &o.lr, "Adam learning rate");
    cli.option("clip", &o.clip, "gradient clipping: max global norm");
    cli.option("dropout", &o.dropout, "dropout between layers");
    cli.option("out", &o.out, "folder for plots", "DIR");
    cli.flag("quick", &o.quick, "tiny sizes, a few seconds (for tests)");
    cli.parse(argc, argv);
    return guarded("ch4", [&] {
        if (o.quick) o.examples = 1000, o.n_test = 100, o.hidden = 16, o.epochs = 1, o.depths = "1,3";
        const auto start = std::chrono::steady_clock::now();
        const std::vector<int> depths = parse_depths(o.depths);
        const Split sets = split(load_or_generate("dates", o.data, o.examples, o.seed), o.n_test, o.seed);
        const Vocab vocab = make_vocab(sets.train);
        const int start_id = vocab.id('_');
        fmt::print("Dates: {} training and {} test examples, vocabulary {}, E {} H {} batch {}\n\n", sets.train.size(),
                   sets.test.size(), vocab.size(), o.embed, o.hidden, o.batch);

        const Batch first = Batcher(sets.train, vocab, o.batch, true).batch(0);
        std::vector<LayerNorms> norms;
        int max_depth = 0;
        for (int depth : depths)
            for (bool residual : {false, true}) {
                if (depth == 1 && residual) continue;
                max_depth = std::max(max_depth, depth);
                auto model = deep_model(o, depth, residual, vocab);
                norms.push_back(measure(*model, first, model_name(depth, residual)));
            }
        print_norms(norms, max_depth);

        std::vector<Contender> models;
        for (int depth : depths)
            for (bool residual : {false, true}) {
                if (depth == 1 && residual) continue;
                models.push_back(make_contender(model_name(depth, residual), deep_model(o, depth, residual, vocab), sets,
                                                vocab, o.batch, true, Real(o.lr)));
            }
        train_side_by_side(models, o.epochs, Real(o.clip), start_id, o.seed);
        for (const Contender& c : models) fmt::print("  {:<12} {:6.2f}%  ({:.1f} s)\n", c.name, 100 * c.accuracy.back(), c.seconds);
        std::filesystem::create_directories(o.out);
        plot_accuracy(models, "Chapter 4: dates, test exact match", o.out + "/ch4_accuracy.svg");
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("total time {:.1f} s\n", seconds);
        return 0;
    });
}
