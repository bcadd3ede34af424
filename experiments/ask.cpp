// experiments/ask.cpp — the --load session: questions checked and prepared, answered greedily with what every
// step saw, the n-best list, and the step-by-step explanation.
#include "experiments/ask.h"

#include <fmt/format.h>
#include <unistd.h>  // isatty

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "autodiff/ops.h"
#include "data/utf8.h"
#include "io/plot.h"
#include "models/attention_seq2seq.h"
#include "models/model_file.h"
#include "models/train.h"
#include "models/transformer_seq2seq.h"

namespace s2a {

void AskFlags::add_to(Cli& cli, bool beam_flags) {
    cli.option("load", &load, "skip training: rebuild the model of a model file (OUT/chN_NAME.npz) and score it", "FILE");
    cli.flag("ask", &ask, "with --load: answer questions typed or piped in, one a line");
    cli.option("explain", &explain, "with --load: one answer step by step, for a question or test example N", "N|TEXT");
    if (beam_flags) {
        cli.option("beam", &beam, "with --ask: also beam search's K best answers (0: none)").range(0, 64);
        cli.option("alpha", &alpha, "with --beam: beam search's length-penalty exponent α").range(0, 10);
    }
    cli.require([this, beam_flags] {
        return load.empty() && (ask || !explain.empty() || (beam_flags && beam > 0))
                   ? "--ask, --explain and --beam question a trained model: name its file with --load FILE"
                   : "";
    });
}

AskFlags AskFlags::with_beam(int k, double length_penalty) const {
    AskFlags f = *this;
    f.beam = k;
    f.alpha = length_penalty;
    return f;
}

void save_model(const Contender& c, const Vocab& vocab, const std::string& path) {
    save_model(*c.model, vocab, TaskFacts{c.test->source_len(), c.test->target_len() - 1, c.reversed, c.start_id}, path);
}

namespace {

// A question the model cannot read: what is wrong, in one line.
struct BadQuestion : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A character as the session shows it: ' ' (padding, or an answer's end) as '␣'.
std::string shown(const std::string& ch) { return ch == " " ? "␣" : ch; }

// The question as the model reads it, prepared as the Batcher prepares training questions: checked, padded
// with ' ' to S characters, reversed if the model was trained so → ids (1, S).
IndexTensor encode_question(const ModelFile& m, const std::string& question) {
    const Utf8Problem bad = utf8_problem(question);
    if (bad.column) throw BadQuestion(fmt::format("character {} is not valid UTF-8: {}", bad.column, bad.what));
    std::u32string chars = utf8_decode(question);
    const int S = m.task.source_len;
    if (chars.empty()) throw BadQuestion("the question is empty");
    if (static_cast<int>(chars.size()) > S)
        throw BadQuestion(fmt::format("the question has {} characters, but this model reads at most {}", chars.size(), S));
    for (size_t i = 0; i < chars.size(); ++i) {
        if (chars[i] == U'_') throw BadQuestion(fmt::format("character {} is '_', the start symbol of answers, never in a question", i + 1));
        if (!m.vocab.contains(chars[i]))
            throw BadQuestion(fmt::format("character {}, {}, is not in the model's vocabulary \"{}\"", i + 1,
                                          describe_char(chars[i]), m.vocab.chars()));
    }
    chars.resize(S, U' ');
    if (m.task.reversed) std::reverse(chars.begin(), chars.end());
    std::vector<int> ids;
    for (char32_t c : chars) ids.push_back(m.vocab.id(c));
    return IndexTensor::from(Shape{1, S}, std::move(ids));
}

// One greedy answer and what each step saw: the distribution it chose from, and where it looked.
struct Answer {
    std::vector<int> tokens;                 // T ids
    int steps = 0;                           // steps up to and including the end symbol (T without one)
    std::vector<Tensor> log_probs;           // per step: (1, V)
    std::vector<std::vector<double>> looked; // per step: the weights over the S source positions (attention models)
    std::vector<std::vector<Tensor>> cross, self;  // per step, per layer (Transformer): (1, h, 1, S), (1, h, 1, t + 1)
};

// Where the step just taken looked: chapter 3's decoder's weights a (1, 1, S); the Transformer's last layer's
// cross-attention (1, h, 1, S), averaged over its h heads; nothing for chapter 1's model, which has no attention.
std::vector<double> attention_row(Seq2seqModel& model) {
    if (const auto* a = dynamic_cast<const AttentionSeq2seq*>(&model)) {
        const Tensor& w = a->decoder.last_weights();
        return {w.data.begin(), w.data.end()};
    }
    if (const auto* tr = dynamic_cast<const TransformerSeq2seq*>(&model)) {
        const Tensor w = tr->decoder_cross_attention().back();
        const int h = w.dim(1), S = w.dim(3);
        std::vector<double> row(S, 0.0);
        for (int j = 0; j < h; ++j)
            for (int s = 0; s < S; ++s) row[s] += w[int64_t(j) * S + s] / h;
        return row;
    }
    return {};
}

// Greedy decoding of src (1, S) by the library's own loop (greedy_decode), its steps observed on the way: the
// answer is bit for bit what generate() writes.
Answer answer(const ModelFile& m, const IndexTensor& src) {
    NoGrad no_grad;
    EvalMode eval(*m.model);
    Answer a;
    auto* transformer = dynamic_cast<TransformerSeq2seq*>(m.model.get());
    const DecoderSteps decoder = m.model->steps(src, 1);
    const DecodeTask task{1, m.task.start_id, m.task.answer_len, m.model->end_id()};
    a.tokens = greedy_decode(task, [&](const IndexTensor& prev) {
                   Tensor log_probs = decoder.step(prev);  // (1, V)
                   a.log_probs.push_back(log_probs);
                   a.looked.push_back(attention_row(*m.model));
                   if (transformer) {
                       a.cross.push_back(transformer->decoder_cross_attention());
                       a.self.push_back(transformer->decoder_self_attention());
                   }
                   return log_probs;
               }).data;
    const auto end = std::find(a.tokens.begin(), a.tokens.end(), task.end_id);
    a.steps = static_cast<int>(end == a.tokens.end() ? a.tokens.size() : end - a.tokens.begin() + 1);
    tape().clear();
    return a;
}

// Ids as text, the padding after the answer left out.
std::string text_of(const Vocab& vocab, std::vector<int> ids) {
    std::string s = vocab.decode(ids);
    return s.substr(0, s.find_last_not_of(' ') + 1);
}

// The k most probable characters of a step's log-probabilities (1, V), most probable first (of equals, the
// lower id: the one greedy decoding takes).
std::vector<int> top(const Tensor& log_probs, int k) {
    std::vector<int> ids(log_probs.numel());
    std::iota(ids.begin(), ids.end(), 0);
    k = std::min<int>(k, static_cast<int>(ids.size()));
    std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int a, int b) {
        return log_probs[a] > log_probs[b] || (log_probs[a] == log_probs[b] && a < b);
    });
    ids.resize(k);
    return ids;
}

// "'1' 0.998  '2' 0.001  '0' 0.000"
std::string top_text(const Vocab& vocab, const Tensor& log_probs, bool with_log) {
    std::string s;
    for (int id : top(log_probs, 3)) {
        s += fmt::format("  '{}' {:.3f}", shown(vocab.ch(id)), std::exp(log_probs[id]));
        if (with_log) s += fmt::format(" (log p {:.3f})", log_probs[id]);
    }
    return s;
}

// The source as the model reads it: one label per position.
std::vector<std::string> source_labels(const Vocab& vocab, const IndexTensor& src) {
    std::vector<std::string> labels;
    for (int id : src.data) labels.push_back(vocab.ch(id));
    return labels;
}

// The positions [first, last) of the question's own characters in the source as read: the padding comes after
// them, or before them in a reversed source.
std::pair<int, int> question_span(const ModelFile& m, const std::string& question) {
    const int n = static_cast<int>(utf8_length(question)), S = m.task.source_len;
    return m.task.reversed ? std::pair{S - n, S} : std::pair{0, n};
}

// A map of rows × the question's columns [first, last) of a full (rows, S) block of weights.
HeatMap question_map(const std::string& title, const std::vector<std::string>& rows, const std::vector<std::string>& cols,
                     const std::vector<double>& weights, int S, std::pair<int, int> span) {
    HeatMap map{title, rows, {}, {}};
    for (int s = span.first; s < span.second; ++s) map.col_labels.push_back(cols[s]);
    for (size_t r = 0; r < rows.size(); ++r)
        for (int s = span.first; s < span.second; ++s) map.values.push_back(weights[r * S + s]);
    return map;
}

// What one question gets: the answer, every step's top 3, the heat map (attention models), the n-best list.
void report(const ModelFile& m, const std::string& question, const AskFlags& f, const std::string& svg) {
    const IndexTensor src = encode_question(m, question);  // (1, S)
    const Answer a = answer(m, src);
    const std::string written = text_of(m.vocab, a.tokens);
    fmt::print("  answer: {}\n  step  top 3 characters (probability)\n", written);
    for (int t = 0; t < a.steps; ++t) fmt::print("  {:>4} {}\n", t + 1, top_text(m.vocab, a.log_probs[t], false));
    if (!a.looked[0].empty()) {
        const int S = m.task.source_len;
        std::vector<std::string> rows;
        std::vector<double> weights;  // (steps, S)
        for (int t = 0; t < a.steps; ++t) {
            rows.push_back(shown(m.vocab.ch(a.tokens[t])));
            weights.insert(weights.end(), a.looked[t].begin(), a.looked[t].end());
        }
        const HeatMap map = question_map(fmt::format("\"{}\" → {}", question, written), rows, source_labels(m.vocab, src), weights,
                                         S, question_span(m, question));
        fmt::print("  where each step looked{} (columns: the question as read{}; rows: the answer):\n{}",
                   m.kind == "transformer" ? " (last layer's cross-attention, mean of the heads)" : "",
                   m.task.reversed ? ", reversed" : "", heat_map_text(map, stdout_is_terminal()));
        write_heat_map(svg, {map});
        fmt::print("  heat map: {}\n", svg);
    }
    if (f.beam > 0) {
        const BeamResult r = m.model->nbest(src, m.task.start_id, m.task.answer_len, f.beam, Real(f.alpha));
        tape().clear();
        fmt::print("  beam search, k = {}, α = {}: {:>14} {:>8}\n", f.beam, f.alpha, "log P", "score");
        for (size_t i = 0; i < r.nbest[0].size(); ++i) {
            const Hypothesis& h = r.nbest[0][i];
            fmt::print("  {:>4}. {:<{}} {:>10.4f} {:>8.4f}\n", i + 1, text_of(m.vocab, h.tokens), m.task.answer_len + 10,
                       h.log_prob, h.key);
        }
    }
}

// Waits for Enter when stdin is a terminal (a piped explanation prints at once); once input has ended, no more.
void next_step(bool& interactive) {
    if (!interactive) return;
    fmt::print("  (Enter: next step) ");
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) interactive = false;
}

