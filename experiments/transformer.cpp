// experiments/transformer.cpp — chapter 5's harness: the Transformer contender, greedy and beam
// scores, every head drawn.
#include "experiments/transformer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/utf8.h"
#include "models/bleu.h"

namespace s2a {

bool inner_space(const TextData& data) {
    for (const std::string& a : data.answers) {
        const std::vector<int> tokens = bleu_tokens(a);
        if (std::find(tokens.begin(), tokens.end(), ' ') != tokens.end()) return true;
    }
    return false;
}

Contender transformer_contender(std::unique_ptr<TransformerSeq2seq> model, const WarmupSchedule& schedule, const Split& sets,
                                const Vocab& vocab, int batch, uint64_t seed) {
    Contender c = make_contender("transformer", std::move(model), sets, vocab, batch, false, 0, seed);
    c.optimizer = std::make_unique<Adam>(c.model->parameters(), 0, Real(0.9), Real(0.98), Real(1e-9));
    c.optimizer->set_schedule(schedule);
    return c;
}

Scores evaluate(const Decoding& decode, const Batcher& batches, const TextData& test, const Vocab& vocab) {
    Scores s;
    std::vector<std::vector<int>> hyps, refs;
    for (int i = 0; i < batches.num_batches(); ++i) {
        const Batch b = batches.batch(i);
        const int T = b.tgt.shape[1] - 1;
        const IndexTensor g = decode(b.src, T);  // (B, T)
        for (int r = 0; r < b.src.shape[0]; ++r) s.guesses.emplace_back(g.data.begin() + r * T, g.data.begin() + (r + 1) * T);
    }
    for (size_t i = 0; i < s.guesses.size(); ++i) {
        const std::string guess = vocab.decode(s.guesses[i]);
        const std::string answer = test.answers[i].substr(1);
        s.exact += guess == answer;
        hyps.push_back(bleu_tokens(guess));
        refs.push_back(bleu_tokens(answer));
    }
    s.exact /= std::max<size_t>(s.guesses.size(), 1);
    s.bleu = corpus_bleu(hyps, refs).bleu;
    return s;
}

// Every head of every attention for test example 0; the maps are the weights each attention kept from one
// forward pass of the model on its own answer.
void show_heads(TransformerSeq2seq& model, const Batcher& test, const Vocab& vocab, const std::string& path, bool print) {
    const IndexTensor src = test.batch(0).src;  // (B, S)
    const int T = test.target_len() - 1, S = src.shape[1], h = model.config().heads;
    const IndexTensor guess = model.generate(src, vocab.id('_'), T);  // (B, T)
    IndexTensor tgt_in(Shape{src.shape[0], T}, vocab.id('_'));        // '_' + the model's own answer, for the maps
    for (int b = 0; b < src.shape[0]; ++b) std::copy_n(guess.data.begin() + b * T, T - 1, tgt_in.data.begin() + b * T + 1);
    {
        NoGrad no_grad;
        model.eval();
        model.logits(src, tgt_in);
        model.train();
    }
    // The texts as characters (code points), so that a position is a character even where UTF-8 takes 3 bytes.
    std::u32string source, answer;
    for (int s = 0; s < S; ++s) source += utf8_decode(vocab.ch(src[s]));
    for (int t = 0; t < T; ++t) answer += utf8_decode(vocab.ch(guess[t]));
    // The maps leave the padding out: source columns first..last, answer rows 0..t_len-1.
    const int first = static_cast<int>(std::min(source.find_first_not_of(U' '), source.size() - 1));
    const int s_len = static_cast<int>(source.find_last_not_of(U' ') + 1) - first;
    const int t_len = std::max<int>(1, static_cast<int>(answer.find_last_not_of(U' ') + 1));
    auto labels = [](const std::u32string& text, int from, int n) {
        std::vector<std::string> out;
        for (int i = from; i < from + n; ++i) out.push_back(utf8_encode(text[i]));
        return out;
    };
    const std::vector<std::string> src_cols = labels(source, first, s_len), ans_rows = labels(answer, 0, t_len),
                                   in_cols = labels(U"_" + answer, 0, t_len);
    // w (B, h, Tq, Tk) → sentence 0, head j: the rows × cols block starting at key column `col0`
    auto map = [&](const std::string& title, const Tensor& w, int j, const std::vector<std::string>& rows, int row0,
                   const std::vector<std::string>& cols, int col0) {
        HeatMap m{title, rows, cols, {}};
        const int Tq = w.dim(2), Tk = w.dim(3);
        for (size_t r = 0; r < rows.size(); ++r)
            for (size_t c = 0; c < cols.size(); ++c) m.values.push_back(w[(int64_t(j) * Tq + row0 + r) * Tk + col0 + c]);
        return m;
    };
    std::vector<HeatMap> maps;
    const std::vector<Tensor> enc = model.encoder_self_attention(), dec = model.decoder_self_attention(), cross = model.decoder_cross_attention();
    for (size_t l = 0; l < enc.size(); ++l)
        for (int j = 0; j < h; ++j) maps.push_back(map(fmt::format("encoder self, layer {} head {}", l + 1, j + 1), enc[l], j, src_cols, first, src_cols, first));
    for (size_t l = 0; l < dec.size(); ++l)
        for (int j = 0; j < h; ++j) maps.push_back(map(fmt::format("decoder self, layer {} head {}", l + 1, j + 1), dec[l], j, ans_rows, 0, in_cols, 0));
    for (size_t l = 0; l < cross.size(); ++l)
        for (int j = 0; j < h; ++j) maps.push_back(map(fmt::format("cross, layer {} head {}", l + 1, j + 1), cross[l], j, ans_rows, 0, src_cols, first));
    fmt::print("\n\"{}\" → \"{}\": {} heat maps in {}\n", utf8_encode(source.substr(first, s_len)), utf8_encode(answer.substr(0, t_len)), maps.size(), path);
    if (print) {
        fmt::print("The last layer's cross-attention, head by head (rows: the answer written; columns: the source):\n");
        for (int j = 0; j < h; ++j) fmt::print("{}\n{}", maps[maps.size() - h + j].title, heat_map_text(maps[maps.size() - h + j], stdout_is_terminal()));
    }
    write_heat_map(path, maps);
}

}  // namespace s2a
