// experiments/attention.cpp — attention_config and show_heat_maps.
#include "experiments/attention.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "io/plot.h"

namespace s2a {

AttentionConfig attention_config(const TrainingFlags& f, const Vocab& vocab) {
    AttentionConfig c;
    c.V = vocab.size();
    c.E = f.embed;
    c.H = f.hidden;
    c.pad_id = vocab.id(' ');
    c.reversed_source = true;
    return c;
}

void show_heat_maps(AttentionSeq2seq& model, const Batcher& test, const TextData& data, const Vocab& vocab, int n,
                    const std::string& path) {
    const Batch batch = test.batch(0);
    const int T = batch.tgt.shape[1] - 1, S = batch.src.shape[1];
    const IndexTensor guess = model.generate(batch.src, vocab.id('_'), T);
    const Tensor& a = model.attention_map();  // (B, T, S)
    std::vector<HeatMap> maps;
    for (int i = 0; i < std::min(n, batch.src.shape[0]); ++i) {
        HeatMap m{fmt::format("\"{}\" → {}", data.questions[i], data.answers[i].substr(1)), {}, {}, {}};
        for (int s = 0; s < S; ++s) m.col_labels.push_back(vocab.ch(batch.src[i * S + s]));  // "9", or "年"
        for (int t = 0; t < T; ++t) {
            m.row_labels.push_back(vocab.ch(guess[i * T + t]));
            for (int s = 0; s < S; ++s) m.values.push_back(a[(int64_t(i) * T + t) * S + s]);
        }
        fmt::print("\n{} (source read reversed, left to right; rows: the answer written)\n{}", m.title,
                   heat_map_text(m, stdout_is_terminal()));
        maps.push_back(std::move(m));
    }
    write_heat_map(path, maps);
}

}  // namespace s2a
