// Sudoku and maze data: generated sudokus have exactly one solution (checked by an independent
// solver written here), shuffles keep puzzles valid, maze labels are a shortest path (BFS here),
// and the CSV readers accept the reference formats and reject malformed rows with file:line.
#include <gtest/gtest.h>

#include <queue>
#include <set>

#include "test_data_helpers.hpp"
#include "trm/common/error.hpp"
#include "trm/data/maze.hpp"
#include "trm/data/puzzle_dataset.hpp"
#include "trm/data/sudoku.hpp"
#include "trm/data/test_iterator.hpp"

namespace trm {
namespace {

using testing::TempDir;
using testing::write_file;

// Plain backtracking over cells in order, no bitmasks: deliberately unlike the library's solver.
int naive_count(const SudokuShape& s, std::vector<uint8_t>& b, int pos, int limit) {
  const int n = s.size;
  while (pos < n * n && b[pos] != 0) ++pos;
  if (pos == n * n) return 1;
  const int r = pos / n, c = pos % n;
  int total = 0;
  for (int v = 1; v <= n && total < limit; ++v) {
    bool ok = true;
    for (int k = 0; k < n && ok; ++k) ok = b[r * n + k] != v && b[k * n + c] != v;
    const int br = r / s.box_rows * s.box_rows, bc = c / s.box_cols * s.box_cols;
    for (int i = 0; i < s.box_rows && ok; ++i)
      for (int j = 0; j < s.box_cols && ok; ++j) ok = b[(br + i) * n + bc + j] != v;
    if (!ok) continue;
    b[pos] = static_cast<uint8_t>(v);
    total += naive_count(s, b, pos + 1, limit - total);
    b[pos] = 0;
  }
  return total;
}

bool valid_solution(const SudokuShape& s, const SudokuBoard& q, const SudokuBoard& a) {
  std::vector<uint8_t> copy = q;
  for (int i = 0; i < s.cells(); ++i) {
    if (q[i] != 0 && q[i] != a[i]) return false;
  }
  // a is complete and valid iff filling q's blanks from a leaves a board the naive solver accepts.
  copy = a;
  return naive_count(s, copy, 0, 2) == 1;
}

TEST(SudokuGenerator, UniqueSolutionsForAllSizes) {
  Rng rng(11);
  const std::pair<int, int> specs[] = {{4, 10}, {6, 20}, {9, 45}};
  for (const auto& [size, blanks] : specs) {
    const SudokuShape shape = sudoku_shape(size);
    for (int k = 0; k < 8; ++k) {
      const SudokuPuzzle p = generate_sudoku(shape, blanks, &rng);
      int holes = 0;
      for (const uint8_t v : p.question) holes += v == 0;
      EXPECT_EQ(holes, blanks);
      std::vector<uint8_t> q = p.question;
      EXPECT_EQ(naive_count(shape, q, 0, 3), 1) << "size " << size;
      EXPECT_TRUE(valid_solution(shape, p.question, p.answer));
    }
  }
}

TEST(SudokuGenerator, ImpossibleSpecIsAClearError) {
  Rng rng(1);
  try {
    generate_sudoku(sudoku_shape(4), 15, &rng);  // one given can never fix a unique 4x4 solution
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unsolvable generated spec"), std::string::npos) << e.message();
  }
  EXPECT_THROW(sudoku_shape(5), Error);
}

TEST(SudokuShuffle, KeepsPuzzlesValidAndConsistent) {
  Rng rng(3);
  for (const int size : {4, 6, 9}) {
    const SudokuShape shape = sudoku_shape(size);
    SudokuPuzzle p = generate_sudoku(shape, size * size / 2, &rng);
    for (int k = 0; k < 20; ++k) {
      SudokuPuzzle s = p;
      shuffle_sudoku(shape, &s, &rng);
      EXPECT_TRUE(valid_solution(shape, s.question, s.answer)) << "size " << size;
      std::vector<uint8_t> q = s.question;
      EXPECT_EQ(naive_count(shape, q, 0, 3), 1);
    }
  }
}

TEST(SudokuCsv, ReadsTheReferenceFormatAndConverts) {
  TempDir tmp("sudoku_csv");
  const std::string q = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..";
  const std::string a = "483921657967345821251876493548132976729564138136798245372689514814253769695417382";
  write_file(tmp / "train.csv", "source,question,answer,rating\nkaggle," + q + "," + a + ",3\nx," + q + "," + a + ",0\n");
  write_file(tmp / "test.csv", "source,question,answer,rating\nkaggle," + q + "," + a + ",7\n");
  const auto all = read_sudoku_csv(tmp / "train.csv", -1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].question[2], 3);
  EXPECT_EQ(all[0].question[0], 0);
  EXPECT_EQ(all[0].answer[0], 4);
  EXPECT_EQ(all[0].rating, 3);
  EXPECT_EQ(read_sudoku_csv(tmp / "train.csv", 1).size(), 1u);