// A few values of a vector, "[0.12, -0.40, 0.05, 0.33, …] (256 values)".
std::string few(const Real* v, int n) {
    std::vector<std::string> parts;
    for (int i = 0; i < std::min(n, 4); ++i) parts.push_back(fmt::format("{:.3f}", v[i]));
    return fmt::format("[{}{}] ({} values)", fmt::join(parts, ", "), n > 4 ? ", …" : "", n);
}

// The encoder's side of the explanation: hs (1, S, H) at the question's first and last characters and, for
// chapter 1's model, the one vector h the decoder gets; the Transformer's memory shape.
void explain_encoder(const ModelFile& m, const IndexTensor& src, const std::pair<int, int>& span, Tensor* hs) {
    const std::vector<std::string> cols = source_labels(m.vocab, src);
    Var h_enc;
    if (auto* plain = dynamic_cast<Seq2seq*>(m.model.get())) {
        const Var states = plain->encoder.forward(src);  // hs: (1, S, H)
        h_enc = plain->summarize(states);                // h: (1, H)
        *hs = states.value();
    } else if (auto* attention = dynamic_cast<AttentionSeq2seq*>(m.model.get())) {
        *hs = attention->encoder.forward(src).first.value();  // hs: (1, S, H)
    } else {
        const TransformerConfig& c = dynamic_cast<TransformerSeq2seq&>(*m.model).config();
        fmt::print("Encoder: {} self-attention layers → memory (1, {}, {}): every position sees every other; the decoder "
                   "reads it through cross-attention.\n", c.encoder_layers, m.task.source_len, c.D);
        return;
    }
    const int H = hs->dim(2);
    fmt::print("Encoder: hs {}, the LSTM's state after each source character:\n", hs->shape.str());
    for (int s : {span.first, span.second - 1})
        fmt::print("  hs[{}] after '{}': {}\n", s, shown(cols[s]), few(hs->ptr() + int64_t(s) * H, H));
    if (h_enc.defined())
        fmt::print("The decoder gets only h = {} {}: {}\n", dynamic_cast<Seq2seq&>(*m.model).summary_kind() == Summary::Last
                   ? "hs[S-1]" : "mean of hs", h_enc.shape().str(), few(h_enc.value().ptr(), H));
}

