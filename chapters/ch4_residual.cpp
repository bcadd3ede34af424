// chapters/ch4_residual.cpp — Chapter 4: residual connections, deep LSTM stacks that still train.
//
// Chapter 3's attention model has one LSTM layer in the encoder and one in the decoder. Stacking more should
// let it compute more, but the gradient that reaches a low layer has passed through every layer above it:
// ∂loss/∂in_1 = ∂loss/∂out_L · J_L ⋯ J_2 with J_l = ∂out_l/∂in_l, and at initialisation each J_l shrinks
// what passes through it (its gates sit near ½ and multiply), so the product fades with depth. A residual
// connection (as in GNMT) adds a layer's input to its output, out_l = LSTM_l(in_l) + in_l, from the second
// layer up: then J_l = I + ∂LSTM_l/∂in_l, and the identity is a straight path down that no layer can shrink.
//
// The program first measures this: for models of depth 1, 4 and 8, plain and residual, one batch, one
// backward pass, and the gradient norm of every layer of the encoder and the decoder (nn/grad_norms.h) —
// bottom/top is how much of the gradient survives the trip down. The plain and residual model of one depth
// start from identical weights (same seed), so the wiring is the only difference. Then it trains all of them
// on dates with the same budget (same data, batches and number of steps) and prints the test accuracy curves.
// Depth 1 has no layer to skip, so its plain and residual models are the same model, trained once. The
// helpers (the variants, the gradient norm of every layer, its table and plot) are in experiments/depth.h.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden, L layers.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "autodiff/profile.h"
#include "experiments/ask.h"
#include "experiments/attention.h"
#include "experiments/depth.h"
#include "io/cli.h"
#include "models/attention_seq2seq.h"

using namespace s2a;

int main(int argc, char** argv) {
    TrainingFlags o;
    o.epochs = 4;
    o.hidden = 64;
    o.lr = 3e-3;
    double dropout = 0;
    std::string depths = "1,4,8";
    AskFlags ask;  // --load FILE --ask: question a trained model instead (experiments/ask.h)
    Cli cli("ch4", "Chapter 4: deep LSTM stacks with and without residual connections: gradient norm per layer "
                   "at initialisation, then test accuracy under the same training budget.");
    o.add_to(cli, "a file in the textbook format instead of generated dates");
    cli.option("depths", &depths, "LSTM layers in the encoder and in the decoder: one plain and one residual model each", "LIST");
    cli.option("dropout", &dropout, "dropout between LSTM layers").at_least(0).below(1);
    ask.add_to(cli);
    cli.parse(argc, argv);
    return guarded("ch4", [&] {
        if (o.quick) {
            o.quick_sizes(1000, 100, 16, 1);
            depths = "1,3";
        }
        if (ask.wanted()) return question_model(ask, o, "dates");
        o.create_out_folder();
        const auto start = std::chrono::steady_clock::now();

        // 1. The data: chapter 3's dates; the models: every depth plain and residual.
        const std::vector<Variant> models_to_build = variants(parse_depths(depths));
        const Split sets = split(load_or_generate("dates", o.data, o.examples, o.seed), o.test, o.seed);
        const Vocab vocab = make_vocab(sets.train);
        const Batcher probe(sets.train, vocab, o.batch, true);
        const AttentionConfig base = attention_config(o, vocab);  // chapter 3's model, its depth still 1
        fmt::print("Dates: {} training and {} test examples, vocabulary {}, E {} H {} batch {}, Adam lr {}, dropout {}\n"
                   "Every model: {} epochs of {} steps.\n\n", sets.train.size(), sets.test.size(), vocab.size(), o.embed,
                   o.hidden, o.batch, o.lr, dropout, o.epochs, probe.num_batches());

        // 2. Why depth hurts: the gradient norm of every layer after one backward pass, at initialisation.
        fmt::print("Gradient norm of each LSTM layer at initialisation (the first training batch, one backward pass):\n");
        std::vector<LayerNorms> norms;
        for (const Variant& v : models_to_build)
            norms.push_back(measure(*deep_model(base, v, dropout, o.seed), v, probe.batch(0)));
        report_norms(norms, o.out + "/ch4_grad_norms.svg");

        // 3. Training, every model on the same batches: one epoch of one model is this loop (as in chapter 1);
        //    the models share the cores.
        fmt::print("\nTraining every model on the same batches:\n");
        std::vector<Contender> models;
        for (const Variant& v : models_to_build)
            models.push_back(
                make_contender(v.name(), deep_model(base, v, dropout, o.seed), sets, vocab, o.batch, true, Real(o.lr), o.seed));
        resumable(models, o, "ch4");

        if (o.profile) {  // --profile: where an epoch of the first model's training spends its time, then stop
            profile_epoch(models[0].train->num_batches(), [&](int i) {
                train_step(*models[0].model, models[0].train->batch(i), *models[0].optimizer, Real(o.clip));
            });
            return 0;
        }

        train_side_by_side(models, o.epochs, [&](Contender& c) {
            for (; c.batch < c.train->num_batches(); ++c.batch) train_step(*c.model, c.train->batch(c.batch), *c.optimizer, Real(o.clip));
            end_epoch(c);
            return exact_match(*c.model, *c.test, c.start_id);
        });

        // 4. What depth and residual connections did to accuracy.
        for (const Contender& c : models) save_model(c, vocab, checkpoint_path(o.out, "ch4", c.name));
        plot_accuracy(models, "Chapter 4: dates, test exact match by depth", o.out + "/ch4_accuracy.svg");
        report_depths(models, models_to_build);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nPlots: {0}/ch4_grad_norms.svg, {0}/ch4_accuracy.svg; checkpoints: {0}/ch4_*.npz. Total time {1:.1f} s.\n",
                   o.out, seconds);
        return 0;
    });
}