  SudokuConvertOptions o;
  o.train_csv = tmp / "train.csv";
  o.test_csv = tmp / "test.csv";
  o.num_aug = 3;
  o.progress = false;
  o.writer.output_dir = tmp / "out";
  const SimpleConvertReport r = convert_sudoku(o);
  EXPECT_EQ(r.train.groups, 2);
  EXPECT_EQ(r.train.puzzles, 8);
  EXPECT_EQ(r.test.examples, 1);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "out", "test");
  EXPECT_EQ(ds->metadata().seq_len, 81);
  EXPECT_EQ(ds->metadata().vocab_size, 11);
  TestIterator it(ds, 2, 0, 1);
  Batch b;
  ASSERT_TRUE(it.next(&b));
  EXPECT_EQ(b.inputs[0], 1);      // blank -> 1
  EXPECT_EQ(b.inputs[2], 3 + 1);  // digit + 1
  EXPECT_EQ(b.labels[0], 4 + 1);
}

TEST(SudokuGenerate, DemoCommandShapeAndHeldOutPuzzlesAreDistinct) {
  TempDir tmp("sudoku_gen");
  SudokuConvertOptions o;
  o.generate = 60;
  o.generate_test = 20;
  o.size = 6;
  o.blanks = 20;
  o.num_aug = 2;
  o.seed = 5;
  o.progress = false;
  o.writer.output_dir = tmp / "out";
  const SimpleConvertReport r = convert_sudoku(o);
  EXPECT_EQ(r.train.groups, 60);
  EXPECT_EQ(r.train.examples, 180);
  EXPECT_EQ(r.test.examples, 20);
  PuzzleDataset train(tmp / "out", "train"), test(tmp / "out", "test");
  EXPECT_EQ(train.metadata().seq_len, 36);
  EXPECT_EQ(train.metadata().vocab_size, 8);
  EXPECT_EQ(train.metadata().num_puzzle_identifiers, 1);
  auto read_all = [](const PuzzleDataset& ds) {
    std::vector<int64_t> rows(ds.num_examples());
    for (int64_t i = 0; i < ds.num_examples(); ++i) rows[i] = i;
    std::vector<int32_t> in(rows.size() * 36), lab(rows.size() * 36);
    ds.read_examples(rows.data(), ds.num_examples(), in.data(), lab.data());
    return std::make_pair(in, lab);
  };
  const auto [tin, tlab] = read_all(test);
  const auto [rin, rlab] = read_all(train);
  std::set<std::vector<int32_t>> train_questions;
  for (int64_t i = 0; i < train.num_examples(); ++i)
    train_questions.insert(std::vector<int32_t>(rin.begin() + i * 36, rin.begin() + (i + 1) * 36));
  const SudokuShape shape = sudoku_shape(6);
  for (int64_t i = 0; i < test.num_examples(); ++i) {
    std::vector<int32_t> q(tin.begin() + i * 36, tin.begin() + (i + 1) * 36);
    EXPECT_EQ(train_questions.count(q), 0u);
    std::vector<uint8_t> board(36);
    for (int k = 0; k < 36; ++k) board[k] = static_cast<uint8_t>(q[k] - 1);
    EXPECT_EQ(naive_count(shape, board, 0, 3), 1);
  }
}

