// Maze reading, generation and conversion (see maze.hpp). Generated mazes are perfect (a
// spanning tree of the odd-coordinate cells carved by randomized depth-first search), so the
// path between start and goal is unique and the label is the shortest path by construction.
#include "trm/data/maze.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <queue>

#include "csv_rows.hpp"
#include "simple_convert.hpp"
#include "trm/common/error.hpp"
#include "trm/data/arc_grid.hpp"

namespace trm {

std::vector<uint8_t> encode_maze(const std::string& s, const std::string& where) {
  std::vector<uint8_t> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char* p = std::strchr(kMazeCharset, s[i]);
    TRM_CHECK(s[i] != '\0' && p != nullptr,
              where << ": character " << i + 1 << " is '" << s[i] << "', not one of \"# SGo\"",
              "maze cells are '#' wall, ' ' open, 'S' start, 'G' goal, 'o' path");
    out[i] = static_cast<uint8_t>(p - kMazeCharset + 1);
  }
  return out;
}

std::vector<Maze> read_maze_csv(const std::string& path) {
  CsvRows csv(path, {"source", "question", "answer", "rating"});
  std::vector<Maze> out;
  std::vector<std::string> f;
  const char* hint = "rows are source,question,answer,rating with square question/answer strings over \"# SGo\"";
  int size = -1;
  while (csv.next(&f)) {
    TRM_CHECK(f.size() == 4, csv.where() << ": " << f.size() << " fields, expected 4", hint);
    Maze m;
    m.question = f[1];
    m.answer = f[2];
    const int n = static_cast<int>(std::lround(std::sqrt(static_cast<double>(m.question.size()))));
    TRM_CHECK(n > 0 && static_cast<size_t>(n) * n == m.question.size(),
              csv.where() << ": question has " << m.question.size() << " characters, not a square grid", hint);
    if (size < 0) size = n;
    TRM_CHECK(n == size, csv.where() << ": question has " << m.question.size() << " characters, earlier rows have "
                                     << size * size,
              hint);
    TRM_CHECK(m.answer.size() == m.question.size(),
              csv.where() << ": answer has " << m.answer.size() << " characters, question " << m.question.size(), hint);
    encode_maze(m.question, csv.where() + " question");
    encode_maze(m.answer, csv.where() + " answer");
    m.size = n;
    out.push_back(std::move(m));
  }
  return out;
}

int maze_shortest_path(const std::string& grid, int size) {
  const int cells = size * size;
  const auto start = grid.find('S');
  if (start == std::string::npos) return -1;
  std::vector<int> dist(cells, -1);
  std::queue<int> q;
  dist[start] = 0;
  q.push(static_cast<int>(start));
  while (!q.empty()) {
    const int c = q.front();
    q.pop();
    if (grid[c] == 'G') return dist[c];
    const int r = c / size, col = c % size;
    const int nbr[4][2] = {{r - 1, col}, {r + 1, col}, {r, col - 1}, {r, col + 1}};
    for (const auto& rc : nbr) {
      if (rc[0] < 0 || rc[0] >= size || rc[1] < 0 || rc[1] >= size) continue;
      const int n = rc[0] * size + rc[1];
      if (grid[n] == '#' || dist[n] >= 0) continue;
      dist[n] = dist[c] + 1;
      q.push(n);
    }
  }
  return -1;
}

