// tests/test_resume.cpp — a run stopped and resumed ends bit for bit where a run never stopped ends; a resume
// file that does not fit is refused, naming the file and the array; Ctrl-C stops a chapter between two steps,
// saves, ends its progress line and exits with 130, and the run continues from what it saved.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <poll.h>
#include <pty.h>  // forkpty: the chapter runs on a terminal of its own, so its progress bar is the live one
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>

#include "experiments/side_by_side.h"
#include "io/checkpoint.h"
#include "io/npz.h"
#include "tests/run_program.h"
#include "tests/util.h"

using namespace s2a;

namespace {

using Arrays = std::vector<std::pair<std::string, Tensor>>;

// The first difference between two .npz files in names, order, shapes or any bit of any value: the array's
// name, or "" if they hold the same.
std::string first_difference(const std::string& a, const std::string& b) {
    const Arrays x = load_npz(a), y = load_npz(b);
    if (x.size() != y.size()) return fmt::format("{} arrays against {}", x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i)
        if (x[i].first != y[i].first || !(x[i].second.shape == y[i].second.shape) ||
            std::memcmp(x[i].second.ptr(), y[i].second.ptr(), sizeof(Real) * x[i].second.numel()) != 0)
            return x[i].first;
    return "";
}

// Runs `program` for 4 epochs straight in one folder, and for 2, then --resume to 4, in another; every file
// named in `files` must then be the same in both, bit for bit.
void check_two_plus_two(const std::string& program, const std::string& flags, const std::vector<std::string>& files) {
    const TempDir straight(program + "_straight"), stopped(program + "_stopped");
    check_run(program, flags + " --epochs 4 --out " + straight.path(), 0, {});
    check_run(program, flags + " --epochs 2 --out " + stopped.path(), 0, {});
    // After 2 epochs the state differs from the state after 4 (else the comparison below proves nothing).
    CHECK(first_difference(stopped.file(files[0]), straight.file(files[0])) != "");
    check_run(program, flags + " --epochs 4 --resume " + stopped.path() + " --out " + stopped.path(), 0,
              {"resumed from", "at epoch 3, batch 1 of"});
    for (const std::string& file : files) CHECK_MESSAGE(first_difference(straight.file(file), stopped.file(file)) == "", file);
    // Asking for no more epochs than are done is refused, and leaves the files alone.
    check_run(program, flags + " --epochs 4 --resume " + stopped.path() + " --out " + stopped.path(), 1,
              {"4 epochs are done already, and --epochs asks for 4 in all"});
}

// A small contender on addition, as the chapters make them; `examples` and `hidden` vary the data and model.
Contender small_contender(int examples = 300, int hidden = 16) {
    const Split sets = split(load_or_generate("addition", "", examples, 3), 50, 3);  // the batchers copy what they need
    const Vocab vocab = make_vocab(sets.train);
    Rng init(5);
    return make_contender("model", std::make_unique<Seq2seq>(vocab.size(), 8, hidden, false, init), sets, vocab, 32, true,
                          Real(1e-2), 9);
}

// One epoch as the chapters write it.
void epoch(Contender& c) {
    for (; c.batch < c.train->num_batches(); ++c.batch) train_step(*c.model, c.train->batch(c.batch), *c.optimizer, 5);
    end_epoch(c);
    c.accuracy.push_back(exact_match(*c.model, *c.test, c.start_id));
}

std::vector<Tensor> values_of(const Contender& c) {
    std::vector<Tensor> v;
    for (const Var& p : c.model->parameters()) v.push_back(p.value());
    return v;
}

// Rewrites the archive `from` into `to` after `change` has had its way with the arrays.
void rewrite(const std::string& from, const std::string& to, const std::function<void(Arrays&)>& change) {
    Arrays arrays = load_npz(from);
    change(arrays);
    std::vector<std::pair<std::string, const Tensor*>> out;
    for (const auto& [name, t] : arrays) out.emplace_back(name, &t);
    save_npz(to, out);
}

}  // namespace

TEST_CASE("resume: ch1, 2 epochs + --resume + 2 epochs gives the weights of 4 epochs straight, bit for bit") {
    // --quick sizes, but --quick itself stops at 2 epochs.
    check_two_plus_two("ch1", "--examples 600 --test 100 --hidden 16 --batch 32",
                       {"ch1_baseline.resume.npz", "ch1_reversed.resume.npz", "ch1_peeky_reversed.resume.npz",
                        "ch1_baseline.npz", "ch1_reversed.npz", "ch1_peeky_reversed.npz"});
    check_run("ch1", "--eval-only --resume out", 2, {"ch1: --eval-only trains nothing: it cannot --resume"});
}

TEST_CASE("resume: ch5, 2 epochs + --resume + 2 epochs gives the Transformer of 4 epochs straight, bit for bit") {
    // Dropout 0.1 (the default) draws masks: the random streams must be restored too. No race (--seconds 0).
    check_two_plus_two("ch5", "--examples 400 --test 50 --d-model 16 --heads 2 --ffn 32 --layers 1 --warmup 10 --batch 32 "
                              "--beam 2 --seconds 0",
                       {"ch5_transformer.resume.npz"});
}

