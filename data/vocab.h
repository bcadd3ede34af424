// data/vocab.h — Vocab: the character vocabulary of a toy task, mapping characters to ids and back.
//
// The sequence-to-sequence chapters work on characters, not words: "16+75" is the sequence
// '1' '6' '+' '7' '5', and each character gets an integer id that an Embedding layer looks up.
// Ids are given in sorted character order, so the same texts always give the same ids, on every
// machine and in every run (a map filled in order of appearance would depend on the data order).
//
// Only printable ASCII (' ' .. '~') is allowed. A character the vocabulary has never seen is an error,
// never silently mapped to some "unknown" id: at inference that would hide a typo or a wrong file.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace s2a {

class Vocab {
  public:
    Vocab() { ids_.fill(-1); }  // empty: knows no character

    // Every distinct character of `texts`, ids 0..size()-1 in sorted order. Throws on non-printable ones.
    static Vocab from_texts(const std::vector<std::string>& texts);

    int size() const { return static_cast<int>(chars_.size()); }
    bool contains(char c) const;
    int id(char c) const;   // throws std::runtime_error naming the character if it is unknown
    char ch(int id) const;  // throws std::runtime_error if id is not in 0..size()-1
    const std::string& chars() const { return chars_; }  // all characters, in id order

    // One id per character. Throws naming the unknown character and the text it came from.
    std::vector<int> encode(const std::string& s) const;
    std::string decode(const std::vector<int>& ids) const;

  private:
    std::string chars_;           // id -> character
    std::array<int, 128> ids_;  // character code -> id, or -1 if the character is not in the vocabulary
};

// A character as an error message should show it: 'x' if printable, else its code, "code 9".
std::string describe_char(char c);

}  // namespace s2a
