// experiments/captions.cpp — chapter 8's measurements: errors by caption kind, attention on the named object,
// the attention overlays.
#include "experiments/captions.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace s2a {

const char* caption_kind_name(CaptionKind kind) {
    static const char* const names[kCaptionKinds] = {"one shape", "alike", "left of", "above", "three"};
    return names[int(kind)];
}

CaptionKind caption_kind(const Scene& s) {
    const auto has = [&](const char* w) { return std::find(s.caption.begin(), s.caption.end(), w) != s.caption.end(); };
    if (s.objects.size() == 1) return CaptionKind::One;
    if (has("two") || has("three")) return CaptionKind::Alike;
    if (has("left")) return CaptionKind::LeftOf;
    if (has("above")) return CaptionKind::Above;
    return CaptionKind::Three;
}

const char* word_class_name(WordClass c) {
    static const char* const names[kWordClasses] = {"colour", "shape", "count", "relation", "end"};
    return names[int(c)];
}

WordClass word_class(int id) {
    const std::string& w = kSceneWords.at(id);
    for (int p = 1; p < kPaletteSize; ++p)
        if (w == kColourNames[p]) return WordClass::Colour;
    if (w.find("circle") == 0 || w.find("square") == 0 || w.find("triangle") == 0) return WordClass::Shape;
    if (w == "two" || w == "three") return WordClass::Count;
    return id == kEndWord || id == kStartWord ? WordClass::End : WordClass::Relation;
}

// A scene's caption as word ids, the end word after it, padded with end words to T.
static std::vector<int> truth_ids(const Scene& s, int T) {
    std::vector<int> ids(T, kEndWord);
    for (size_t w = 0; w < s.caption.size(); ++w) ids[w] = word_id(s.caption[w]);
    return ids;
}

KindTable errors_by_kind(const std::vector<Scene>& scenes, const std::vector<std::vector<int>>& predictions) {
    if (predictions.size() != scenes.size())
        throw std::invalid_argument(fmt::format("errors_by_kind: {} predictions for {} scenes", predictions.size(), scenes.size()));
    KindTable t;
    for (size_t i = 0; i < scenes.size(); ++i) {
        const int k = int(caption_kind(scenes[i]));
        const std::vector<int> truth = truth_ids(scenes[i], static_cast<int>(predictions[i].size()));
        const auto wrong = std::mismatch(truth.begin(), truth.end(), predictions[i].begin());
        ++t.scenes[k];
        if (wrong.first == truth.end()) ++t.right[k];
        else ++t.first_error[k][int(word_class(*wrong.first))];
    }
    return t;
}

void print_kind_table(const KindTable& t) {
    // Columns at least two spaces apart, so that tools/reproduce.py reads the header's cells apart.
    fmt::print("Test captions by kind, and the wrong ones counted by the class of their first wrong word:\n"
               "{:>10}  {:>7}  {:>8}", "caption", "scenes", "exact");
    for (int c = 0; c < kWordClasses; ++c) fmt::print("  {:>8}", word_class_name(WordClass(c)));
    fmt::print("\n");
    for (int k = 0; k < kCaptionKinds; ++k) {
        if (!t.scenes[k]) continue;
        fmt::print("{:>10}  {:>7}  {:>7.2f}%", caption_kind_name(CaptionKind(k)), t.scenes[k], 100.0 * t.right[k] / t.scenes[k]);
        for (int c = 0; c < kWordClasses; ++c) fmt::print("  {:>8}", t.first_error[k][c]);
        fmt::print("\n");
    }
}

namespace {

// The grid cells (l = i · Wo + j) that cover at least one pixel painted by one of `objects`.
std::set<int> cells_covering(const Scene& s, const std::vector<const SceneObject*>& objects, int Ho, int Wo) {
    const int sy = s.height / Ho, sx = s.width / Wo;  // pixels per cell
    std::set<int> cells;
    for (const SceneObject* o : objects)
        for (int py = o->y; py < o->y + o->side; ++py)
            for (int px = o->x; px < o->x + o->side; ++px)
                if (s.pixels[size_t(py) * s.width + px] == o->colour) cells.insert(std::min(py / sy, Ho - 1) * Wo + std::min(px / sx, Wo - 1));
    return cells;
}

// The objects word w of the caption names: all of them after a count ("two red circles"), else the m-th
// mention (a colour and its shape) in the caption's order: left to right, or top to bottom after "above".
std::vector<const SceneObject*> named_objects(const Scene& s, size_t w) {
    std::vector<const SceneObject*> objects;
    for (const SceneObject& o : s.objects) objects.push_back(&o);
    const CaptionKind kind = caption_kind(s);
    if (kind == CaptionKind::One || kind == CaptionKind::Alike) return objects;
    std::sort(objects.begin(), objects.end(), [&](const SceneObject* a, const SceneObject* b) {
        return kind == CaptionKind::Above ? a->cy() < b->cy() : a->cx() < b->cx();
    });
    int mention = -1;  // colour words up to w: each opens a mention
    for (size_t i = 0; i <= w; ++i) mention += word_class(word_id(s.caption[i])) == WordClass::Colour;
    return {objects.at(mention)};
}

}  // namespace

std::set<int> named_cells(const Scene& scene, size_t w, int Ho, int Wo) {
    return cells_covering(scene, named_objects(scene, w), Ho, Wo);
}

