// chapters/ch2_bottleneck.cpp — Chapter 2: the encoder's hidden-state matrix hs, and the bottleneck.
//
// In chapter 1 the decoder only ever sees the encoder's last hidden state: one vector of H numbers for the
// whole input, however long. This program measures what that costs. It trains the chapter-1 model
// (peeky decoder, reversed input) to copy strings of 4 to 36 letters and prints exact match by input length.
// Then it looks at what the encoder computes anyway and throws away: hs (B, S, H), one state per input
// position, drawn as a heat map of the cosine similarities between its rows. Last, the first and most naive
// use of hs: hand the decoder the plain average of its rows instead of the last one.
//
// Dimensions: B batch, S source length, T answer length, V vocabulary, E embedding, H hidden.
#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "autodiff/ops.h"
#include "autodiff/profile.h"
#include "experiments/side_by_side.h"
#include "io/cli.h"

using namespace s2a;

namespace {

// cos(hsᵢ, hsⱼ) for every pair of the letters' positions in one example's hs (S, H), as a heat map. The
// source was read reversed, so its padding came first; only the positions of its letters are drawn.
HeatMap similarity_map(const Tensor& hs, int example, const std::string& source) {
    const int S = hs.dim(1), H = hs.dim(2), letters = static_cast<int>(source.find_last_not_of(' ') + 1);
    const Real* rows = hs.ptr() + int64_t(example) * S * H;
    HeatMap m{fmt::format("cosine similarity of hs rows for \"{}\" (read reversed)", source), {}, {}, {}};
    auto norm = [&](int i) {
        double n = 0;
        for (int k = 0; k < H; ++k) n += double(rows[i * H + k]) * rows[i * H + k];
        return std::sqrt(n);
    };
    for (int i = S - letters; i < S; ++i) {
        m.row_labels.push_back(std::string(1, source[S - 1 - i]));
        m.col_labels.push_back(std::string(1, source[S - 1 - i]));
        for (int j = S - letters; j < S; ++j) {
            double dot = 0;
            for (int k = 0; k < H; ++k) dot += double(rows[i * H + k]) * rows[j * H + k];
            m.values.push_back(std::max(0.0, dot / (norm(i) * norm(j) + 1e-12)));
        }
    }
    return m;
}

}  // namespace

int main(int argc, char** argv) {
    TrainingFlags f;
    f.epochs = 8;
    f.examples = 20000;
    f.test = 2000;
    Cli cli("ch2", "Chapter 2: the fixed-vector bottleneck, measured by input length; what hs holds; the average of hs.");
    f.add_to(cli, "a file in the textbook format instead of the generated copy task");
    cli.parse(argc, argv);
    return guarded("ch2", [&] {
        if (f.quick) f.quick_sizes(1000, 200, 32, 1);
        f.create_out_folder();
        const auto start = std::chrono::steady_clock::now();

        // 1. The data: strings of 4 to 36 letters, to be copied; reversed on the way in, as in chapter 1.
        const Split sets = split(load_or_generate("copy", f.data, f.examples, f.seed), f.test, f.seed);
        const Vocab vocab = make_vocab(sets.train);
        fmt::print("Copy task: {} training and {} test strings of {} to {} letters, E {} H {} batch {}\n\n",
                   sets.train.size(), sets.test.size(), kCopyMinLength, kCopyMaxLength, f.embed, f.hidden, f.batch);

        // 2. Chapter 1's best model (peeky, reversed input), twice from the same weights: the decoder gets the
        //    encoder's last state, or the mean of all its states hs.
        std::vector<Contender> models;
        Rng init(f.seed);
        auto last_state = std::make_unique<Seq2seq>(vocab.size(), f.embed, f.hidden, true, init, Summary::Last);
        Seq2seq& model = *last_state;  // kept to look inside its encoder after training
        models.push_back(make_contender("last state", std::move(last_state), sets, vocab, f.batch, true, Real(f.lr), f.seed));
        Rng same_init(f.seed);
        auto mean_of_hs = std::make_unique<Seq2seq>(vocab.size(), f.embed, f.hidden, true, same_init, Summary::Mean);
        models.push_back(make_contender("mean of hs", std::move(mean_of_hs), sets, vocab, f.batch, true, Real(f.lr), f.seed));

        if (f.profile) {  // --profile: where an epoch of the last-state model's training spends its time, then stop
            profile_epoch(models[0].train->num_batches(), [&](int i) {
                train_step(*models[0].model, models[0].train->batch(i), *models[0].optimizer, Real(f.clip));
            });
            return 0;
        }

        // 3. Training, as in chapter 1: one epoch of one model is this loop; the models share the cores.
        resumable(models, f, "ch2");
        train_side_by_side(models, f.epochs, [&](Contender& c) {
            for (; c.batch < c.train->num_batches(); ++c.batch) train_step(*c.model, c.train->batch(c.batch), *c.optimizer, Real(f.clip));
            end_epoch(c);
            return exact_match(*c.model, *c.test, c.start_id);
        });

        // 4. The bottleneck, measured: exact match by input length.
        report_by_length(models, accuracy_by_length(models, sets.test, vocab, 4),
                         "Peeky seq2seq copying strings: exact match by input length", f.out + "/ch2_by_length.svg");

        // 5. What hs holds: for the first test string, how alike the encoder's states at each position are.
        const Batch first = models[0].test->batch(0);
        NoGrad no_grad;
        const Var hs = model.encoder.forward(first.src);  // hs: (B, S, H)
        fmt::print("\nThe encoder's hidden states for a batch: hs {} — one H-vector per source position; the decoder "
                   "above only ever got hs[:, S-1].\n", hs.shape().str());
        const std::string source = sets.test.questions[0];
        const HeatMap m = similarity_map(hs.value(), 0, source);
        fmt::print("{}\n{}", m.title, heat_map_text(m, stdout_is_terminal()));
        write_heat_map(f.out + "/ch2_hs_similarity.svg", {m});
        plot_accuracy(models, "Chapter 2: copy task, test exact match", f.out + "/ch2_accuracy.svg");
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("\nPlots: {0}/ch2_by_length.svg, {0}/ch2_hs_similarity.svg, {0}/ch2_accuracy.svg. Total time {1:.1f} s.\n",
                   f.out, seconds);
        return 0;
    });
}
