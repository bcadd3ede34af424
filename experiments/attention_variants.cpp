// experiments/attention_variants.cpp — print_toy_batch, alignment_error, attention_flops, heat_maps, steps_to,
// report_steps_to_95.
#include "experiments/attention_variants.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "io/plot.h"

namespace s2a {

std::vector<std::string> variant_list(const std::string& list) {
    std::vector<std::string> names;
    for (size_t start = 0;;) {
        const size_t comma = list.find(',', start);
        names.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) return names;
        start = comma + 1;
    }
}

namespace {

// Chapter 7's models, one list for the names --models accepts and what each name builds: each attention by its
// own name (attend_name) alone, "guided" global attention with the guided loss, "guided-local-p" and
// "guided-location" local-p and location-aware attention with it.
struct Variant {
    std::string name;
    Attend attend;
    bool guided;
};

const std::vector<Variant>& variants() {
    static const std::vector<Variant> all = {{attend_name(Attend::Global), Attend::Global, false},
                                             {attend_name(Attend::LocalP), Attend::LocalP, false},
                                             {attend_name(Attend::Location), Attend::Location, false},
                                             {"guided", Attend::Global, true},
                                             {"guided-local-p", Attend::LocalP, true},
                                             {"guided-location", Attend::Location, true}};
    return all;
}

const Variant* find_variant(const std::string& name) {
    for (const Variant& v : variants())
        if (v.name == name) return &v;
    return nullptr;
}

std::string known_variants() {
    std::vector<std::string> names;
    for (const Variant& v : variants()) names.push_back(v.name);
    return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::string variant_list_problem(const std::string& list) {
    const std::vector<std::string> names = variant_list(list);
    for (size_t i = 0; i < names.size(); ++i) {
        if (!find_variant(names[i]))
            return fmt::format("--models: unknown model '{}' in '{}' (known: {})", names[i], list, known_variants());
        if (std::find(names.begin(), names.begin() + long(i), names[i]) != names.begin() + long(i))
            return fmt::format("--models: '{}' twice in '{}'", names[i], list);
    }
    return "";
}

AttentionConfig variant_config(AttentionConfig c, const std::string& name, Real guided_weight, Real guided_g) {
    const Variant* v = find_variant(name);
    if (!v) throw std::invalid_argument(fmt::format("unknown model '{}' (known: {})", name, known_variants()));
    c.attend = v->attend;
    c.guided_weight = v->guided ? guided_weight : 0;
    c.guided_g = guided_g;
    return c;
}

std::string describe_variant(const AttentionConfig& c) {
    const std::string attention = c.attend == Attend::LocalP     ? fmt::format("local-p (D = {})", c.window)
                                  : c.attend == Attend::Location ? fmt::format("location-aware ({} filters of width {})",
                                                                               c.location_filters, c.location_width)
                                                                 : std::string("global");
    if (c.guided_weight <= 0) return attention;
    return fmt::format("{} + guided loss (λ = {}, g = {})", attention, c.guided_weight, c.guided_g);
}

void print_toy_batch(uint64_t seed, Real g) {
    Rng rng(seed);
    const Var hs = constant(randn(Shape{2, 8, 4}, rng), "hs");  // hs: (B, S, H)
    const Var h = constant(randn(Shape{2, 1, 4}, rng), "h");    // h: (B, 1, H)
    const Tensor mask = lengths_mask({8, 5}, 8);                 // mask: (B, S)
    const AttentionWeight score(Score::Additive, 4, 4, rng);
    const Var keys = score.keys(hs);                             // W₂ hs: (B, S, A)
    LocalAttention local(score, 1, rng);                         // D = 1: windows of 3
    local.forward(h, hs, keys, &mask);                           // c: (B, 1, H)
    const LocationAwareAttention location(score, 2, 3, rng);     // F = 2 filters of width 3
    Tensor before(Shape{2, 8});                                  // α_{t−1}: where the previous step looked
    before[2] = before[8 + 3] = 1;
    fmt::print("1. Three attentions on a toy batch: hs {}, query h {}, sentence 2 of 5 real positions\n\n"
               "global, softmax over all 8 positions:\n{}\nlocal-p, D = 1: centres p_t {}, weights (3 positions, "
               "Gaussian-scaled):\n{}\nlocation-aware, the previous step looked at positions 2 and 3:\n{}\n"
               "the guide W for S = T = 6, g = {} (0 on the diagonal):\n{}\n\n",
               hs.shape().str(), h.shape().str(), score.forward(h, hs, &mask).value().str(), local.last_centres().str(),
               local.last_weights().str(), location.weights(h, keys, constant(before), &mask).value().str(), g,
               attention_guide({6}, {6}, 6, 6, g).str());
    tape().clear();
}

Alignment alignment_error(AttentionSeq2seq& model, const Batcher& test, int start_id, int pad_id) {
    double error = 0;
    int64_t letters = 0, hits = 0;
    for (int i = 0; i < test.num_batches(); ++i) {
        const Batch batch = test.batch(i);
        const int B = batch.src.shape[0], S = batch.src.shape[1], T = batch.tgt.shape[1] - 1;
        model.generate(batch.src, start_id, T);
        const Tensor& a = model.attention_map();  // (B, T, S)
        for (int b = 0; b < B; ++b)
            for (int t = 0; t < std::min(S, T) && batch.src[int64_t(b) * S + t] != pad_id; ++t) {  // the letters
                const Real* row = a.ptr() + (int64_t(b) * T + t) * S;
                const int looked = static_cast<int>(std::max_element(row, row + S) - row);
                error += std::abs(looked - t);
                hits += looked == t;
                ++letters;
            }
    }
    return letters ? Alignment{error / letters, double(hits) / letters} : Alignment{};
}

// Per scored position: the additive score's add, tanh and product with v (4A), the softmax (3); per position
// read: the weighted sum (2H).
double attention_flops(Attend attend, int S, int H, int D, const AttentionConfig& c) {
    const double A = H, query = 2.0 * H * A;  // h W₁
    const auto positions = [&](double n) { return n * (4 * A + 3 + 2 * H); };
    switch (attend) {
        case Attend::Global: return query + positions(S);
        case Attend::LocalP: {  // the centre: W_p h, tanh, · v_p, σ, · S_b (2HA + 3A + 3); the Gaussian: 5 per position
            const double W = 2 * D + 1;
            return 2.0 * H * A + 3 * A + 3 + query + positions(W) + 5 * W;
        }
        case Attend::Location:  // the convolution over α_{t−1} (2·Kc·F per position), U f (2·F·A), its add to the keys (A)
            return query + positions(S) + S * (2.0 * c.location_width * c.location_filters + 2.0 * c.location_filters * A + A);
    }
    return 0;
}

void heat_maps(AttentionSeq2seq& model, const std::string& name, const TextData& test, const Vocab& vocab, const std::string& path) {
    std::vector<HeatMap> maps;
    int shortest = 0, longest = 0;
    const auto length = [&](int i) { return static_cast<int>(test.questions[i].find_last_not_of(' ') + 1); };
    for (int i = 0; i < test.size(); ++i) {
        if (length(i) >= 8 && (length(shortest) < 8 || length(i) < length(shortest))) shortest = i;
        if (length(i) > length(longest)) longest = i;
    }
    for (int i : {shortest, longest}) {
        const Batch batch = Batcher(TextData{{test.questions[i]}, {test.answers[i]}}, vocab, 1, false).batch(0);
        const int S = batch.src.shape[1], n = length(i);
        const IndexTensor guess = model.generate(batch.src, vocab.id('_'), n);  // (1, n)
        HeatMap m{fmt::format("{}: \"{}\"", name, test.questions[i].substr(0, n)), {}, {}, {}};
        for (int s = 0; s < n; ++s) m.col_labels.push_back(vocab.ch(batch.src[s]));
        for (int t = 0; t < n; ++t) {
            m.row_labels.push_back(vocab.ch(guess[t]));
            for (int s = 0; s < n; ++s) m.values.push_back(model.attention_map()[int64_t(t) * S + s]);
        }
        if (i == shortest) fmt::print("\n{} (rows: the letters written)\n{}", m.title, heat_map_text(m, stdout_is_terminal()));
        maps.push_back(std::move(m));
    }
    write_heat_map(path, maps);
}

std::string steps_to(const Series& curve, double percent) {
    for (size_t k = 0; k < curve.y.size(); ++k)
        if (curve.y[k] >= percent) return fmt::format("{:.0f}", curve.x[k]);
    return "never";
}

void report_steps_to_95(std::vector<Contender>& models, const std::vector<Series>& curves,
                        const std::vector<AttentionSeq2seq*>& nets, int every, int pad_id) {
    const int width = name_width(models);
    fmt::print("\n(b) Guided attention: steps to 95% exact match (first 200 test strings, a point every {} steps), "
               "alignment on the test set\n{:>{}} {:>14} {:>22} {:>16}\n", every, "model", width, "steps to 95%",
               "mean |argmax − t|", "argmax = t");
    for (size_t m = 0; m < models.size(); ++m) {
        const Alignment al = alignment_error(*nets[m], *models[m].test, models[m].start_id, pad_id);
        fmt::print("{:>{}} {:>14} {:>22.3f} {:>15.2f}%\n", models[m].name, width, steps_to(curves[m], 95), al.error, 100 * al.on_target);
    }
}

}  // namespace s2a