Maze generate_maze(int size, int min_path_length, Rng* rng) {
  TRM_CHECK(size >= 5, "unsolvable generated spec: maze size " << size << " (must be at least 5)", "use --size >= 5");
  const int rooms = (size - 1) / 2;  // rooms per side at odd coordinates 1, 3, ..., 2*rooms-1
  const int max_len = 2 * rooms * rooms;  // generous bound on any path in the tree
  TRM_CHECK(min_path_length >= 0 && min_path_length <= max_len,
            "unsolvable generated spec: minimum path length " << min_path_length << " in a " << size << "x" << size
                                                               << " maze (at most about " << max_len << ")",
            "lower --min-path-length or raise --size");
  constexpr int kAttempts = 100;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::string g(static_cast<size_t>(size) * size, '#');
    auto at = [&](int r, int c) -> char& { return g[static_cast<size_t>(r) * size + c]; };
    // Randomized DFS over rooms; carving the wall between two rooms joins them.
    std::vector<char> visited(static_cast<size_t>(rooms) * rooms, 0);
    std::vector<std::pair<int, int>> stack;
    const int r0 = static_cast<int>(rng->below(rooms)), c0 = static_cast<int>(rng->below(rooms));
    stack.push_back({r0, c0});
    visited[r0 * rooms + c0] = 1;
    at(2 * r0 + 1, 2 * c0 + 1) = ' ';
    while (!stack.empty()) {
      const auto [r, c] = stack.back();
      std::pair<int, int> options[4];
      int n = 0;
      const int dr[4] = {-1, 1, 0, 0}, dc[4] = {0, 0, -1, 1};
      for (int k = 0; k < 4; ++k) {
        const int nr = r + dr[k], nc = c + dc[k];
        if (nr < 0 || nr >= rooms || nc < 0 || nc >= rooms || visited[nr * rooms + nc]) continue;
        options[n++] = {nr, nc};
      }
      if (n == 0) {
        stack.pop_back();
        continue;
      }
      const auto [nr, nc] = options[rng->below(n)];
      visited[nr * rooms + nc] = 1;
      at(r + nr + 1, c + nc + 1) = ' ';  // the wall cell between the two rooms
      at(2 * nr + 1, 2 * nc + 1) = ' ';
      stack.push_back({nr, nc});
    }
    // Start: a random open cell; goal: a random open cell at distance >= min_path_length.
    std::vector<int> open;
    for (int i = 0; i < size * size; ++i) {
      if (g[i] == ' ') open.push_back(i);
    }
    const int s = open[rng->below(open.size())];
    std::vector<int> dist(static_cast<size_t>(size) * size, -1), parent(static_cast<size_t>(size) * size, -1);
    std::queue<int> q;
    dist[s] = 0;
    q.push(s);
    while (!q.empty()) {
      const int c = q.front();
      q.pop();
      const int r = c / size, col = c % size;
      const int nbr[4][2] = {{r - 1, col}, {r + 1, col}, {r, col - 1}, {r, col + 1}};
      for (const auto& rc : nbr) {
        if (rc[0] < 0 || rc[0] >= size || rc[1] < 0 || rc[1] >= size) continue;
        const int nidx = rc[0] * size + rc[1];
        if (g[nidx] == '#' || dist[nidx] >= 0) continue;
        dist[nidx] = dist[c] + 1;
        parent[nidx] = c;
        q.push(nidx);
      }
    }
    std::vector<int> goals;
    for (const int c : open) {
      if (c != s && dist[c] >= std::max(1, min_path_length)) goals.push_back(c);
    }
    if (goals.empty()) continue;
    const int goal = goals[rng->below(goals.size())];
    Maze m;
    m.size = size;
    m.question = g;
    m.question[s] = 'S';
    m.question[goal] = 'G';
    m.answer = m.question;
    for (int c = parent[goal]; c != s; c = parent[c]) m.answer[c] = 'o';
    return m;
  }
  TRM_FAIL("unsolvable generated spec: no " << size << "x" << size << " maze with a start-goal path of at least "
                                            << min_path_length << " steps in " << kAttempts << " attempts",
           "lower --min-path-length or raise --size");
}

namespace {

std::string transform_maze(const std::string& s, int size, int trans_id) {
  Grid g;
  g.rows = g.cols = size;
  g.cells.assign(s.begin(), s.end());
  const Grid t = dihedral_transform(g, trans_id);
  return std::string(t.cells.begin(), t.cells.end());
}

// A maze's group: the maze and, with aug, its other 7 dihedral transforms.
std::vector<EncodedExample> maze_examples(const Maze& m, bool aug, const std::string& where) {
  std::vector<EncodedExample> out;
  for (int t = 0; t < (aug ? kNumDihedral : 1); ++t) {
    out.push_back({encode_maze(transform_maze(m.question, m.size, t), where),
                   encode_maze(transform_maze(m.answer, m.size, t), where)});
  }
  return out;
}

}  // namespace

SimpleConvertReport convert_maze(const MazeConvertOptions& o) {
  const bool generating = o.generate > 0;
  TRM_CHECK(generating != !o.train_csv.empty(), "give either --train-csv/--test-csv or --generate N",
            "see trm-convert maze --help");
  std::vector<Maze> train, test;
  Rng rng(o.seed, 0);
  if (generating) {
    const std::string dims = std::to_string(o.size) + "x" + std::to_string(o.size);
    generate_distinct_puzzles(
        o.generate, o.generate_test, o.progress, [&] { return generate_maze(o.size, o.min_path_length, &rng); },
        [](const Maze& m) { return m.question; }, "too few distinct " + dims + " mazes",
        "ask for fewer mazes or a larger --size", &train, &test);
  } else {
    TRM_CHECK(!o.test_csv.empty(), "--train-csv needs --test-csv", "");
    train = read_maze_csv(o.train_csv);
    test = read_maze_csv(o.test_csv);
    TRM_CHECK(train.empty() || test.empty() || train.front().size == test.front().size,
              o.train_csv << " holds " << train.front().size << "x" << train.front().size << " mazes, " << o.test_csv
                          << " " << test.front().size << "x" << test.front().size,
              "both splits must have the same maze size");
    subsample_puzzles(o.subsample, &rng, &train);
  }
  TRM_CHECK(!train.empty(), "no training mazes", "");
  const int size = train.front().size;

  DatasetMetadata base;
  base.kind = "maze";
  base.seq_len = static_cast<int64_t>(size) * size;
  base.vocab_size = static_cast<int64_t>(std::strlen(kMazeCharset)) + 1;
  const SimpleSplit train_split{train.size(), [&](size_t i) {
                                   return maze_examples(train[i], o.aug, "train maze " + std::to_string(i));
                                 }};
  const SimpleSplit test_split{test.size(), [&](size_t i) {
                                 return maze_examples(test[i], false, "test maze " + std::to_string(i));
                               }};
  return write_simple_dataset(base, o.writer, o.threads, o.progress, train_split, test_split);
}

}  // namespace trm
