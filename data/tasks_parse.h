// data/tasks_parse.h — chapter 6's task: seq2seq as a parser. An arithmetic expression with nested
// parentheses and operator precedence goes in, its parse tree comes out, linearised in prefix notation:
//
//   "(3+4)*5-2"  →  "-*+3452"      the tree  -( *( +(3, 4), 5 ), 2 ), each operator before its two operands
//
// Operands are single digits, so prefix notation needs no spaces (the answer has no inner space, and the
// padding ' ' can end it). The output's length varies with the expression (2·ops + 1 characters) and its
// order differs from the input's: to write the first character the model must find the operator applied last,
// which parentheses and precedence hide anywhere in the question.
//
// Precedence: * binds tighter than + and -; operators of one level group from the left. The question writes
// a parenthesis only where the tree needs one (a lower-precedence operand, or a right operand of the same
// level: "3-(4-5)" and "3+(4+5)" are different trees from "3-4-5" and "3+4+5"), so every question has
// exactly one parse, and no two different trees write the same question.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/tasks.h"

namespace s2a {

// The chapter's size: up to 5 operators, answers of 3..11 characters, up to 4 levels of parentheses.
constexpr int kParseMaxOps = 5;

// The widest question and answer make_parse(…, max_ops, …) writes, for padding: an answer of 2·max_ops + 1
// characters, and at most 2·(max_ops - 1) parentheses more in the question.
int parse_question_width(int max_ops);
int parse_answer_width(int max_ops);

// n unique expressions with 1..max_ops operators (+, -, *; uniform in count), digits 0..9 as operands, the
// tree's shape drawn by splitting the operators uniformly between the two sides. Throws
// std::invalid_argument for n < 0, max_ops < 1, or more expressions asked for than the sizes can write.
std::vector<Example> make_parse(int n, int max_ops, uint64_t seed);

// The deepest nesting of parentheses in a question: 0 for "3+4*5", 2 for "(3-(4+5))*2". The by-depth breakdown.
int paren_depth(const std::string& question);

// The prefix notation of an expression written as above (the reference parser the tests hold the generator to).
// Throws std::invalid_argument naming the position of a character it cannot parse.
std::string to_prefix(const std::string& expression);

}  // namespace s2a
