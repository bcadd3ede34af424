// data/scenes.cpp — the scene generator: placing shapes, drawing them into a palette image, captioning them;
// batches of scenes; the PPM writer.
#include "data/scenes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

namespace s2a {

const char* const kColourNames[kPaletteSize] = {"black", "red", "green", "blue", "yellow"};
const Rgb kPalette[kPaletteSize] = {{0, 0, 0}, {230, 40, 40}, {40, 200, 60}, {50, 90, 240}, {240, 220, 40}};

const std::vector<std::string> kSceneWords = {"_",       ".",     "red",     "green",     "blue",  "yellow",
                                              "circle",  "square", "triangle", "circles", "squares", "triangles",
                                              "two",     "three", "and",     "left",      "of",    "above"};

int word_id(const std::string& word) {
    const auto at = std::find(kSceneWords.begin(), kSceneWords.end(), word);
    if (at == kSceneWords.end()) throw std::invalid_argument(fmt::format("scenes: '{}' is not a caption word", word));
    return static_cast<int>(at - kSceneWords.begin());
}

void SceneOptions::validate() const {
    auto check = [](bool ok, const std::string& what) {
        if (!ok) throw std::invalid_argument("scenes: " + what);
    };
    check(size >= 16 && size <= 128, fmt::format("size {} must be in 16..128 pixels", size));
    check(min_objects >= 1 && max_objects <= 3 && min_objects <= max_objects,
          fmt::format("objects {}..{} must be within 1..3, the least first", min_objects, max_objects));
    check(min_shape >= 5 && max_shape <= size / 2 && min_shape <= max_shape,
          fmt::format("shape sides {}..{} must be within 5..{} (half the size {}), the least first", min_shape, max_shape,
                      size / 2, size));
}

std::string Scene::text() const {
    std::string s;
    for (const std::string& w : caption) s += (s.empty() ? "" : " ") + w;
    return s;
}

namespace {

const char* const kKindNames[] = {"circle", "square", "triangle"};

// At least one pixel of background between the two bounding boxes, horizontally or vertically.
bool apart(const SceneObject& a, const SceneObject& b) {
    return a.x + a.side < b.x || b.x + b.side < a.x || a.y + a.side < b.y || b.y + b.side < a.y;
}

bool all_alike(const std::vector<SceneObject>& objects) {
    return std::all_of(objects.begin(), objects.end(), [&](const SceneObject& o) {
        return o.kind == objects[0].kind && o.colour == objects[0].colour;
    });
}

// Can the caption rules describe this placement without doubt? (See the table in scenes.h.)
bool unambiguous(const std::vector<SceneObject>& objects) {
    const int n = static_cast<int>(objects.size());
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j)
            if (!apart(objects[i], objects[j])) return false;
    if (n == 1 || all_alike(objects)) return true;
    if (n == 2) {
        const double dx = std::fabs(objects[0].cx() - objects[1].cx()), dy = std::fabs(objects[0].cy() - objects[1].cy());
        return dx >= 2 * dy || dy >= 2 * dx;  // one axis clearly dominates: "left of" or "above"
    }
    std::vector<double> xs;
    for (const SceneObject& o : objects) xs.push_back(o.cx());
    std::sort(xs.begin(), xs.end());
    return xs[1] - xs[0] >= kMinCentreGap && xs[2] - xs[1] >= kMinCentreGap;
}

std::vector<std::string> describe(const SceneObject& o) { return {kColourNames[o.colour], kKindNames[int(o.kind)]}; }

std::vector<std::string> caption_of(std::vector<SceneObject> objects) {
    const int n = static_cast<int>(objects.size());
    if (n == 1) return describe(objects[0]);
    if (all_alike(objects))
        return {n == 2 ? "two" : "three", kColourNames[objects[0].colour], std::string(kKindNames[int(objects[0].kind)]) + "s"};
    const auto by_x = [](const SceneObject& a, const SceneObject& b) { return a.cx() < b.cx(); };
    const auto by_y = [](const SceneObject& a, const SceneObject& b) { return a.cy() < b.cy(); };
    std::vector<std::string> words;
    auto append = [&](const std::vector<std::string>& more) { words.insert(words.end(), more.begin(), more.end()); };
    if (n == 2) {
        const bool horizontal = std::fabs(objects[0].cx() - objects[1].cx()) >= std::fabs(objects[0].cy() - objects[1].cy());
        std::sort(objects.begin(), objects.end(), horizontal ? +by_x : +by_y);
        append(describe(objects[0]));
        append(horizontal ? std::vector<std::string>{"left", "of"} : std::vector<std::string>{"above"});
        append(describe(objects[1]));
        return words;
    }
    std::sort(objects.begin(), objects.end(), by_x);
    for (int i = 0; i < n; ++i) {
        if (i) words.push_back("and");
        append(describe(objects[i]));
    }
    return words;
}

// Is the centre of pixel (px, py) inside the shape?
bool covers(const SceneObject& o, int px, int py) {
    const double x = px + 0.5, y = py + 0.5, r = o.side / 2.0;
    switch (o.kind) {
        case ShapeKind::Square: return px >= o.x && px < o.x + o.side && py >= o.y && py < o.y + o.side;
        case ShapeKind::Circle: return (x - o.cx()) * (x - o.cx()) + (y - o.cy()) * (y - o.cy()) <= r * r;
        case ShapeKind::Triangle: {  // apex at the top centre, base along the bottom: half-width t · r at depth t
            const double t = (y - o.y) / o.side;
            return t >= 0 && t <= 1 && std::fabs(x - o.cx()) <= t * r;
        }
    }
    return false;
}

}  // namespace

