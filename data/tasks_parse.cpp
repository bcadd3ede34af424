// data/tasks_parse.cpp — the expression generator, the nesting depth, and a reference parser.
#include "data/tasks_parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unordered_set>

#include "autodiff/tensor.h"  // Rng

namespace s2a {

namespace {

// A node of the parse tree: an operator with two operands, or a digit (no children).
struct Node {
    char symbol;
    std::unique_ptr<Node> left, right;
};

int precedence(char op) { return op == '*' ? 2 : 1; }

// A random tree of `ops` operators: the root's operator, then the other ops - 1 split uniformly.
std::unique_ptr<Node> random_tree(int ops, Rng& rng) {
    auto node = std::make_unique<Node>();
    if (ops == 0) {
        node->symbol = static_cast<char>('0' + rng.randint(10));
        return node;
    }
    node->symbol = "+-*"[rng.randint(3)];
    const int left = rng.randint(ops);  // 0 .. ops - 1 operators on the left
    node->left = random_tree(left, rng);
    node->right = random_tree(ops - 1 - left, rng);
    return node;
}

// Infix with only the parentheses the tree needs: around an operand of lower precedence than its parent, and
// around a right operand of the same precedence (operators group from the left).
std::string infix(const Node& n) {
    if (!n.left) return std::string(1, n.symbol);
    const auto operand = [&](const Node& child, bool right) {
        const bool paren = child.left && (precedence(child.symbol) < precedence(n.symbol) ||
                                          (right && precedence(child.symbol) == precedence(n.symbol)));
        return paren ? "(" + infix(child) + ")" : infix(child);
    };
    return operand(*n.left, false) + n.symbol + operand(*n.right, true);
}

std::string prefix(const Node& n) { return n.left ? n.symbol + prefix(*n.left) + prefix(*n.right) : std::string(1, n.symbol); }

// Recursive descent over   expr := term (('+' | '-') term)*    term := atom ('*' atom)*    atom := digit | '(' expr ')'
// returning each subexpression's prefix notation.
class Parser {
  public:
    explicit Parser(const std::string& text) : s_(text) {}
    std::string parse() {
        std::string e = expr();
        if (at_ < s_.size()) fail("an operator or the end");
        return e;
    }

  private:
    std::string expr() {
        std::string left = term();
        while (at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-')) {
            const char op = s_[at_++];
            left = op + left + term();
        }
        return left;
    }
    std::string term() {
        std::string left = atom();
        while (at_ < s_.size() && s_[at_] == '*') {
            ++at_;
            left = '*' + left + atom();
        }
        return left;
    }
    std::string atom() {
        if (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') return std::string(1, s_[at_++]);
        if (at_ >= s_.size() || s_[at_] != '(') fail("a digit or '('");
        ++at_;
        std::string e = expr();
        if (at_ >= s_.size() || s_[at_] != ')') fail("')'");
        ++at_;
        return e;
    }
    [[noreturn]] void fail(const char* expected) const {
        throw std::invalid_argument(fmt::format("to_prefix: \"{}\" at position {}: expected {}", s_, at_ + 1, expected));
    }
    const std::string& s_;
    size_t at_ = 0;
};

}  // namespace

int parse_question_width(int max_ops) { return 4 * max_ops - 1; }
int parse_answer_width(int max_ops) { return 2 * max_ops + 2; }  // the longest answer and its end symbol

std::vector<Example> make_parse(int n, int max_ops, uint64_t seed) {
    if (n < 0 || max_ops < 1)
        throw std::invalid_argument(fmt::format("make_parse: need n >= 0 and max_ops >= 1, got {}, {}", n, max_ops));
    Rng rng(seed);
    std::unordered_set<std::string> seen;  // a repeated question is drawn again
    std::vector<Example> examples;
    examples.reserve(n);
    for (int64_t tries = 0; static_cast<int>(examples.size()) < n; ++tries) {
        if (tries > 100 * int64_t(n) + 1000)
            throw std::invalid_argument(fmt::format("make_parse: could not draw {} different expressions of at most {} "
                                                    "operators (got {})", n, max_ops, examples.size()));
        const auto tree = random_tree(1 + rng.randint(max_ops), rng);
        std::string question = infix(*tree);
        if (seen.insert(question).second) examples.push_back({std::move(question), prefix(*tree)});
    }
    return examples;
}

int paren_depth(const std::string& question) {
    int depth = 0, deepest = 0;
    for (char c : question) {
        depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        deepest = std::max(deepest, depth);
    }
    return deepest;
}

std::string to_prefix(const std::string& expression) { return Parser(expression).parse(); }

}  // namespace s2a
