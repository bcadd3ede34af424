// models/model_file.cpp — save_model and load_model. Each kind of model has one list of its configuration's
// fields (fields() below), which both writes and reads them: the two directions cannot drift apart.
#include "models/model_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "data/textfile.h"  // kMaxLineBytes
#include "data/utf8.h"
#include "io/cli.h"  // kMaxWidth
#include "models/attention_seq2seq.h"
#include "models/transformer_seq2seq.h"

namespace s2a {

namespace {

enum class Kind { Seq2seq = 0, Attention = 1, Transformer = 2 };
const char* const kKindNames[] = {"seq2seq", "attention", "transformer"};

constexpr int kMaxLayers = 64;                // as the chapters' --layers and --depths accept
constexpr int kMaxCodePoint = 0x10FFFF;       // the last Unicode code point
constexpr int kCodePoints = kMaxCodePoint + 1;  // so no vocabulary is larger

// Chapter 1's model has no configuration struct: these are its constructor's arguments.
struct PlainConfig {
    int V = 0, E = 0, H = 0;
    bool peeky = false;
    Summary summary = Summary::Last;
    int end_id = -1;
};

// The numbers of a model file, each a (1) array named "GROUP.NAME". A Fields object either writes (each
// field's value stored into the arrays) or reads (each field taken out of the arrays, so that what is left
// can be refused, checked, and set). Both directions check the field's limits.
class Fields {
  public:
    explicit Fields(NamedArrays& arrays, std::string path, bool reading) : arrays_(arrays), path_(std::move(path)), reading_(reading) {}

    // A whole number in min..max.
    void whole(const std::string& name, int& v, int min, int max) {
        const Real x = reading_ ? take(name) : Real(v);
        if (!(x == std::floor(x) && x >= min && x <= max))
            throw error(name, fmt::format("holds {}, but must be a whole number from {} to {}", x, min, max));
        if (reading_) v = static_cast<int>(x);
        else store(name, x);
    }
    void yes_no(const std::string& name, bool& v) {
        int x = v;
        whole(name, x, 0, 1);
        v = x != 0;
    }
    // A real number in [min, below).
    void real(const std::string& name, Real& v, Real min, Real below) {
        const Real x = reading_ ? take(name) : v;
        if (!(x >= min && x < below)) throw error(name, fmt::format("holds {}, but must be at least {} and below {}", x, min, below));
        if (reading_) v = x;
        else store(name, x);
    }

    std::runtime_error error(const std::string& name, const std::string& what) const {
        return std::runtime_error(fmt::format("{}: array '{}' {}", path_, name, what));
    }

  private:
    void store(const std::string& name, Real x) { arrays_[name] = Tensor::from(Shape{1}, {x}); }
    Real take(const std::string& name) {
        const auto it = arrays_.find(name);
        if (it == arrays_.end()) throw error(name, "is missing from the file");
        const Tensor t = std::move(it->second);
        arrays_.erase(it);
        if (t.shape != Shape{1}) throw error(name, fmt::format("has shape {}, but a field holds one number: (1)", t.shape.str()));
        if (!std::isfinite(t[0])) throw error(name, fmt::format("holds {}: a model file must hold finite numbers", t[0]));
        return t[0];
    }