Scene make_scene(const SceneOptions& opt, Rng& rng) {
    opt.validate();
    const int n = opt.min_objects + rng.randint(opt.max_objects - opt.min_objects + 1);
    // A third of the scenes with several shapes show one shape repeated: drawn independently, "two red circles"
    // would come once in twelve and be hard to learn.
    const bool alike = n > 1 && rng.randint(3) == 0;
    std::vector<SceneObject> objects;
    for (int tries = 0; tries < kMaxPlacementTries; ++tries) {
        objects.clear();
        for (int i = 0; i < n; ++i) {
            SceneObject o;
            o.kind = static_cast<ShapeKind>(rng.randint(3));
            o.colour = 1 + rng.randint(kPaletteSize - 1);
            if (alike && i > 0) o.kind = objects[0].kind, o.colour = objects[0].colour;
            o.side = opt.min_shape + rng.randint(opt.max_shape - opt.min_shape + 1);
            o.x = rng.randint(opt.size - o.side + 1);
            o.y = rng.randint(opt.size - o.side + 1);
            objects.push_back(o);
        }
        if (!unambiguous(objects)) continue;
        Scene s;
        s.height = s.width = opt.size;
        s.pixels.assign(size_t(opt.size) * opt.size, 0);
        for (const SceneObject& o : objects)
            for (int py = o.y; py < o.y + o.side; ++py)
                for (int px = o.x; px < o.x + o.side; ++px)
                    if (covers(o, px, py)) s.pixels[size_t(py) * opt.size + px] = o.colour;
        s.objects = objects;
        s.caption = caption_of(objects);
        return s;
    }
    throw std::runtime_error(fmt::format("scenes: could not place {} shapes of {}..{} pixels on {}×{} in {} tries; use "
                                         "smaller shapes or fewer objects", n, opt.min_shape, opt.max_shape, opt.size,
                                         opt.size, kMaxPlacementTries));
}

