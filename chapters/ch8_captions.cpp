// chapters/ch8_captions.cpp — Chapter 8: show, attend and tell. A convolutional encoder and attention over an image.
//
// Every encoder so far read text. Nothing in the encoder-decoder asks for that: the decoder needs states hs to
// attend over, and a CNN makes them from a picture (Xu et al., 2015). Its last feature map, Ho × Wo cells of H
// numbers each, is flattened into L = Ho · Wo rows and plays the part of hs; chapter 3's attention decoder then
// writes the caption, each word's weights choosing regions of the image as they chose source characters. The
// doubly stochastic regulariser asks every region to be looked at about once over the caption.
// The pictures are generated scenes of one or two coloured shapes (data/scenes.h) with captions such as "red
// circle left of blue square". Section 1 runs an untrained model on two images, showing every shape; then the
// training loop; then exact match and BLEU, greedy and beam, which captions fail and at which word, how much of
// each word's attention lands on the object it names, and overlays of the attention on a few test images.
//
// Dimensions: B batch, Hi × Wi image, L = Ho · Wo grid positions, H hidden, T caption steps, V words, k beam.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "experiments/captions.h"
#include "io/checkpoint.h"
#include "io/cli.h"
#include "models/train.h"

using namespace s2a;

namespace {

struct Options : TrainingFlags {
    Options() {  // the chapter's defaults for the shared flags
        epochs = 10, hidden = 64, batch = 64, examples = 14000, test = 2000, lr = 3e-3;
    }
    std::string channels = "16,32";  // the CNN's pooled blocks
    double lambda = 0;     // the doubly stochastic regulariser's weight (0: off; see the lesson)
    double decay = 0.8;    // the learning rate is multiplied by this after every epoch
    int beam = 3;          // beam search's k
    double alpha = 0.6;    // its length penalty
    int show = 4;          // test images drawn with their attention
    bool mean_pool = false;
    bool eval_only = false;
};

// "16,32" → {16, 32}; a bad list is a one-line error naming the flag.
std::vector<int> parse_channels(const std::string& text) {
    std::vector<int> channels;
    size_t at = 0;
    for (size_t comma; at <= text.size(); at = comma + 1) {
        comma = std::min(text.find(',', at), text.size());
        const std::string item = text.substr(at, comma - at);
        const bool digits = !item.empty() && item.size() < 6 && item.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoi(item) < 1 || std::stoi(item) > kMaxWidth)
            throw std::invalid_argument(fmt::format("--channels {}: '{}' is not a whole number from 1 to {}", text, item, kMaxWidth));
        channels.push_back(std::stoi(item));
    }
    if (channels.size() > 4) throw std::invalid_argument(fmt::format("--channels {}: at most 4 blocks (32 pixels → a 2×2 grid)", text));
    return channels;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    Cli cli("ch8", "Chapter 8: show, attend and tell. A CNN encoder, chapter 3's attention decoder over its feature grid, "
                   "captions of generated scenes of one or two shapes.");
    o.add_to(cli, "(not used: the scenes are generated)");
    cli.option("channels", &o.channels, "filters of each conv + pool block, comma-separated (each halves the grid)", "N,N");
    cli.option("lambda", &o.lambda, "weight λ of the doubly stochastic regulariser λ Σₗ (1 − Σₜ α_tl)² (0: off)").range(0, 100);
    cli.option("decay", &o.decay, "the learning rate's factor after each epoch").above(0).at_most(1);
    cli.option("beam", &o.beam, "beam search's k").range(1, 32);
    cli.option("alpha", &o.alpha, "beam search's length penalty α").range(0, 5);
    cli.option("show", &o.show, "test images to draw with each word's attention").range(0, 64);
    cli.flag("mean-pool", &o.mean_pool, "average the grid to one vector: the same decoder with nothing to attend to");
    cli.flag("eval-only", &o.eval_only, "load OUT/ch8_captioner.npz and evaluate it, no training");
    cli.require([&] { return o.data.empty() ? "" : "--data: chapter 8 draws its own scenes; it reads no data file"; });
    cli.parse(argc, argv);
    return guarded("ch8", [&] {
        if (!o.resume.empty()) throw std::invalid_argument("--resume: chapter 8 does not resume (it saves OUT/ch8_captioner.npz each epoch; --eval-only reloads it)");
        if (o.quick) {
            o.quick_sizes(600, 100, 16, 2);
            o.show = 2;
        }
        o.create_out_folder();

        // 1. An untrained captioner on two scenes (32×32 pixels, 5 palette colours): pixels → RGB + coordinates →
        //    CNN → the grid hs → one decoder step's attention over it, a weight per grid cell.
        const SceneOptions scenes;
        const int width = caption_width(scenes);  // T + 1: "_", at most 6 words, "."
        Rng draw(o.seed);
        const std::vector<Scene> two = {make_scene(scenes, draw), make_scene(scenes, draw)};
        CaptionerConfig config;
        config.V = static_cast<int>(kSceneWords.size()), config.E = o.embed, config.H = o.hidden, config.end_id = kEndWord;
        config.lambda = Real(o.lambda), config.mean_pool = o.mean_pool, config.channels = parse_channels(o.channels);
        Rng init(o.seed);
        Captioner model(config, init);
        const auto [Ho, Wo] = model.grid_size();
        const Batch toy = scene_batch(two, {0, 1}, width);
        auto [hs, state] = model.encode(toy.src);                                      // hs: (B, L, H)
        const Var keys = model.decoder.keys(hs);
        Tensor alpha;                                                                  // α₁: (B, 1, L)
        model.decoder.step(IndexTensor(Shape{2}, kStartWord), hs, keys, nullptr, state, &alpha);
        fmt::print("1. Two images, \"{}\" and \"{}\", through an untrained captioner\n"
                   "pixels {} palette ids → x {} (RGB, x, y) → CNN: conv 3×3 + ReLU + max-pool 2×2 per block {} → "
                   "last conv {} filters → grid {}×{} → hs {}\nfirst step: query h₀ {}, weights α₁ {} (sum 1 over "
                   "the L = {} cells), context {}\nα₁ · L of image 1, cell by cell (1 = an even share; untrained, "
                   "it looks nearly everywhere alike):\n", two[0].text(), two[1].text(), toy.src.shape.str(),
                   Shape{2, scenes.size, scenes.size, 5}.str(), fmt::join(config.channels, ", "), config.H, Ho, Wo, hs.shape().str(),
                   state.out.shape().str(), alpha.shape.str(), Ho * Wo, Shape{2, config.H}.str());
        for (int i = 0; i < Ho; ++i) {
            for (int j = 0; j < Wo; ++j) fmt::print(" {:5.2f}", alpha[i * Wo + j] * Ho * Wo);
            fmt::print("\n");
        }
        tape().clear();

        // 2. The data: a seeded split, no test image equal to a training image.
        const SceneSplit data = make_scene_split(o.examples - o.test, o.test, scenes, o.seed);
        int kinds[kCaptionKinds] = {};
        for (const Scene& s : data.test) ++kinds[int(caption_kind(s))];
        fmt::print("\n2. Scenes: {} training and {} test images of {}×{} pixels, 1 or 2 shapes; test captions by kind:",
                   data.train.size(), data.test.size(), scenes.size, scenes.size);
        for (int k = 0; k < kCaptionKinds; ++k)
            if (kinds[k]) fmt::print(" {} {}", caption_kind_name(CaptionKind(k)), kinds[k]);
        fmt::print("\n\n3. The captioner: channels {} → H {}, E {}, additive attention, Bahdanau wiring, λ {}{}; "
                   "{} parameters\n", fmt::join(config.channels, ", "), o.hidden, o.embed, o.lambda,
                   o.mean_pool ? ", the grid mean-pooled to one position" : "", model.num_parameters());

        // 4. Training: shuffle, one train_step per batch, the learning rate lowered after each epoch, the test
        //    exact match (greedy) and a checkpoint after each epoch.
        const std::string checkpoint = o.out + "/ch8_captioner.npz";
        Adam opt(model.parameters(), Real(o.lr));
        Rng shuffle(o.seed);
        std::vector<int> order(data.train.size());
        std::iota(order.begin(), order.end(), 0);
        if (o.eval_only) load(model, checkpoint);
        else fmt::print("\n4. Training: {} epochs of {} batches of {}, Adam lr {} × {} per epoch\n{:>6} {:>10} {:>12} {:>8}\n",
                        o.epochs, order.size() / o.batch, o.batch, o.lr, o.decay, "epoch", "loss", "exact match", "BLEU");
        for (int epoch = 1; epoch <= (o.eval_only ? 0 : o.epochs); ++epoch) {
            shuffle.shuffle(order);
            double loss = 0;
            int steps = 0;
            for (size_t i = 0; i + o.batch <= order.size(); i += o.batch, ++steps) {
                const std::vector<int> rows(order.begin() + i, order.begin() + i + o.batch);
                loss += train_step(model, scene_batch(data.train, rows, width), opt, Real(o.clip));
            }
            opt.set_lr(opt.lr() * Real(o.decay));
            const CaptionScores s = score_captions(model, data.test, width, 250);
            fmt::print("{:>6} {:>10.4f} {:>11.2f}% {:>8.3f}\n", epoch, loss / steps, 100 * s.exact_match, s.bleu.bleu);
            save(model, checkpoint);
            std::fflush(stdout);  // a row per epoch, also when the output goes to a file
        }

        // 5. The test images: greedy and beam, and which captions fail at which word.
        const CaptionScores greedy = score_captions(model, data.test, width, 250);
        const CaptionScores beam = score_captions(model, data.test, width, 250, o.beam, Real(o.alpha));
        fmt::print("\n5. Test captions:\n{:>14} {:>12} {:>8}\n{:>14} {:>11.2f}% {:>8.3f}\n{:>14} {:>11.2f}% {:>8.3f}\n\n",
                   "decoding", "exact match", "BLEU", "greedy", 100 * greedy.exact_match, greedy.bleu.bleu,
                   fmt::format("beam k={}", o.beam), 100 * beam.exact_match, beam.bleu.bleu);
        print_kind_table(errors_by_kind(data.test, greedy.predictions));

        // 6. Where the words look, and the overlays (a mean-pooled grid has one cell: nothing to measure).
        if (o.mean_pool) {
            fmt::print("\n6. --mean-pool: one position, so no attention to measure or draw.\n");
            return 0;
        }
        const AttentionOnObjects on = attention_on_objects(model, data.test, width, 250);
        fmt::print("\n6. Attention of the {} colour and shape words of the exactly right test captions: on average {:.3f} "
                   "of a word's weight lies on the cells of the object it names (spread evenly: {:.3f})\n", on.words,
                   on.on_object, on.chance);
        if (o.show) {
            const std::vector<Scene> few(data.test.begin(), data.test.begin() + std::min<size_t>(o.show, data.test.size()));
            write_attention_overlays(o.out + "/ch8_attention.svg", model, few, width);
            fmt::print("Overlays: {}/ch8_attention.svg; ", o.out);
        }
        fmt::print("checkpoint: {} (reload with --eval-only).\n", checkpoint);
        return 0;
    });
}
