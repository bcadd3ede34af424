// data/scenes.h — generated pictures and their captions, for the image-captioning chapter: a few flat coloured
// shapes on a black background, described in words ("red circle left of blue square", "two green triangles").
//
// Dimensions:
//   N      scenes                       P      palette colours (kPalette: black, then the shape colours)
//   H, W   image height and width       T      caption words after the start word, the end word "." included
//
// A scene is a palette image, as GIF and indexed PNG store pictures: each pixel holds the id of its colour,
// pixels (H · W) row by row. The captioner looks each id up in kPalette's RGB table, exactly as an Embedding
// looks up a word, so images travel through the project's batches as ids, like sentences.
//
// What is drawn: 1 to 3 shapes (circle, square, triangle pointing up) in 4 colours, of random sizes, at random
// places, never touching. The caption is a function of the picture, so a model can get every one exactly:
//   one shape                           "red circle"
//   all the shapes alike                "two green triangles", "three blue squares"
//   two different shapes                "red circle left of blue square" or "yellow triangle above red square":
//                                       the relation is the axis along which they are farther apart (placing
//                                       makes it at least twice the other), the first named the left / upper one
//   three shapes, not all alike         "red circle and blue square and green triangle", left to right (placing
//                                       keeps their centres at least kMinCentreGap pixels apart in x)
// and every caption ends with the end word ".". Words have fixed ids (kSceneWords): the start word "_" is 0 and
// the end word "." is 1, which also pads a caption to the set's width.
//
// Limits (checked by SceneOptions::validate, with a one-line error naming the field and the limit): images of
// 16 to 128 pixels a side, shapes of 5 pixels to half the side, 1 to 3 shapes a scene; a set of at most
// kMaxScenePixels pixels in all (512 MiB of ids). A scene that cannot be placed in kMaxPlacementTries tries is an
// error naming the options.
//
// The generator draws from s2a::Rng only, so a seed gives the same scenes on every platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace s2a {

enum class ShapeKind { Circle, Square, Triangle };

struct Rgb {
    unsigned char r, g, b;
};

// Palette id → name and colour; id 0 is the background.
constexpr int kPaletteSize = 5;
extern const char* const kColourNames[kPaletteSize];  // "black", "red", "green", "blue", "yellow"
extern const Rgb kPalette[kPaletteSize];

// The caption words, id = position: "_" (start) 0, "." (end and padding) 1, then colours, shapes, counts,
// relations.
extern const std::vector<std::string> kSceneWords;
constexpr int kStartWord = 0, kEndWord = 1;
int word_id(const std::string& word);  // throws std::invalid_argument naming the word if it is not in kSceneWords

constexpr int kMaxPlacementTries = 10000;
constexpr int kMinCentreGap = 3;
constexpr int64_t kMaxScenePixels = int64_t(1) << 27;  // pixels between the x centres of three shapes, so "left to right" is clear

struct SceneOptions {
    int size = 32;                    // H = W, pixels
    int min_objects = 1, max_objects = 2;
    int min_shape = 7, max_shape = 11;  // a shape's bounding box side, pixels
    void validate() const;            // throws std::invalid_argument naming the field and its limit
};

// One shape: its bounding box (top-left x, y and side, in pixels) and its colour's palette id (1..P-1).
struct SceneObject {
    ShapeKind kind;
    int colour;
    int x, y, side;
    double cx() const { return x + side / 2.0; }
    double cy() const { return y + side / 2.0; }
};

struct Scene {
    int height = 0, width = 0;
    std::vector<int> pixels;             // (H · W) palette ids, row by row
    std::vector<SceneObject> objects;
    std::vector<std::string> caption;    // the words, without "_" and ".": {"red", "circle"}
    std::string text() const;            // the caption as one string: "red circle"
};

// One scene drawn with rng.
Scene make_scene(const SceneOptions& options, Rng& rng);

// n_train + n_test scenes from one seed. No test image is pixel for pixel a training image (a drawn test
// scene equal to one of the training set is drawn again), so test accuracy measures pictures never seen.
struct SceneSplit {
    std::vector<Scene> train, test;
};
SceneSplit make_scene_split(int n_train, int n_test, const SceneOptions& options, uint64_t seed);

// The caption width of a set: the longest caption any scene of these options can have, plus "." and the start
// word: the T + 1 of a batch's tgt. (2 + 2 for one shape, 6 + 2 for two, 8 + 2 for three.)
int caption_width(const SceneOptions& options);

// The scenes rows[0..B-1] as a batch: src (B, H·W) palette ids, tgt (B, caption_width) "_", the words, then
// "." up to the width. Throws std::invalid_argument if a caption is longer than the width or the images differ
// in size.
Batch scene_batch(const std::vector<Scene>& scenes, const std::vector<int>& rows, int width);

// Word ids → the words up to (not including) the first end word, joined by spaces.
std::string caption_text(const std::vector<int>& ids);

// Writes the image as a binary PPM (P6), each pixel a scale × scale block (any image viewer opens it), to
// path + ".tmp" renamed to path. Throws std::runtime_error naming the path if it cannot be written, and
// std::invalid_argument unless 1 <= scale <= 16.
void write_ppm(const std::string& path, const Scene& scene, int scale = 4);

}  // namespace s2a
