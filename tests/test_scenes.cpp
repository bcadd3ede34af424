// tests/test_scenes.cpp — the scene generator (data/scenes.h): the same seed gives the same scenes, every caption
// says what the pixels show, the test set holds no training image, batches and the PPM file, and the limits.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <map>

#include "data/scenes.h"
#include "tests/util.h"

using namespace s2a;

namespace {

SceneOptions options(int min_objects, int max_objects) {
    SceneOptions o;
    o.min_objects = min_objects, o.max_objects = max_objects;
    return o;
}

// How many pixels of each palette id the image holds.
std::map<int, int> colour_counts(const Scene& s) {
    std::map<int, int> n;
    for (int p : s.pixels) ++n[p];
    return n;
}

}  // namespace

TEST_CASE("scenes: a seed gives the same scenes, another seed others") {
    const SceneSplit a = make_scene_split(40, 10, options(1, 3), 5), b = make_scene_split(40, 10, options(1, 3), 5);
    const SceneSplit c = make_scene_split(40, 10, options(1, 3), 6);
    int same_as_c = 0;
    for (int i = 0; i < 40; ++i) {
        CHECK(a.train[i].pixels == b.train[i].pixels);
        CHECK(a.train[i].caption == b.train[i].caption);
        same_as_c += a.train[i].pixels == c.train[i].pixels;
    }
    CHECK(same_as_c < 4);
}

TEST_CASE("scenes: every caption describes the shapes drawn, by the rules of scenes.h") {
    Rng rng(7);
    std::map<std::string, int> forms;  // how often each kind of caption came
    for (int i = 0; i < 600; ++i) {
        const Scene s = make_scene(options(1, 3), rng);
        INFO(s.text());
        REQUIRE(s.pixels.size() == 32u * 32u);
        const int n = static_cast<int>(s.objects.size());
        // Every shape is visible: its colour covers at least a quarter of its bounding box (a triangle half).
        std::map<int, int> area;
        for (const SceneObject& o : s.objects) area[o.colour] += o.side * o.side / 4;
        for (auto [colour, least] : area) CHECK(colour_counts(s)[colour] >= least);
        CHECK(colour_counts(s)[0] > 0);
        // The words name the objects, and the relation matches their centres.
        const std::vector<std::string>& w = s.caption;
        for (const std::string& word : w) CHECK_NOTHROW(word_id(word));
        CHECK(int(w.size()) + 2 <= caption_width(options(1, 3)));
        if (n == 1) {
            CHECK(w.size() == 2);
            ++forms["one"];
        } else if (w[0] == "two" || w[0] == "three") {
            CHECK(w[0] == (n == 2 ? "two" : "three"));
            CHECK(w[1] == kColourNames[s.objects[0].colour]);
            ++forms[w[0]];
        } else if (n == 2) {
            const SceneObject &a = s.objects[0], &b = s.objects[1];
            const bool horizontal = std::fabs(a.cx() - b.cx()) >= std::fabs(a.cy() - b.cy());
            const SceneObject& first = horizontal ? (a.cx() < b.cx() ? a : b) : (a.cy() < b.cy() ? a : b);
            CHECK(w[0] == kColourNames[first.colour]);
            CHECK(w[2] == (horizontal ? "left" : "above"));
            ++forms[w[2]];
        } else {
            CHECK(w.size() == 8);
            CHECK(w[2] == "and");
            ++forms["list"];
        }
    }
    for (const char* form : {"one", "two", "three", "left", "above", "list"}) {
        INFO(form);
        CHECK(forms[form] >= 20);
    }
}

TEST_CASE("scenes: the test set holds no training image, and both are the sizes asked for") {
    SceneOptions o = options(1, 1);
    o.size = 16, o.min_shape = o.max_shape = 5;  // a small space of pictures, so repeats are drawn often
    const SceneSplit s = make_scene_split(300, 100, o, 3);
    REQUIRE(s.train.size() == 300);
    REQUIRE(s.test.size() == 100);
    for (const Scene& t : s.test)
        for (const Scene& r : s.train) REQUIRE(t.pixels != r.pixels);
}

