// chapters/ch7_variants.cpp — Chapter 7: where attention looks. Local-p, location-aware and guided attention.
//
// Chapter 3's attention scores every source position at every step and knows nothing of order: to copy the
// next letter, the decoder must find it afresh among all S positions. This chapter gives attention a sense of
// place in three ways (nn/attention_variants.h): local-p attention predicts a centre p_t and scores only the
// 2D + 1 positions around it (a step costs O(D), not O(S)); location-aware attention lets the score see where the
// previous step looked, through a convolution over its weights; the guided attention loss penalises weight far
// from the diagonal while training. The program runs the new layers on a toy batch (section 1), then trains
// four models from the same weights on chapter 2's copy task stretched to 60 letters: global, local-p,
// location-aware, and global with the guided loss. Part (a) compares the first three by length and by cost per
// step; part (b) the guided model with the unguided global one: steps to 95% and the alignment error. Part (c)
// copies what the vocabulary never held: names unseen in training, written by plain attention and by the
// pointer-generator (models/pointer_generator.h), which can point at a source word instead of generating it.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden, D half-width.
#include <fmt/format.h>

#include <algorithm>

#include "autodiff/profile.h"
#include "experiments/attention_variants.h"
#include "experiments/pointer.h"
#include "experiments/side_by_side.h"
#include "io/cli.h"
#include "models/attention_seq2seq.h"

using namespace s2a;

