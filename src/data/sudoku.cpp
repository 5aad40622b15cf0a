// Sudoku reading, shuffling, generation and conversion (see sudoku.hpp). The solver is a
// bitmask backtracker that always branches on the cell with the fewest candidates; it counts
// solutions up to a limit, which is how the generator keeps every puzzle's solution unique.
#include "trm/data/sudoku.hpp"

#include <algorithm>
#include <numeric>

#include "csv_rows.hpp"
#include "simple_convert.hpp"
#include "trm/common/error.hpp"

namespace trm {

SudokuShape sudoku_shape(int size) {
  switch (size) {
    case 4: return SudokuShape{4, 2, 2};
    case 6: return SudokuShape{6, 2, 3};
    case 9: return SudokuShape{9, 3, 3};
    default: TRM_FAIL("unsupported sudoku size " << size, "--size is 4, 6 or 9");
  }
}

namespace {

struct Solver {
  const SudokuShape& shape;
  std::vector<uint8_t> cells;
  std::vector<uint32_t> row_used, col_used, box_used;
  int limit;
  int64_t max_nodes;  // < 0: unbounded; search gives up (aborted) after this many nodes
  int64_t nodes = 0;
  bool aborted = false;
  int found = 0;
  std::vector<uint8_t> first_solution;

  Solver(const SudokuShape& s, const SudokuBoard& board, int lim, int64_t budget = -1)
      : shape(s), cells(board), row_used(s.size, 0), col_used(s.size, 0), box_used(s.size, 0), limit(lim),
        max_nodes(budget) {}