TEST_CASE("scenes: batches of ids, start word first, end word to the width") {
    const SceneSplit s = make_scene_split(6, 0, options(1, 2), 9);
    const int width = caption_width(options(1, 2));
    CHECK(width == 8);
    const Batch b = scene_batch(s.train, {4, 1}, width);
    CHECK(b.src.shape == Shape{2, 32 * 32});
    CHECK(b.tgt.shape == Shape{2, width});
    CHECK(std::equal(s.train[4].pixels.begin(), s.train[4].pixels.end(), b.src.data.begin()));
    const std::vector<int> row(b.tgt.data.begin() + width, b.tgt.data.end());  // scene 1
    CHECK(row[0] == kStartWord);
    CHECK(caption_text(std::vector<int>(row.begin() + 1, row.end())) == s.train[1].text());
    CHECK(row.back() == kEndWord);
    CHECK(contains(error_of([&] { scene_batch(s.train, {0}, 3); }), "the width is 3"));
    CHECK(contains(error_of([&] { caption_text({2, 99}); }), "99 is not a word id"));
    CHECK(contains(error_of([] { word_id("purple"); }), "'purple'"));
}

TEST_CASE("scenes: PPM file, scaled") {
    const TempDir dir("scenes");
    Rng rng(11);
    const Scene s = make_scene(options(2, 2), rng);
    write_ppm(dir.file("a.ppm"), s, 2);
    std::ifstream in(dir.file("a.ppm"), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string header = "P6\n64 64\n255\n";
    REQUIRE(bytes.size() == header.size() + 64 * 64 * 3);
    CHECK(bytes.substr(0, header.size()) == header);
    // Pixel (y, x) of the image is the 2×2 block at (2y, 2x): check one pixel of the first shape.
    const SceneObject& o = s.objects[0];
    const int x = int(o.cx()), y = int(o.cy());  // the centre is inside every shape
    const Rgb want = kPalette[s.pixels[size_t(y) * 32 + x]];
    CHECK(want.r == kPalette[o.colour].r);
    const size_t at = header.size() + (size_t(2 * y + 1) * 64 + 2 * x + 1) * 3;
    CHECK((unsigned char)bytes[at] == want.r);
    CHECK((unsigned char)bytes[at + 1] == want.g);
    CHECK((unsigned char)bytes[at + 2] == want.b);
    CHECK(contains(error_of([&] { write_ppm(dir.file("b.ppm"), s, 0); }), "scale 0"));
    CHECK(contains(error_of([&] { write_ppm("/nonexistent/dir/c.ppm", s); }), "/nonexistent/dir/c.ppm"));
}

TEST_CASE("scenes: options outside the limits are refused in one line") {
    SceneOptions o;
    o.size = 8;
    CHECK(contains(error_of([&] { o.validate(); }), "size 8 must be in 16..128"));
    o = SceneOptions{};
    o.max_objects = 4;
    CHECK(contains(error_of([&] { o.validate(); }), "objects 1..4 must be within 1..3"));
    o = SceneOptions{};
    o.max_shape = 17;
    CHECK(contains(error_of([&] { o.validate(); }), "within 5..16"));
    CHECK(contains(error_of([] { make_scene_split(-1, 0, SceneOptions{}, 1); }), "-1 + 0 scenes"));
    CHECK(contains(error_of([] { make_scene_split(200000, 0, SceneOptions{}, 1); }), "at most 134217728 pixels"));
    o = SceneOptions{};
    o.size = 16, o.min_objects = o.max_objects = 3, o.min_shape = o.max_shape = 8;  // three 8-pixel shapes on 16×16
    Rng rng(1);
    CHECK(contains(error_of([&] { make_scene(o, rng); }), "could not place 3 shapes"));
}