SceneSplit make_scene_split(int n_train, int n_test, const SceneOptions& opt, uint64_t seed) {
    opt.validate();
    const int64_t pixels = (int64_t(n_train) + n_test) * opt.size * opt.size;
    if (n_train < 0 || n_test < 0 || pixels > kMaxScenePixels)
        throw std::invalid_argument(fmt::format("scenes: {} + {} scenes of {}×{} pixels; the counts must be ≥ 0 and "
                                                "hold at most {} pixels in all", n_train, n_test, opt.size, opt.size,
                                                kMaxScenePixels));
    Rng rng(seed);
    SceneSplit s;
    std::set<std::vector<int>> seen;  // the training images, to keep them out of the test set
    for (int i = 0; i < n_train; ++i) {
        s.train.push_back(make_scene(opt, rng));
        seen.insert(s.train.back().pixels);
    }
    for (int i = 0; i < n_test; ++i) {
        int tries = 0;
        Scene scene = make_scene(opt, rng);
        while (seen.count(scene.pixels)) {
            if (++tries == kMaxPlacementTries)
                throw std::runtime_error(fmt::format("scenes: {} training scenes leave too few new ones for the test set; "
                                                     "use more variety (sizes, objects) or fewer scenes", n_train));
            scene = make_scene(opt, rng);
        }
        s.test.push_back(std::move(scene));
    }
    return s;
}

int caption_width(const SceneOptions& options) {
    const int words[] = {0, 2, 6, 8};  // the longest caption for 1, 2, 3 shapes
    return words[options.max_objects] + 2;
}

Batch scene_batch(const std::vector<Scene>& scenes, const std::vector<int>& rows, int width) {
    const int B = static_cast<int>(rows.size());
    if (!B) throw std::invalid_argument("scene_batch: no rows");
    const int HW = scenes[rows[0]].height * scenes[rows[0]].width;
    Batch batch{IndexTensor(Shape{B, HW}), IndexTensor(Shape{B, width}, kEndWord)};
    for (int b = 0; b < B; ++b) {
        const Scene& s = scenes[rows[b]];
        if (static_cast<int>(s.pixels.size()) != HW)
            throw std::invalid_argument(fmt::format("scene_batch: scene {} has {} pixels, the first of the batch {}", rows[b],
                                                    s.pixels.size(), HW));
        if (static_cast<int>(s.caption.size()) + 2 > width)
            throw std::invalid_argument(fmt::format("scene_batch: the caption '{}' of scene {} needs {} words, the width is {}",
                                                    s.text(), rows[b], s.caption.size() + 2, width));
        std::copy(s.pixels.begin(), s.pixels.end(), batch.src.data.begin() + int64_t(b) * HW);
        int* row = batch.tgt.data.data() + int64_t(b) * width;  // "_", the words, then "." to the end
        row[0] = kStartWord;
        for (size_t w = 0; w < s.caption.size(); ++w) row[w + 1] = word_id(s.caption[w]);
    }
    return batch;
}

std::string caption_text(const std::vector<int>& ids) {
    std::string s;
    for (int id : ids) {
        if (id == kEndWord) break;
        if (id < 0 || id >= static_cast<int>(kSceneWords.size()))
            throw std::invalid_argument(fmt::format("caption_text: {} is not a word id (0..{})", id, kSceneWords.size() - 1));
        s += (s.empty() ? "" : " ") + kSceneWords[id];
    }
    return s;
}

void write_ppm(const std::string& path, const Scene& scene, int scale) {
    if (scale < 1 || scale > 16) throw std::invalid_argument(fmt::format("write_ppm: scale {} must be in 1..16", scale));
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw std::runtime_error(fmt::format("write_ppm: cannot open {} for writing", tmp));
    out << "P6\n" << scene.width * scale << " " << scene.height * scale << "\n255\n";
    for (int y = 0; y < scene.height * scale; ++y)
        for (int x = 0; x < scene.width * scale; ++x) {
            const Rgb c = kPalette[scene.pixels[size_t(y / scale) * scene.width + x / scale]];
            out.put(char(c.r)).put(char(c.g)).put(char(c.b));
        }
    out.close();
    if (!out) throw std::runtime_error(fmt::format("write_ppm: error while writing {}", tmp));
    std::filesystem::rename(tmp, path);  // a viewer never sees half a picture
}

}  // namespace s2a
