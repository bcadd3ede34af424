// data/utf8.h — a small UTF-8 codec (text bytes ↔ Unicode code points) and the width of text on a terminal.
//
// Text in this project is std::string holding UTF-8; a "character" is one Unicode code point. UTF-8 writes a
// code point in one to four bytes; the first byte says how many, every following byte is 10xxxxxx and
// carries six more bits:
//
//     U+0000  .. U+007F     0xxxxxxx                              ASCII is its own encoding
//     U+0080  .. U+07FF     110xxxxx 10xxxxxx                     'é' U+00E9 = c3 a9
//     U+0800  .. U+FFFF     1110xxxx 10xxxxxx 10xxxxxx            '年' U+5E74 = e5 b9 b4
//     U+10000 .. U+10FFFF   11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
//
// Invalid UTF-8 is refused, never guessed at: a continuation byte with no lead byte, a lead byte that no
// encoding uses (f8..ff), a sequence cut short, an overlong encoding (a code point in more bytes than it
// needs: c0 af is '/' written in two bytes, a classic way to smuggle a character past a check), a surrogate
// (U+D800..U+DFFF, halves of UTF-16 pairs, not characters), and anything beyond U+10FFFF.
//
// On a terminal, East Asian wide characters (CJK ideographs, kana, hangul, fullwidth forms) take two
// columns and every other character one: display_width counts columns so tables and heat maps line up.
// (Combining marks, which take none, are counted as one: the tasks here have none.)
#pragma once

#include <cstddef>
#include <string>

namespace s2a {

// One character decoded from a UTF-8 text.
struct Utf8Char {
    char32_t code_point = 0;  // the character; 0 if the bytes were invalid
    int bytes = 1;            // how many bytes it took (when invalid, how many to skip: at least 1)
    std::string problem;      // "" if valid, else what was wrong with the bytes, naming them
};

// The character that starts at byte `at` of `s` (at < s.size()).
Utf8Char decode_char(const std::string& s, size_t at);

// Where `s` stops being valid UTF-8: the column (the character's number, from 1) and what is wrong there.
struct Utf8Problem {
    int column = 0;  // 0: the text is valid
    std::string what;
};
Utf8Problem utf8_problem(const std::string& s);

// The code points of a UTF-8 text. Throws std::runtime_error "invalid UTF-8 in column C: what" if it is not.
std::u32string utf8_decode(const std::string& s);

// One code point as UTF-8 bytes, or a whole string of them. Throws std::invalid_argument for a surrogate or
// a value beyond U+10FFFF.
std::string utf8_encode(char32_t c);
std::string utf8_encode(const std::u32string& s);

// The number of characters in a valid UTF-8 text: the bytes that start one (every byte but a 10xxxxxx).
size_t utf8_length(const std::string& s);

// Terminal columns: 2 for an East Asian wide character, 1 for any other.
int display_width(char32_t c);
// The columns of a UTF-8 text; an invalid byte counts as one column (it is shown as one replacement mark).
int display_width(const std::string& s);
// The longest start of `s` that fits in `width` columns (a wide character that would stick out is left off).
std::string prefix_of_width(const std::string& s, int width);
// `s` followed by spaces up to `width` columns (unchanged if it is already as wide or wider).
std::string pad_to_width(const std::string& s, int width);

}  // namespace s2a