// BFS shortest path length (steps) over non-wall cells, written independently of the library.
int bfs_steps(const std::string& g, int n) {
  const int s = static_cast<int>(g.find('S')), goal = static_cast<int>(g.find('G'));
  std::vector<int> d(g.size(), -1);
  std::queue<int> q;
  d[s] = 0;
  q.push(s);
  while (!q.empty()) {
    const int c = q.front();
    q.pop();
    for (const int nb : {c - n, c + n, c % n ? c - 1 : -1, (c + 1) % n ? c + 1 : -1}) {
      if (nb < 0 || nb >= n * n || g[nb] == '#' || d[nb] >= 0) continue;
      d[nb] = d[c] + 1;
      q.push(nb);
    }
  }
  return d[goal];
}

TEST(MazeGenerator, LabelIsAShortestPath) {
  Rng rng(21);
  for (const int size : {7, 12, 30}) {
    for (int k = 0; k < 10; ++k) {
      const Maze m = generate_maze(size, size, &rng);
      ASSERT_EQ(m.question.size(), static_cast<size_t>(size * size));
      const int steps = bfs_steps(m.question, size);
      ASSERT_GE(steps, size);  // the minimum path length holds
      // The marked cells form a walk S -> G of exactly `steps` moves over open cells.
      int marked = 0;
      for (size_t i = 0; i < m.answer.size(); ++i) {
        if (m.answer[i] == 'o') {
          ++marked;
          EXPECT_EQ(m.question[i], ' ');
        } else {
          EXPECT_EQ(m.answer[i], m.question[i]);
        }
      }
      EXPECT_EQ(marked, steps - 1);
      std::string only_path = m.answer;
      for (auto& ch : only_path) ch = ch == ' ' ? '#' : ch;  // walls everywhere but the path
      EXPECT_EQ(bfs_steps(only_path, size), steps);
    }
  }
  try {
    generate_maze(7, 500, &rng);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("unsolvable generated spec"), std::string::npos) << e.message();
  }
}

TEST(MazeCsv, ReadsTheReferenceFormatWithDihedralAugmentation) {
  TempDir tmp("maze_csv");
  // 5x5 maze: start top-left, goal bottom-right.
  const std::string q = "#####" "#S  #" "### #" "#G  #" "#####";
  const std::string a = "#####" "#Soo#" "###o#" "#Goo#" "#####";
  write_file(tmp / "train.csv", "source,question,answer,rating\nsrc," + q + "," + a + ",0\n");
  write_file(tmp / "test.csv", "source,question,answer,rating\nsrc," + q + "," + a + ",0\n");
  const auto mazes = read_maze_csv(tmp / "train.csv");
  ASSERT_EQ(mazes.size(), 1u);
  EXPECT_EQ(mazes[0].size, 5);
  EXPECT_EQ(maze_shortest_path(q, 5), 6);
  MazeConvertOptions o;
  o.train_csv = tmp / "train.csv";
  o.test_csv = tmp / "test.csv";
  o.aug = true;
  o.progress = false;
  o.writer.output_dir = tmp / "out";
  const SimpleConvertReport r = convert_maze(o);
  EXPECT_EQ(r.train.puzzles, 8);
  EXPECT_EQ(r.test.puzzles, 1);
  PuzzleDataset ds(tmp / "out", "train");
  EXPECT_EQ(ds.metadata().vocab_size, 6);
  EXPECT_EQ(ds.metadata().seq_len, 25);
  std::vector<int64_t> rows = {0, 4};
  std::vector<int32_t> in(50), lab(50);
  ds.read_examples(rows.data(), 2, in.data(), lab.data());
  EXPECT_EQ(in[6], 3);    // 'S' at (1,1) -> 3 under the identity
  EXPECT_EQ(lab[7], 5);   // 'o' -> 5
  EXPECT_EQ(in[0], 1);    // '#' -> 1
  EXPECT_EQ(in[25 + 8], 3);  // flip left-right (transform 4) moves S to (1,3)
}

}  // namespace
}  // namespace trm