// Step t of an attention seq2seq: the scores, the weights α as a bar row, the context c = Σₛ αₛ hsₛ.
void explain_attention(const ModelFile& m, const Answer& a, int t, const std::vector<std::string>& cols,
                       const std::pair<int, int>& span, const Tensor& hs) {
    const std::vector<double>& alpha = a.looked[t];  // (S)
    const int S = m.task.source_len, H = hs.dim(2);
    // The softmax sees only differences between scores: e − max e = log α − max log α, exactly (padding: −∞).
    double top = -HUGE_VAL;
    for (int s = span.first; s < span.second; ++s) top = std::max(top, std::log(alpha[s]));
    std::string scores;
    for (int s = span.first; s < span.second; ++s) scores += fmt::format(" {}:{:.1f}", shown(cols[s]), std::log(alpha[s]) - top);
    fmt::print("  scores e − max e (= log α − max log α):{}\n", scores);
    const HeatMap bar = question_map("α", {"α"}, cols, alpha, S, span);
    double padding = 1;
    for (int s = span.first; s < span.second; ++s) padding -= alpha[s];
    fmt::print("  weights α = softmax(e) (padding gets {:.3f} in all):\n{}", std::max(0.0, padding), heat_map_text(bar, stdout_is_terminal()));
    std::vector<Real> c(H, 0);  // c = Σₛ αₛ hsₛ: (1, H)
    for (int s = 0; s < S; ++s)
        for (int i = 0; i < H; ++i) c[i] += Real(alpha[s]) * hs[int64_t(s) * H + i];
    fmt::print("  context c = Σ α_s hs_s (1, {}): {}\n", H, few(c.data(), H));
}