namespace {

struct Options : TrainingFlags {
    Options() {  // the chapter's defaults for the shared flags
        epochs = 4, hidden = 64, batch = 64, examples = 13000, test = 1000, lr = 3e-3;
    }
    int max_length = 60, letters = kCopyLetters, window = 5, every = 25;
    double guided_weight = 0.1, guided_g = 0.2;
    std::string models = "global,local-p,location,guided";
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch7", "Chapter 7: local-p, location-aware and guided attention on the copy task (4 to 60 letters); the "
                        "pointer-generator writing names never seen in training.");
    o.add_to(cli, "a file in the textbook format instead of the generated copy task (answer = question)");
    cli.option("max-length", &o.max_length, "the longest string to copy").range(kCopyMinLength, 1000);
    cli.option("letters", &o.letters, "the copy task's alphabet: its first N letters a..").range(2, 26);
    cli.option("window", &o.window, "local-p: the half-width D of the window (2D + 1 positions)").range(1, 100);
    cli.option("guided-weight", &o.guided_weight, "the weight λ of the guided attention loss").above(0).at_most(100);
    cli.option("guided-g", &o.guided_g, "the width g of the guide").above(0).at_most(1);
    cli.option("every", &o.every, "training steps between two points of the learning curves").range(1, 100000);
    cli.option("models", &o.models, "the models to train, comma-separated, from global, local-p, location, guided, guided-local-p, guided-location", "LIST");
    cli.require([&] { return variant_list_problem(o.models); });
    cli.parse(argc, argv);
    return guarded("ch7", [&] {
        if (!o.resume.empty()) throw std::invalid_argument("--resume: chapter 7 does not resume (its curves are taken within epochs)");
        if (o.quick) {
            o.quick_sizes(700, 100, 16, 1);
            o.max_length = std::min(o.max_length, 12), o.every = 5;
        }
        o.create_out_folder();

        // 1. The new layers on a toy batch (experiments/attention_variants.h): two sentences of 8 source states of
        //    size 4, the second with 5 real ones, one query each; global, local-p and location-aware weights.
        print_toy_batch(o.seed, Real(o.guided_g));

        // 2. The data: strings of 4 to 60 letters a..j (--letters), copied; the source is not reversed (the
        //    alignment is the diagonal), padding masked, the space ends each answer.
        const TextData all = o.data.empty()
                                 ? pad(make_copy(o.examples, kCopyMinLength, o.max_length, o.seed, o.letters), o.max_length, o.max_length)
                                 : read_text(o.data);
        const Split sets = split(all, std::min(o.test, all.size() - 1), o.seed);
        const Vocab vocab = make_vocab(sets.train);
        TextData dev = sets.test;  // the curves' points: the first 200 test strings
        dev.questions.resize(std::min(200, dev.size()));
        dev.answers.resize(dev.questions.size());
        dev.lines.clear();
        const Batcher dev_batches(dev, vocab, o.batch, false);
        const std::string what =
            o.data.empty() ? fmt::format("Copy task: {} training and {} test strings of {} to {} letters a..{}", sets.train.size(),
                                         sets.test.size(), kCopyMinLength, o.max_length, char('a' + o.letters - 1))
                           : fmt::format("{}: {} training and {} test examples", o.data, sets.train.size(), sets.test.size());
        fmt::print("2. {}, E {} H {} batch {}, Adam lr {}\n\n", what, o.embed, o.hidden, o.batch, o.lr);

        // 3. The models (--models; by default all four) from the same initial weights (a variant's own parameters
        //    are drawn after the shared ones), Luong wiring, additive score. FLOPs of one decoder step's
        //    attention, counted from the shapes.
        std::vector<Contender> models;
        std::vector<AttentionSeq2seq*> nets;
        AttentionConfig c;
        c.V = vocab.size(), c.E = o.embed, c.H = o.hidden, c.score = Score::Additive, c.pad_id = c.end_id = vocab.id(' ');
        c.window = o.window;
        for (const std::string& name : variant_list(o.models)) {
            Rng init(o.seed);
            auto model = std::make_unique<AttentionSeq2seq>(variant_config(c, name, Real(o.guided_weight), Real(o.guided_g)), init);
            nets.push_back(model.get());
            models.push_back(make_contender(name, std::move(model), sets, vocab, o.batch, false, Real(o.lr), o.seed));
        }
        const int width = name_width(models);  // the model column
        std::vector<std::string> described;
        for (const AttentionSeq2seq* net : nets) described.push_back(describe_variant(net->config()));
        fmt::print("3. Models: {}\n{:>{}} {:>12} {:>17} {:>17}\n", fmt::join(described, ", "), "model", width, "parameters",
                   "FLOPs/step S=60", "FLOPs/step S=600");
        for (size_t m = 0; m < models.size(); ++m) {
            const Attend a = nets[m]->config().attend;
            fmt::print("{:>{}} {:>12} {:>17.0f} {:>17.0f}\n", models[m].name, width, nets[m]->num_parameters(),
                       attention_flops(a, 60, o.hidden, o.window, c), attention_flops(a, 600, o.hidden, o.window, c));
        }
        if (o.profile) {  // --profile: where an epoch of the first model's training goes, then stop
            profile_epoch(models[0].train->num_batches(), [&](int i) { train_step(*nets[0], models[0].train->batch(i), *models[0].optimizer, Real(o.clip)); });
            return 0;
        }

        // 4. Training, side by side, one model per core: an epoch is this loop; every `every` steps a point of the
        //    learning curve (exact match on the first 200 test strings), after the epoch the whole test set.
        std::vector<Series> curves;
        for (const Contender& m : models) curves.push_back({m.name, {}, {}});
        fmt::print("\n4. Training: {} epochs of {} steps\n", o.epochs, models[0].train->num_batches());
        train_side_by_side(models, o.epochs, [&](Contender& m) {
            Series& curve = curves[&m - models.data()];
            for (; m.batch < m.train->num_batches(); ++m.batch) {
                train_step(*m.model, m.train->batch(m.batch), *m.optimizer, Real(o.clip));
                if (m.optimizer->steps() % o.every) continue;
                curve.x.push_back(static_cast<double>(m.optimizer->steps()));
                curve.y.push_back(100 * exact_match(*m.model, dev_batches, m.start_id));
            }
            end_epoch(m);
            return exact_match(*m.model, *m.test, m.start_id);
        });
        write_line_plot(o.out + "/ch7_curves.svg", {"Chapter 7: copy task, exact match on 200 test strings", "training steps",
                                                    "exact match (%)", curves});

        // 5. Part (a): exact match by length, and where each model looked.
        report_by_length(models, accuracy_by_length(models, sets.test, vocab, 8),
                         fmt::format("(a) Copying {} to {} letters: exact match by input length", kCopyMinLength, o.max_length),
                         o.out + "/ch7_by_length.svg");
        for (size_t m = 0; m < models.size(); ++m)
            heat_maps(*nets[m], models[m].name, sets.test, vocab, fmt::format("{}/ch7_heat_maps_{}.svg", o.out, models[m].name));

        // 6. Part (b): the guided loss against none, same weights, same batches: steps to 95%, and alignment.
        report_steps_to_95(models, curves, nets, o.every, c.pad_id);

        // 7. Part (c): names never seen in training (data/tasks_names.h), plain attention against the
        //    pointer-generator, same weights, same batches (experiments/pointer.h).
        fmt::print("\n(c) Copying what was never seen: plain attention against the pointer-generator\n");
        const PointerResult p = pointer_experiment(o.seed, o.out, o.quick);
        fmt::print("Exact match on the {} test answers with an unseen name: plain attention {:.1f}%, pointer-generator "
                   "{:.1f}%\n", p.unseen, 100 * p.plain.unseen, 100 * p.pointer.unseen);
        fmt::print("\nPlots: {0}/ch7_curves.svg, {0}/ch7_by_length.svg, {0}/ch7_heat_maps_<model>.svg, {0}/ch7_pointer.svg.\n",
                   o.out);
        return 0;
    });
}