  int box(int r, int c) const {
    return (r / shape.box_rows) * (shape.size / shape.box_cols) + c / shape.box_cols;
  }
  bool init() {
    for (int r = 0; r < shape.size; ++r) {
      for (int c = 0; c < shape.size; ++c) {
        const int v = cells[r * shape.size + c];
        if (v == 0) continue;
        const uint32_t bit = 1u << v;
        if ((row_used[r] | col_used[c] | box_used[box(r, c)]) & bit) return false;
        row_used[r] |= bit;
        col_used[c] |= bit;
        box_used[box(r, c)] |= bit;
      }
    }
    return true;
  }
  void search() {
    if (found >= limit || aborted) return;
    if (max_nodes >= 0 && ++nodes > max_nodes) {
      aborted = true;
      return;
    }
    int best = -1, best_count = 100;
    uint32_t best_mask = 0;
    const uint32_t all = ((1u << (shape.size + 1)) - 1) & ~1u;
    for (int i = 0; i < shape.cells(); ++i) {
      if (cells[i] != 0) continue;
      const int r = i / shape.size, c = i % shape.size;
      const uint32_t mask = all & ~(row_used[r] | col_used[c] | box_used[box(r, c)]);
      const int count = __builtin_popcount(mask);
      if (count < best_count) {
        best = i;
        best_count = count;
        best_mask = mask;
        if (count <= 1) break;
      }
    }
    if (best < 0) {
      if (found == 0) first_solution = cells;
      ++found;
      return;
    }
    const int r = best / shape.size, c = best % shape.size, b = box(r, c);
    for (int v = 1; v <= shape.size && found < limit; ++v) {
      const uint32_t bit = 1u << v;
      if (!(best_mask & bit)) continue;
      cells[best] = static_cast<uint8_t>(v);
      row_used[r] |= bit;
      col_used[c] |= bit;
      box_used[b] |= bit;
      search();
      row_used[r] &= ~bit;
      col_used[c] &= ~bit;
      box_used[b] &= ~bit;
      cells[best] = 0;
    }
  }
};

// Search nodes the generator allows one solve: a rare board makes plain backtracking take
// seconds; the generator then keeps the cell (or the shuffled grid) instead of waiting.
constexpr int64_t kGeneratorNodeBudget = 20000;

// Row order from a band permutation and a permutation within each band (band height h).
std::vector<int> block_permutation(int size, int h, Rng* rng) {
  std::vector<int> blocks(size / h);
  std::iota(blocks.begin(), blocks.end(), 0);
  rng->shuffle(blocks.begin(), blocks.end());
  std::vector<int> out;
  for (const int b : blocks) {
    std::vector<int> inner(h);
    std::iota(inner.begin(), inner.end(), 0);
    rng->shuffle(inner.begin(), inner.end());
    for (const int i : inner) out.push_back(b * h + i);
  }
  return out;
}

std::vector<uint8_t> encode_board(const SudokuBoard& b) {
  std::vector<uint8_t> out(b.size());
  for (size_t i = 0; i < b.size(); ++i) out[i] = static_cast<uint8_t>(b[i] + 1);
  return out;
}

}  // namespace

int count_sudoku_solutions(const SudokuShape& shape, const SudokuBoard& board, int limit, int64_t max_nodes) {
  TRM_CHECK(static_cast<int>(board.size()) == shape.cells(), "sudoku board has " << board.size() << " cells", "");
  Solver s(shape, board, limit, max_nodes);
  if (!s.init()) return 0;
  s.search();
  return s.aborted ? -1 : s.found;
}

SudokuBoard random_sudoku_solution(const SudokuShape& shape, Rng* rng) {
  // A canonical valid grid, then validity-preserving shuffles (digits, bands, stacks, rows and
  // columns within them) — the same group of symmetries the augmentation uses.
  SudokuBoard base(shape.cells());
  for (int r = 0; r < shape.size; ++r) {
    for (int c = 0; c < shape.size; ++c) {
      const int shift = (r % shape.box_rows) * shape.box_cols + r / shape.box_rows;
      base[r * shape.size + c] = static_cast<uint8_t>((c + shift) % shape.size + 1);
    }
  }
  SudokuPuzzle p{base, base, 0};
  shuffle_sudoku(shape, &p, rng);
  // Fill the grid again from a random partial to reach grids outside the shuffle orbit.
  SudokuBoard partial(shape.cells(), 0);
  std::vector<int> idx(shape.cells());
  std::iota(idx.begin(), idx.end(), 0);
  rng->shuffle(idx.begin(), idx.end());
  for (int k = 0; k < shape.size; ++k) partial[idx[k]] = p.answer[idx[k]];
  Solver s(shape, partial, 1, kGeneratorNodeBudget);
  s.init();
  s.search();
  return s.found ? s.first_solution : p.answer;
}

SudokuPuzzle generate_sudoku(const SudokuShape& shape, int blanks, Rng* rng) {
  TRM_CHECK(blanks >= 0 && blanks < shape.cells(),
            "unsolvable generated spec: " << blanks << " blanks in a " << shape.size << "x" << shape.size
                                          << " sudoku (must be 0.." << shape.cells() - 1 << ")",
            "lower --blanks (or raise --givens)");
  constexpr int kAttempts = 50;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    SudokuPuzzle p;
    p.answer = random_sudoku_solution(shape, rng);
    p.question = p.answer;
    std::vector<int> order(shape.cells());
    std::iota(order.begin(), order.end(), 0);
    rng->shuffle(order.begin(), order.end());
    int removed = 0;
    for (const int cell : order) {
      if (removed == blanks) break;
      const uint8_t keep = p.question[cell];
      p.question[cell] = 0;
      if (count_sudoku_solutions(shape, p.question, 2, kGeneratorNodeBudget) == 1) {
        ++removed;
      } else {
        p.question[cell] = keep;
      }
    }
    if (removed == blanks) return p;
  }
  TRM_FAIL("unsolvable generated spec: found no " << shape.size << "x" << shape.size << " sudoku with " << blanks
                                                  << " blanks and a unique solution in " << kAttempts << " attempts",
           "lower --blanks (a unique solution needs enough givens)");
}

void shuffle_sudoku(const SudokuShape& shape, SudokuPuzzle* puzzle, Rng* rng) {
  const int n = shape.size;
  std::vector<uint8_t> digit_map(n + 1, 0);
  std::vector<uint8_t> digits(n);
  std::iota(digits.begin(), digits.end(), 1);
  rng->shuffle(digits.begin(), digits.end());
  for (int d = 1; d <= n; ++d) digit_map[d] = digits[d - 1];
  // Transpose keeps validity only when boxes are square.
  const bool transpose = shape.box_rows == shape.box_cols && rng->uniform() < 0.5;
  const std::vector<int> row_perm = block_permutation(n, shape.box_rows, rng);
  const std::vector<int> col_perm = block_permutation(n, shape.box_cols, rng);
  auto apply = [&](const SudokuBoard& x) {
    SudokuBoard t = x;
    if (transpose) {
      for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) t[r * n + c] = x[c * n + r];
    }
    SudokuBoard out(x.size());
    for (int i = 0; i < n * n; ++i) out[i] = digit_map[t[row_perm[i / n] * n + col_perm[i % n]]];
    return out;
  };
  puzzle->question = apply(puzzle->question);
  puzzle->answer = apply(puzzle->answer);
}