// Step t of the Transformer: per layer, every head's attention row of the current position, over the question
// (cross-attention) and over the answer so far (the decoder's self-attention, the causal mask hiding the rest).
void explain_transformer(const ModelFile& m, const Answer& a, int t, const std::vector<std::string>& cols,
                         const std::pair<int, int>& span) {
    std::vector<std::string> written = {"_"};
    for (int i = 0; i < t; ++i) written.push_back(shown(m.vocab.ch(a.tokens[i])));
    for (size_t l = 0; l < a.cross[t].size(); ++l) {
        const Tensor& cross = a.cross[t][l];  // (1, h, 1, S)
        const Tensor& self = a.self[t][l];    // (1, h, 1, t + 1)
        const int h = cross.dim(1), S = cross.dim(3);
        std::vector<std::string> heads;
        for (int j = 0; j < h; ++j) heads.push_back(fmt::format("h{}", j + 1));
        const HeatMap c = question_map("cross", heads, cols, std::vector<double>(cross.data.begin(), cross.data.end()), S, span);
        const HeatMap s = question_map("self", heads, written, std::vector<double>(self.data.begin(), self.data.end()), t + 1, {0, t + 1});
        fmt::print("  layer {}: self-attention over '_' and the answer so far, head by head:\n{}"
                   "  layer {}: cross-attention over the question, head by head:\n{}",
                   l + 1, heat_map_text(s, stdout_is_terminal()), l + 1, heat_map_text(c, stdout_is_terminal()));
    }
}