TEST_CASE("resume: an optimizer's exported state, imported into a fresh one, continues its updates exactly") {
    for (const bool adam : {true, false}) {
        CAPTURE(adam);
        Rng rng(4);
        const Tensor start = randn(Shape{3, 2}, rng), g = randn(Shape{3, 2}, rng);
        Var a = parameter(start, "W"), b = parameter(start, "W");
        auto make = [&](Var p) -> std::unique_ptr<Optimizer> {
            if (adam) return std::make_unique<Adam>(std::vector<Var>{p}, Real(0.1));
            return std::make_unique<SGD>(std::vector<Var>{p}, Real(0.1), Real(0.9));
        };
        const auto first = make(a), second = make(b);
        a.grad() = g;
        for (int i = 0; i < 3; ++i) first->step();
        second->set_state(first->state());
        b.value() = a.value();
        CHECK(second->steps() == 3);
        b.grad() = g;
        first->step();
        second->step();
        CHECK(a.value().data == b.value().data);  // the same moments, velocity and step counts: the same update
        CHECK(a.value().data != start.data);
        // A state of another shape, or of another optimizer, is refused and changes nothing.
        OptimizerState wrong = first->state();
        wrong.tensors[0].second[0] = Tensor(Shape{2, 3});
        CHECK(contains(error_of([&] { second->set_state(wrong); }), "shape (2, 3), the parameter's is (3, 2)"));
        CHECK(contains(error_of([&] { second->set_state(OptimizerState{}); }), "kinds of tensors"));
        CHECK(second->steps() == 4);
    }
}

TEST_CASE("resume: a contender saved and loaded continues exactly; its state is all in the file") {
    const TempDir dir("resume_api");
    Contender a = small_contender(), b = small_contender();
    epoch(a);
    for (int i = 0; i < 3; ++i) {  // and stop half way through the next epoch
        train_step(*a.model, a.train->batch(a.batch), *a.optimizer, 5);
        ++a.batch;
    }
    save_resume(a, dir.file("a.resume.npz"));
    load_resume(b, dir.file("a.resume.npz"));
    CHECK(b.batch == 3);
    CHECK(b.accuracy == a.accuracy);
    CHECK(b.optimizer->steps() == a.optimizer->steps());
    CHECK(b.train->order() == a.train->order());
    epoch(a);
    epoch(b);
    const std::vector<Tensor> va = values_of(a), vb = values_of(b);
    for (size_t i = 0; i < va.size(); ++i) CHECK(va[i].data == vb[i].data);
    CHECK(a.accuracy == b.accuracy);
}

TEST_CASE("resume: a file that does not fit, is corrupt or holds a NaN is refused, naming the file and the array") {
    const TempDir dir("resume_refused");
    const std::string good = dir.file("good.resume.npz"), bad = dir.file("bad.resume.npz");
    {
        Contender c = small_contender();
        epoch(c);
        save_resume(c, good);
    }
    Contender fresh = small_contender();
    const std::vector<Tensor> before = values_of(fresh);
    const auto refused = [&](Contender& c, const std::string& path, std::initializer_list<const char*> parts) {
        const std::string error = error_of([&] { load_resume(c, path); });
        INFO(error);
        CHECK(contains(error, path));
        for (const char* part : parts) CHECK_MESSAGE(contains(error, part), part);
    };
    SUBCASE("another model") {
        Contender wider = small_contender(300, 24);
        refused(wider, good, {"encoder.", "(8, 96)", "(8, 64)"});
    }
    SUBCASE("other data") {
        Contender more = small_contender(500);
        refused(more, good, {"run.order", "450 examples"});
    }
    SUBCASE("a NaN in Adam's moments") {
        std::string name;
        rewrite(good, bad, [&](Arrays& arrays) {
            for (auto& [n, t] : arrays)
                if (n.rfind("optimizer.v.", 0) == 0 && name.empty()) {
                    name = n;
                    t[1] = NAN;
                }
        });
        REQUIRE_FALSE(name.empty());
        refused(fresh, bad, {name.c_str(), "nan"});
    }
    SUBCASE("a random state or step count that is not a whole number") {
        rewrite(good, bad, [](Arrays& arrays) {
            for (auto& [n, t] : arrays)
                if (n == "optimizer.steps") t[0] = Real(0.5);
        });
        refused(fresh, bad, {"optimizer.steps", "0.5"});
    }
    SUBCASE("an array nobody asked for") {
        rewrite(good, bad, [](Arrays& arrays) { arrays.emplace_back("optimizer.momentum", Tensor(Shape{2})); });
        refused(fresh, bad, {"optimizer.momentum"});
    }
    SUBCASE("an array missing") {
        rewrite(good, bad, [](Arrays& arrays) {
            arrays.erase(std::remove_if(arrays.begin(), arrays.end(), [](const auto& a) { return a.first == "run.shuffle"; }),
                         arrays.end());
        });
        refused(fresh, bad, {"run.shuffle", "missing"});
    }
    SUBCASE("a truncated file") {
        const std::string bytes = [&] {
            std::ifstream in(good, std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(in), {});
        }();
        refused(fresh, dir.write("cut.resume.npz", bytes.substr(0, bytes.size() / 2)), {});
    }
    const std::vector<Tensor> after = values_of(fresh);
    for (size_t i = 0; i < before.size(); ++i) CHECK(after[i].data == before[i].data);  // nothing was copied
    CHECK(fresh.optimizer->steps() == 0);
    // The weights-only loader says what a resume file is for.
    CHECK(contains(error_of([&] { load(*fresh.model, good); }), "--resume"));
}

