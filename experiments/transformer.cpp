// experiments/transformer.cpp — chapter 5's harness: the Transformer's flags and configuration, the
// Transformer contender, greedy and beam scores, every head drawn.
#include "experiments/transformer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/utf8.h"
#include "models/bleu.h"

namespace s2a {

void TransformerFlags::add_to(Cli& cli) {
    cli.option("d-model", &D, "d_model D").range(1, kMaxWidth);
    cli.option("heads", &heads, "attention heads h").range(1, 64);
    cli.option("ffn", &F, "feed-forward width F").range(1, kMaxWidth);
    cli.option("layers", &layers, "encoder layers, and as many decoder layers").range(1, 64);
    cli.option("dropout", &dropout, "dropout on dates").at_least(0).below(1);
    cli.option("smoothing", &smoothing, "label smoothing ε").at_least(0).below(1);
    cli.option("warmup", &warmup, "warm-up steps of the learning-rate schedule").range(1, 1'000'000);
    cli.option("lr-factor", &lr_factor, "factor of the schedule: lr = factor · D^-0.5 · min(step^-0.5, step · warmup^-1.5)")
        .above(0).at_most(100);
    cli.flag("post-norm", &post_norm, "the paper's post-norm sublayers LN(x + f(x)) instead of pre-norm x + f(LN(x))");
    cli.flag("learned-positions", &learned, "a learned positional table instead of sinusoids");
    cli.flag("separate-embeddings", &separate, "separate source, target and output tables instead of one shared");
}

WarmupSchedule TransformerFlags::schedule() const { return WarmupSchedule(Real(lr_factor), D, warmup); }

std::string TransformerFlags::sizes() const {
    return fmt::format("D {} h {} F {} layers {}+{} {}", D, heads, F, layers, layers, post_norm ? "post-norm" : "pre-norm");
}

TransformerConfig transformer_config(const TransformerFlags& f, const Vocab& vocab, const TextData& data) {
    TransformerConfig c;
    c.V = vocab.size();
    c.D = f.D;
    c.heads = f.heads;
    c.F = f.F;
    c.encoder_layers = f.layers;
    c.decoder_layers = f.layers;
    c.dropout = Real(f.dropout);
    c.label_smoothing = Real(f.smoothing);
    c.pre_norm = !f.post_norm;
    c.learned_positions = f.learned;
    c.shared_embeddings = !f.separate;
    c.tied_output = !f.separate;
    c.pad_id = vocab.id(' ');
    c.end_id = inner_space(data) ? -1 : vocab.id(' ');  // the first space after an answer ends it
    return c;
}

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

Decoding greedy_decoding(Seq2seqModel& model, int start_id) {
    return [&model, start_id](const IndexTensor& src, int T) { return model.generate(src, start_id, T); };
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

void compare_decodings(Seq2seqModel& model, const Batcher& batches, const TextData& test, const Vocab& vocab, int k, double alpha) {
    const int start_id = vocab.id('_');
    fmt::print("\nDecoding the {} test dates:{:>14} {:>8}\n", test.size(), "exact", "BLEU");
    std::vector<Scores> by_k;
    for (int width : {0, 1, k}) {  // 0: greedy
        const Decoding beam = [&](const IndexTensor& src, int T) { return model.beam_search(src, start_id, T, width, Real(alpha)); };
        by_k.push_back(evaluate(width == 0 ? greedy_decoding(model, start_id) : beam, batches, test, vocab));
        const std::string how = width == 0 ? "greedy" : fmt::format("beam search, k = {}, α = {}", width, alpha);
        fmt::print("  {:<32} {:>7.2f}% {:>8.2f}\n", how, 100 * by_k.back().exact, 100 * by_k.back().bleu);
    }
    fmt::print("Beam search with k = 1 wrote exactly the greedy answers: {}\n", by_k[1].guesses == by_k[0].guesses ? "yes" : "NO");
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