// --explain: the computation of one answer, one decoder step at a time.
void explain(const ModelFile& m, const std::string& question) {
    IndexTensor src;
    try {
        src = encode_question(m, question);
    } catch (const BadQuestion& e) {
        throw std::runtime_error(fmt::format("--explain \"{}\": {}", question, e.what()));
    }
    const Answer a = answer(m, src);
    const std::vector<std::string> cols = source_labels(m.vocab, src);
    const std::pair<int, int> span = question_span(m, question);
    std::vector<std::string> as_read;
    for (const std::string& c : cols) as_read.push_back(shown(c));
    fmt::print("\nExplaining \"{}\" → {}\nThe source as the model reads it{}: \"{}\", ids (1, {})\n", question,
               text_of(m.vocab, a.tokens), m.task.reversed ? " (padded with ␣, then reversed)" : " (padded with ␣)",
               fmt::join(as_read, ""), m.task.source_len);
    Tensor hs;
    {
        NoGrad no_grad;
        explain_encoder(m, src, span, &hs);
        tape().clear();
    }
    bool interactive = isatty(fileno(stdin)) != 0;
    for (int t = 0; t < a.steps; ++t) {
        next_step(interactive);
        fmt::print("\nStep {} of {}: the decoder reads '{}'\n", t + 1, a.steps, t == 0 ? "_" : shown(m.vocab.ch(a.tokens[t - 1])));
        if (m.kind == "attention") explain_attention(m, a, t, cols, span, hs);
        if (m.kind == "transformer") explain_transformer(m, a, t, cols, span);
        fmt::print("  output: log-softmax of the logits, top 3{}\n  chosen: '{}'\n", top_text(m.vocab, a.log_probs[t], true),
                   shown(m.vocab.ch(a.tokens[t])));
    }
    fmt::print("\nAnswer: {}\n", text_of(m.vocab, a.tokens));
}

// The chapter's test set, scored by the loaded model when it fits (same widths, known characters).
void score(const ModelFile& m, const TextData& test) {
    try {
        const Batcher batches(test, m.vocab, 128, m.task.reversed);
        if (batches.source_len() != m.task.source_len || batches.target_len() != m.task.answer_len + 1) {
            fmt::print("The chapter's test set is {} → {} characters wide, the model's {} → {}: not scored.\n",
                       batches.source_len(), batches.target_len() - 1, m.task.source_len, m.task.answer_len);
            return;
        }
        fmt::print("Test exact match on the {} test examples the chapter's flags make: {:.2f}%\n", test.size(),
                   100 * exact_match(*m.model, batches, m.task.start_id));
    } catch (const std::exception& e) {
        fmt::print("The chapter's test set does not fit this model, not scored: {}\n", e.what());
    }
}

// --explain's argument: a number is a test example, anything else a question.
std::string question_of(const std::string& x, const TextData& test) {
    if (x.empty() || x.find_first_not_of("0123456789") != std::string::npos) return x;
    const long n = x.size() > 9 ? -1 : std::stol(x);
    if (n < 0 || n >= test.size())
        throw std::runtime_error(fmt::format("--explain {}: the test set has examples 0..{}", x, test.size() - 1));
    const std::string& q = test.questions[n];
    return q.substr(0, q.find_last_not_of(' ') + 1);
}

}  // namespace

int question_model(const AskFlags& f, const TrainingFlags& chapter, const std::string& task) {
    const ModelFile m = load_model(f.load);
    const TextData test = split(load_or_generate(task, chapter.data, chapter.examples, chapter.seed), chapter.test, chapter.seed).test;
    const std::string& out = chapter.out;
    fmt::print("{}: {}\nVocabulary {} \"{}\"; questions up to {} characters{}, answers of {} steps.\n", f.load, describe(m),
               m.vocab.size(), m.vocab.chars(), m.task.source_len, m.task.reversed ? " (read reversed)" : "", m.task.answer_len);
    score(m, test);
    if (!f.explain.empty()) explain(m, question_of(f.explain, test));
    if (!f.ask) return 0;

    std::filesystem::create_directories(out);
    const std::string svg = fmt::format("{}/{}_ask.svg", out, std::filesystem::path(f.load).stem().string());
    const bool terminal = isatty(fileno(stdin)) != 0;
    fmt::print("\nAsk away: one question a line{}.\n", terminal ? "; Ctrl-D ends" : "");
    std::string line;
    for (;;) {
        if (terminal) fmt::print("> ");
        std::fflush(stdout);
        if (!std::getline(std::cin, line)) break;
        if (!line.empty() && line.back() == '\r') line.pop_back();  // a Windows line end
        if (!terminal) fmt::print("> {}\n", line);                    // a piped question is not on the screen yet
        try {
            report(m, line, f, svg);
        } catch (const BadQuestion& e) {
            fmt::print("  ✗ {}\n", e.what());
        }
    }
    if (terminal) fmt::print("\n");
    return 0;
}

}  // namespace s2a
