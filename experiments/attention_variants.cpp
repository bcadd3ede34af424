// experiments/attention_variants.cpp — alignment_error, attention_flops, heat_maps.
#include "experiments/attention_variants.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "io/plot.h"

namespace s2a {

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

}  // namespace s2a
