// experiments/captions.h — what chapter 8 measures about a captioner beyond its exact match: which captions
// fail and at which word, how much of each word's attention lands on the object the word names, and the
// pictures of it (the image with each generated word's attention map laid over it, as SVG).
//
// Dimensions: N scenes, B batch, T caption steps, L = Ho · Wo grid positions, Hi × Wi image pixels.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "data/scenes.h"
#include "models/captioner.h"

namespace s2a {

// What a caption says, by the rules of data/scenes.h: one shape, two (or three) alike, two in a relation, three.
enum class CaptionKind { One, Alike, LeftOf, Above, Three };
constexpr int kCaptionKinds = 5;
const char* caption_kind_name(CaptionKind kind);  // "one shape", "alike", "left of", "above", "three"
CaptionKind caption_kind(const Scene& scene);

// The class of a caption word: colour, shape, count ("two", "three"), relation ("left", "of", "above", "and"),
// or the end word ".". A wrong caption is filed under the class of the true word at its first mistake.
enum class WordClass { Colour, Shape, Count, Relation, End };
constexpr int kWordClasses = 5;
const char* word_class_name(WordClass c);
WordClass word_class(int word_id);

// Exact match by caption kind, and for the wrong captions, the class of the first word they got wrong.
// predictions[i] is scene i's generated caption (word ids, the end word and what follows included).
struct KindTable {
    int scenes[kCaptionKinds] = {}, right[kCaptionKinds] = {};
    int first_error[kCaptionKinds][kWordClasses] = {};
};
KindTable errors_by_kind(const std::vector<Scene>& scenes, const std::vector<std::vector<int>>& predictions);
void print_kind_table(const KindTable& table);

// Where the words look. For every colour or shape word of every test caption the model wrote exactly, the
// weight α_{t,l} its step put on grid cells covering the object it names (a cell covers an object when one of
// its Hi/Ho × Wi/Wo pixels is painted by it; "two red circles" names both). `chance` is what weights spread
// evenly over the grid would put there: the mean fraction of the cells that cover the named object.
// The grid cells (l = i · Wo + j) covering the object(s) that word w of the scene's caption names.
std::set<int> named_cells(const Scene& scene, size_t w, int Ho, int Wo);
struct AttentionOnObjects {
    double on_object = 0, chance = 0;
    int words = 0;  // the words measured
};
AttentionOnObjects attention_on_objects(Captioner& model, const std::vector<Scene>& scenes, int width, int batch_size);

// For each of `scenes`, a row: the image, then one panel per generated word (up to and including the end word)
// with that word's attention over the grid laid on the image (a white wash, the thicker the more weight),
// and the word above it. `scale` pixels per image pixel. Writes path atomically; throws std::runtime_error
// naming the path if it cannot be written.
void write_attention_overlays(const std::string& path, Captioner& model, const std::vector<Scene>& scenes, int width,
                              int scale = 3);

}  // namespace s2a