// ---------------------------------------------------------------- Ctrl-C

namespace {

// A chapter program running on a terminal of its own (a pseudo-terminal), as when a user types its name.
class Terminal {
  public:
    Terminal(const std::string& program, const std::vector<std::string>& args) {
        const std::string path = fmt::format("{}/bin/{}", S2A_BUILD_DIR, program);
        std::vector<char*> argv{const_cast<char*>(path.c_str())};
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            execv(path.c_str(), argv.data());
            _exit(127);
        }
    }
    ~Terminal() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        close(fd_);
    }

    // Reads what the program writes until `text` appears (true) or it ends or `seconds` pass (false).
    bool wait_for(const std::string& text, double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (output.find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() > end || !read_some(200)) return false;
        }
        return true;
    }
    void interrupt() { kill(pid_, SIGINT); }
    // Reads to the end and returns the exit status (-1 if ended by a signal or still running after `seconds`).
    int status(double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        int status = 0;
        while (std::chrono::steady_clock::now() < end) {
            const bool open = read_some(200);
            if (!open && waitpid(pid_, &status, WNOHANG) == pid_) {  // the terminal closes before the program is gone
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
        }
        return -1;
    }

    std::string output;

  private:
    // false once the program has closed the terminal (it ended)
    bool read_some(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return true;  // nothing yet
        char buf[4096];
        const ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0) return false;
        output.append(buf, static_cast<size_t>(n));
        return true;
    }

    pid_t pid_ = -1;
    int fd_ = -1;
};

// Runs `program` with `flags` on a terminal, presses Ctrl-C once its first epoch is done (the row "     1 " is
// printed: training is under way however slow the machine, and two epochs are left), and checks that it
// stops between two steps, saves every model in `names`, ends the bar's line and exits with 130; then that
// --resume from what it saved finishes the run (prints `end`, its last line's start).
void check_ctrl_c(const std::string& program, const std::string& flags, const std::vector<std::string>& names,
                  const std::string& end) {
    const TempDir out(program + "_ctrl_c");
    std::vector<std::string> args;
    std::istringstream words(flags + " --epochs 3 --out " + out.path());
    for (std::string w; words >> w;) args.push_back(w);
    Terminal t(program, args);
    REQUIRE_MESSAGE(t.wait_for("     1 ", 600), t.output);
    t.interrupt();
    const int status = t.status(600);
    INFO(t.output);
    CHECK(status == 130);
    const size_t said = t.output.find("Ctrl-C: ");
    REQUIRE(said != std::string::npos);
    CHECK(t.output[said - 1] == '\n');                            // the live bar's line was ended first
    CHECK(t.output.rfind("\x1b[K", said) != std::string::npos);  // (and there was a live bar)
    CHECK(contains(t.output, "To continue, run the same command with --resume " + out.file("interrupted")));
    CHECK(contains(t.output, program + ": interrupted (Ctrl-C)"));
    CHECK_FALSE(contains(t.output, end));  // it did not go on to the end
    for (const std::string& name : names) {
        // The state after the last whole epoch is still there, under its own name; the half epoch beside it.
        const std::string whole = out.file(name + ".resume.npz"), half = out.file("interrupted/" + name + ".resume.npz");
        REQUIRE(std::filesystem::exists(whole));
        REQUIRE(std::filesystem::exists(half));
        for (const auto& [n, t] : load_npz(whole))
            if (n == "run.progress") CHECK(from_counts(t, n)[1] == 0);  // batch 0: at an epoch's end
    }
    check_run(program, flags + " --epochs 3 --resume " + out.file("interrupted") + " --out " + out.path(), 0,
              {"resumed from", end.c_str(), "     3 "});
}

}  // namespace

TEST_CASE("resume: Ctrl-C stops ch1 between two steps, saves, ends the bar's line, exits 130; --resume finishes") {
    check_ctrl_c("ch1", "--examples 4000 --test 100 --hidden 32 --batch 32",
                 {"ch1_baseline", "ch1_reversed", "ch1_peeky_reversed"}, "Total time");
}

TEST_CASE("resume: Ctrl-C stops ch5's Transformer on dates the same way") {
    check_ctrl_c("ch5", "--examples 3000 --test 100 --d-model 32 --heads 2 --ffn 64 --layers 1 --warmup 10 --batch 32 "
                        "--beam 2 --seconds 0", {"ch5_transformer"}, "s of training; total time");
}