std::vector<SudokuPuzzle> read_sudoku_csv(const std::string& path, int min_difficulty) {
  CsvRows csv(path, {"source", "question", "answer", "rating"});
  std::vector<SudokuPuzzle> out;
  std::vector<std::string> f;
  const char* hint = "rows are source,question,answer,rating with 81-character question ('.' or 0 blank, 1-9) and answer (1-9)";
  while (csv.next(&f)) {
    TRM_CHECK(f.size() == 4, csv.where() << ": " << f.size() << " fields, expected 4", hint);
    const std::string& q = f[1];
    const std::string& a = f[2];
    TRM_CHECK(q.size() == 81, csv.where() << ": question has " << q.size() << " characters, expected 81", hint);
    TRM_CHECK(a.size() == 81, csv.where() << ": answer has " << a.size() << " characters, expected 81", hint);
    int rating = 0;
    try {
      size_t used = 0;
      rating = std::stoi(f[3], &used);
      TRM_CHECK(used == f[3].size(), csv.where() << ": rating '" << f[3] << "' is not an integer", hint);
    } catch (const std::logic_error&) {
      TRM_FAIL(csv.where() << ": rating '" << f[3] << "' is not an integer", hint);
    }
    if (min_difficulty >= 0 && rating < min_difficulty) continue;
    SudokuPuzzle p;
    p.rating = rating;
    p.question.resize(81);
    p.answer.resize(81);
    for (int i = 0; i < 81; ++i) {
      const char qc = q[i], ac = a[i];
      TRM_CHECK(qc == '.' || (qc >= '0' && qc <= '9'),
                csv.where() << ": question character " << i + 1 << " is '" << qc << "'", hint);
      TRM_CHECK(ac >= '1' && ac <= '9', csv.where() << ": answer character " << i + 1 << " is '" << ac << "'", hint);
      p.question[i] = qc == '.' ? 0 : static_cast<uint8_t>(qc - '0');
      p.answer[i] = static_cast<uint8_t>(ac - '0');
    }
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

// A puzzle's group: the puzzle and num_aug shuffled copies drawn from rng (unused when 0).
std::vector<EncodedExample> sudoku_examples(const SudokuShape& shape, const SudokuPuzzle& original, int num_aug,
                                            Rng* rng) {
  std::vector<EncodedExample> out;
  for (int a = 0; a <= num_aug; ++a) {
    SudokuPuzzle p = original;
    if (a > 0) shuffle_sudoku(shape, &p, rng);
    out.push_back({encode_board(p.question), encode_board(p.answer)});
  }
  return out;
}

}  // namespace

SimpleConvertReport convert_sudoku(const SudokuConvertOptions& o) {
  TRM_CHECK(o.num_aug >= 0, "--num-aug must be >= 0", "");
  const bool generating = o.generate > 0;
  TRM_CHECK(generating != !o.train_csv.empty(), "give either --train-csv/--test-csv or --generate N",
            "see trm-convert sudoku --help");
  const SudokuShape shape = sudoku_shape(generating ? o.size : 9);
  std::vector<SudokuPuzzle> train, test;
  Rng rng(o.seed, 0);
  if (generating) {
    TRM_CHECK(o.blanks >= 0, "--generate needs --blanks K (or --givens G)", "");
    TRM_CHECK(o.generate_test >= 0, "--test must be >= 0", "");
    const std::string dims = std::to_string(shape.size) + "x" + std::to_string(shape.size);
    generate_distinct_puzzles(
        o.generate, o.generate_test, o.progress, [&] { return generate_sudoku(shape, o.blanks, &rng); },
        [](const SudokuPuzzle& p) { return std::string(p.question.begin(), p.question.end()); },
        dims + " sudokus with " + std::to_string(o.blanks) + " blanks have too few distinct puzzles",
        "ask for fewer puzzles or more blanks", &train, &test);
  } else {
    TRM_CHECK(!o.test_csv.empty(), "--train-csv needs --test-csv", "");
    train = read_sudoku_csv(o.train_csv, o.min_difficulty);
    test = read_sudoku_csv(o.test_csv, o.min_difficulty);
    subsample_puzzles(o.subsample, &rng, &train);
  }
  TRM_CHECK(!train.empty(), "no training sudokus (after --min-difficulty / --subsample)", "");

  DatasetMetadata base;
  base.kind = "sudoku";
  base.seq_len = shape.cells();
  base.vocab_size = shape.size + 2;
  Rng aug_rng(o.seed, 1);  // stream 1: the training copies; held-out puzzles get none
  const SimpleSplit train_split{
      train.size(), [&](size_t i) { return sudoku_examples(shape, train[i], o.num_aug, &aug_rng); }};
  const SimpleSplit test_split{test.size(),
                               [&](size_t i) { return sudoku_examples(shape, test[i], 0, nullptr); }};
  return write_simple_dataset(base, o.writer, o.threads, o.progress, train_split, test_split);
}

}  // namespace trm