AttentionOnObjects attention_on_objects(Captioner& model, const std::vector<Scene>& scenes, int width, int batch_size) {
    AttentionOnObjects r;
    const auto [Ho, Wo] = model.grid_size();
    const int T = width - 1, L = Ho * Wo, n = static_cast<int>(scenes.size());
    for (int first = 0; first < n; first += batch_size) {
        std::vector<int> rows;
        for (int i = first; i < std::min(n, first + batch_size); ++i) rows.push_back(i);
        const IndexTensor guess = model.generate(scene_batch(scenes, rows, width).src, kStartWord, T);  // (B, T)
        const Tensor& alpha = model.attention_map();                                                     // (B, T, L)
        for (size_t b = 0; b < rows.size(); ++b) {
            const Scene& s = scenes[rows[b]];
            const std::vector<int> truth = truth_ids(s, T);
            if (!std::equal(truth.begin(), truth.end(), guess.data.begin() + int64_t(b) * T)) continue;
            for (size_t w = 0; w < s.caption.size(); ++w) {
                const WordClass c = word_class(truth[w]);
                if (c != WordClass::Colour && c != WordClass::Shape) continue;
                const std::set<int> cells = named_cells(s, w, Ho, Wo);
                for (int l : cells) r.on_object += alpha[(int64_t(b) * T + w) * L + l];
                r.chance += double(cells.size()) / L;
                ++r.words;
            }
        }
    }
    if (r.words) r.on_object /= r.words, r.chance /= r.words;
    return r;
}

void write_attention_overlays(const std::string& path, Captioner& model, const std::vector<Scene>& scenes, int width,
                              int scale) {
    if (scenes.empty()) throw std::invalid_argument("write_attention_overlays: no scenes");
    std::vector<int> rows;
    for (size_t i = 0; i < scenes.size(); ++i) rows.push_back(static_cast<int>(i));
    const int T = width - 1;
    const IndexTensor guess = model.generate(scene_batch(scenes, rows, width).src, kStartWord, T);  // (B, T)
    const Tensor alpha = model.attention_map();                                                      // (B, T, L)
    const auto [Ho, Wo] = model.grid_size();
    const int L = Ho * Wo, Hi = scenes[0].height, Wi = scenes[0].width;
    const double cw = double(Wi) / Wo * scale, ch = double(Hi) / Ho * scale;  // a grid cell on the page
    const double pw = Wi * scale + 8, row_h = Hi * scale + 42;                 // a panel's width, a row's height

    // The image at (x0, y0): a black square, then each row's runs of one shape colour.
    const auto image = [&](const Scene& s, double x0, double y0) {
        std::string svg = fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='black'/>\n", x0, y0, Wi * scale, Hi * scale);
        for (int y = 0; y < Hi; ++y)
            for (int x = 0; x < Wi;) {
                const int p = s.pixels[size_t(y) * Wi + x];
                int end = x + 1;
                while (end < Wi && s.pixels[size_t(y) * Wi + end] == p) ++end;
                if (p) svg += fmt::format("<rect x='{}' y='{}' width='{}' height='{}' fill='rgb({},{},{})'/>\n", x0 + x * scale,
                                          y0 + y * scale, (end - x) * scale, scale, kPalette[p].r, kPalette[p].g, kPalette[p].b);
                x = end;
            }
        return svg;
    };
    int columns = 1;
    std::string body;
    for (size_t b = 0; b < scenes.size(); ++b) {
        const double y0 = 22 + b * row_h;
        const int* g = guess.data.data() + b * T;
        const int words = static_cast<int>(std::find(g, g + T, kEndWord) - g) + (std::find(g, g + T, kEndWord) != g + T);
        const std::vector<int> generated(g, g + T);
        const bool right = caption_text(generated) == scenes[b].text();
        body += fmt::format("<text x='4' y='{}'>truth: {} — wrote: {} {}</text>\n", y0 + 12, scenes[b].text(),
                            caption_text(generated), right ? "✓" : "✗");
        body += image(scenes[b], 4, y0 + 30);
        for (int t = 0; t < words; ++t) {  // panel t + 1: word t and where it looked
            const double x0 = 4 + (t + 1) * pw;
            const Real* a = alpha.ptr() + (int64_t(b) * T + t) * L;
            const Real top = *std::max_element(a, a + L);
            body += fmt::format("<text x='{}' y='{}'>{}</text>\n", x0, y0 + 26, kSceneWords[g[t]]);
            body += image(scenes[b], x0, y0 + 30);
            for (int l = 0; l < L; ++l)  // a white wash on each cell, as thick as its weight against the largest
                body += fmt::format("<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='white' "
                                    "fill-opacity='{:.3f}'><title>α = {:.4f}</title></rect>\n",
                                    x0 + (l % Wo) * cw, y0 + 30 + (l / Wo) * ch, cw, ch, 0.7 * a[l] / top, a[l]);
        }
        columns = std::max(columns, words + 1);
    }
    const std::string svg = fmt::format("<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' "
                                        "font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' "
                                        "fill='white'/>\n<text x='4' y='14'>Each panel: a word the model wrote and its "
                                        "attention over the {}×{} grid, the whiter a cell the more weight (α / the "
                                        "largest α of the word; hover for α)</text>\n{}</svg>\n",
                                        8 + columns * pw, 26 + scenes.size() * row_h, Ho, Wo, body);
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp);
    out << svg;
    out.close();
    if (!out) throw std::runtime_error(fmt::format("write_attention_overlays: cannot write {}", tmp));
    std::filesystem::rename(tmp, path);
}

}  // namespace s2a
