// data/vocab.h — Vocab: the character vocabulary of a task, mapping characters to ids and back.
//
// The sequence-to-sequence chapters work on characters, not words: "16+75" is the sequence
// '1' '6' '+' '7' '5', and "九月" the sequence '九' '月'; each character gets an integer id that an Embedding
// layer looks up. A character is a Unicode code point; texts are UTF-8 (data/utf8.h). Ids are given in
// sorted code-point order, so the same texts always give the same ids, on every machine and in every run (a
// map filled in order of appearance would depend on the data order), and ASCII characters, which come first,
// keep the ids they had when the vocabulary was ASCII only.
//
// Any printable character is allowed; control characters (tab, newline, ...) and invalid UTF-8 are refused.
// A character the vocabulary has never seen is an error, never silently mapped to some "unknown" id: at
// inference that would hide a typo or a wrong file.
#pragma once

#include <string>
#include <vector>

namespace s2a {

class Vocab {
  public:
    // Every distinct character of `texts` (UTF-8), ids 0..size()-1 in sorted order. Throws on invalid UTF-8
    // and on control characters, naming the text.
    static Vocab from_texts(const std::vector<std::string>& texts);

    int size() const { return static_cast<int>(code_points_.size()); }
    bool contains(char32_t c) const;
    int id(char32_t c) const;          // throws std::runtime_error naming the character if it is unknown
    std::string ch(int id) const;      // the character as UTF-8 text, "9" or "年"; throws if id is not in 0..size()-1
    const std::string& chars() const { return chars_; }  // all characters, in id order, as UTF-8 text

    // One id per character of the UTF-8 text `s`. Throws naming the unknown character and the text it came from.
    std::vector<int> encode(const std::string& s) const;
    std::string decode(const std::vector<int>& ids) const;  // UTF-8

  private:
    std::u32string code_points_;  // id -> character, ascending: a character's id is its place in this list
    std::string chars_;           // the same characters as UTF-8 text
};

// Printable: every character but the control characters (C0 U+0000..U+001F, DEL, C1 U+0080..U+009F).
bool is_printable(char32_t c);

// A character as an error message should show it: 'x' if printable ('年' (U+5E74) if not ASCII), else its
// code, "code 9".
std::string describe_char(char32_t c);

}  // namespace s2a