    NamedArrays& arrays_;
    std::string path_;
    bool reading_;
};

// An enumeration's field, stored as its number 0..count-1.
template <class Enum>
void choice(Fields& f, const std::string& name, Enum& v, int count) {
    int x = static_cast<int>(v);
    f.whole(name, x, 0, count - 1);
    v = static_cast<Enum>(x);
}

// Each kind's configuration, field by field. V comes first: the ids after it must be below it.
void fields(Fields& f, PlainConfig& c) {
    f.whole("config.V", c.V, 1, kCodePoints);
    f.whole("config.E", c.E, 1, kMaxWidth);
    f.whole("config.H", c.H, 1, kMaxWidth);
    f.yes_no("config.peeky", c.peeky);
    choice(f, "config.summary", c.summary, 2);
    f.whole("config.end_id", c.end_id, -1, c.V - 1);
}

void fields(Fields& f, AttentionConfig& c) {
    f.whole("config.V", c.V, 1, kCodePoints);
    f.whole("config.E", c.E, 1, kMaxWidth);
    f.whole("config.H", c.H, 1, kMaxWidth);
    choice(f, "config.score", c.score, 4);
    choice(f, "config.wiring", c.wiring, 2);
    f.yes_no("config.bidirectional", c.bidirectional);
    f.whole("config.layers", c.layers, 1, kMaxLayers);
    f.yes_no("config.residual", c.residual);
    f.real("config.dropout", c.dropout, 0, 1);
    f.whole("config.pad_id", c.pad_id, -1, c.V - 1);
    f.whole("config.end_id", c.end_id, -1, c.V - 1);
    f.yes_no("config.reversed_source", c.reversed_source);
}

void fields(Fields& f, TransformerConfig& c) {
    f.whole("config.V", c.V, 1, kCodePoints);
    f.whole("config.D", c.D, 1, kMaxWidth);
    f.whole("config.heads", c.heads, 1, c.D);
    f.whole("config.F", c.F, 1, kMaxWidth);
    f.whole("config.encoder_layers", c.encoder_layers, 1, kMaxLayers);
    f.whole("config.decoder_layers", c.decoder_layers, 1, kMaxLayers);
    f.real("config.dropout", c.dropout, 0, 1);
    f.yes_no("config.pre_norm", c.pre_norm);
    f.yes_no("config.learned_positions", c.learned_positions);
    f.yes_no("config.shared_embeddings", c.shared_embeddings);
    f.yes_no("config.tied_output", c.tied_output);
    f.whole("config.max_len", c.max_len, 1, kMaxLineBytes);
    f.whole("config.pad_id", c.pad_id, -1, c.V - 1);
    f.whole("config.end_id", c.end_id, -1, c.V - 1);
    f.real("config.label_smoothing", c.label_smoothing, 0, 1);
}

void fields(Fields& f, TaskFacts& t, int V) {
    f.whole("task.source_len", t.source_len, 1, kMaxLineBytes);
    f.whole("task.answer_len", t.answer_len, 1, kMaxLineBytes);
    f.yes_no("task.reversed", t.reversed);
    f.whole("task.start_id", t.start_id, 0, V - 1);
}

// A lower bound on the parameters of the model a configuration describes, from its largest matrices alone:
// an LSTM layer of H units has a recurrent matrix (H, 4H) (a bidirectional encoder two of (H/2, 2H)), a
// Transformer layer its four (D, D) projections per attention and the FFN's (D, F) and (F, D), every model
// its embedding (V, E). Compared with the numbers the file holds before the model is built.
int64_t least_parameters(const PlainConfig& c) { return int64_t(c.V) * c.E + int64_t(8) * c.H * c.H; }
int64_t least_parameters(const AttentionConfig& c) {
    return int64_t(c.V) * c.E + int64_t(c.layers) * (c.bidirectional ? 6 : 8) * c.H * c.H;
}
int64_t least_parameters(const TransformerConfig& c) {
    const int64_t D = c.D, F = c.F;
    return int64_t(c.V) * D + c.encoder_layers * (4 * D * D + 2 * D * F) + c.decoder_layers * (8 * D * D + 2 * D * F);
}

// The configuration of m, written into `arrays` (config.*) → its kind.
Kind write_config(const Seq2seqModel& m, NamedArrays& arrays) {
    Fields f(arrays, "save_model", false);
    if (const auto* p = dynamic_cast<const Seq2seq*>(&m)) {
        PlainConfig c{p->encoder.embed.vocab, p->encoder.embed.dim, p->encoder.lstm.hidden_size(),
                      dynamic_cast<const PeekyDecoder*>(p->decoder.get()) != nullptr, p->summary_kind(), p->end_id()};
        fields(f, c);
        return Kind::Seq2seq;
    }
    if (const auto* a = dynamic_cast<const AttentionSeq2seq*>(&m)) {
        AttentionConfig c = a->config();
        fields(f, c);
        return Kind::Attention;
    }
    if (const auto* t = dynamic_cast<const TransformerSeq2seq*>(&m)) {
        TransformerConfig c = t->config();
        fields(f, c);
        return Kind::Transformer;
    }
    throw std::logic_error("save_model: the model is not a Seq2seq, an AttentionSeq2seq or a TransformerSeq2seq");
}

// vocab.codepoints: (V) code points in id order.
Tensor code_points(const Vocab& vocab) {
    const std::u32string chars = utf8_decode(vocab.chars());
    Tensor t(Shape{static_cast<int>(chars.size())});
    for (size_t i = 0; i < chars.size(); ++i) t[int64_t(i)] = static_cast<Real>(chars[i]);
    return t;
}

// The vocabulary back from vocab.codepoints: printable code points in ascending order, each once (the order
// Vocab gives ids in, so every character keeps its id).
Vocab read_vocab(NamedArrays& arrays, const Fields& f) {
    const std::string name = "vocab.codepoints";
    const auto it = arrays.find(name);
    if (it == arrays.end()) throw f.error(name, "is missing from the file");
    const Tensor t = std::move(it->second);
    arrays.erase(it);
    if (t.shape.ndim != 1 || t.numel() < 1) throw f.error(name, fmt::format("has shape {}, but must be (V), V ≥ 1", t.shape.str()));
    std::u32string chars;
    for (int64_t i = 0; i < t.numel(); ++i) {
        const Real x = t[i];
        const bool code_point = x == std::floor(x) && x >= 0 && x <= kMaxCodePoint && !(x >= 0xD800 && x <= 0xDFFF);
        if (!code_point || !is_printable(static_cast<char32_t>(x)) || (i > 0 && static_cast<char32_t>(x) <= chars.back()))
            throw f.error(name, fmt::format("element {} is {}: the characters must be printable code points in ascending order", i, x));
        chars += static_cast<char32_t>(x);
    }
    return Vocab::from_texts({utf8_encode(chars)});
}

}  // namespace

void save_model(const Seq2seqModel& m, const Vocab& vocab, const TaskFacts& task, const std::string& path) {
    NamedArrays description;
    int kind = static_cast<int>(write_config(m, description));
    Fields f(description, path, false);
    f.whole("config.kind", kind, 0, 2);
    TaskFacts t = task;
    fields(f, t, vocab.size());
    description["vocab.codepoints"] = code_points(vocab);
    save(m, path, description);
}

ModelFile load_model(const std::string& path) {
    NamedArrays arrays = read_checkpoint(path);
    if (!arrays.count("config.kind"))
        throw std::runtime_error(fmt::format("{}: array 'config.kind' is missing: the file holds a model's parameters but not "
                                             "how to build it (a checkpoint written before model files, or a resume file); "
                                             "train again to write a model file", path));
    int64_t numbers = 0;  // what the parameters hold in all, an upper bound on what the model may need
    for (const auto& [name, t] : arrays)
        if (!describes_model(name)) numbers += t.numel();

    Fields f(arrays, path, true);
    ModelFile out;
    Kind kind = Kind::Seq2seq;
    choice(f, "config.kind", kind, 3);
    out.kind = kKindNames[static_cast<int>(kind)];
    out.vocab = read_vocab(arrays, f);
    // The configuration, read and checked in full before anything is built from it.
    const auto fits = [&](int V, int64_t least) {
        if (V != out.vocab.size())
            throw f.error("config.V", fmt::format("holds {}, but vocab.codepoints holds {} characters", V, out.vocab.size()));
        if (least > numbers)
            throw std::runtime_error(fmt::format("{}: the config.* arrays describe a model of at least {} parameters, but the file "
                                                 "holds {} numbers in all", path, least, numbers));
    };
    PlainConfig plain;
    AttentionConfig attention;
    TransformerConfig transformer;
    if (kind == Kind::Seq2seq) fields(f, plain);
    if (kind == Kind::Attention) fields(f, attention);
    if (kind == Kind::Transformer) fields(f, transformer);
    fields(f, out.task, out.vocab.size());
    if (kind == Kind::Seq2seq) fits(plain.V, least_parameters(plain));
    if (kind == Kind::Attention) fits(attention.V, least_parameters(attention));
    if (kind == Kind::Transformer) {
        fits(transformer.V, least_parameters(transformer));
        if (std::max(out.task.source_len, out.task.answer_len) > transformer.max_len)
            throw f.error("config.max_len", fmt::format("holds {}, shorter than the questions (task.source_len {}) or answers "
                                                        "(task.answer_len {})", transformer.max_len, out.task.source_len,
                                                        out.task.answer_len));
    }

    Rng rng(1);  // the initial weights, all replaced by the file's
    try {
        if (kind == Kind::Seq2seq)
            out.model = std::make_unique<Seq2seq>(plain.V, plain.E, plain.H, plain.peeky, rng, plain.summary, plain.end_id);
        if (kind == Kind::Attention) out.model = std::make_unique<AttentionSeq2seq>(attention, rng);
        if (kind == Kind::Transformer) out.model = std::make_unique<TransformerSeq2seq>(transformer, rng);
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(fmt::format("{}: the config.* arrays describe no model that can be built: {}", path, e.what()));
    }
    take_parameters(*out.model, arrays, path);
    if (!arrays.empty())
        throw std::runtime_error(fmt::format("{}: the file holds '{}' (shape {}), which is neither a parameter nor a field of a {} "
                                             "model ({} unexpected array(s) in all)", path, arrays.begin()->first,
                                             arrays.begin()->second.shape.str(), out.kind, arrays.size()));
    out.model->eval();
    return out;
}

std::string describe(const ModelFile& f) {
    NamedArrays config;
    write_config(*f.model, config);
    std::string fields;
    for (const auto& [name, t] : config) fields += fmt::format("{}{} {}", fields.empty() ? "" : ", ", name.substr(7), t[0]);
    return fmt::format("{} model ({}), {} parameters", f.kind, fields, f.model->num_parameters());
}

}  // namespace s2a
