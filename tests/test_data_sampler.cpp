// The loader: global training batches are identical for world sizes 1, 2 and 4 (rank slices
// concatenated), every group appears once per epoch, a restart from a saved position continues
// identically, the prefetcher preserves order, and the test iterator covers every example once
// with correct padding. Datasets are written with DatasetWriter into a temporary directory.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test_data_helpers.hpp"
#include "trm/common/error.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/prefetcher.hpp"
#include "trm/data/test_iterator.hpp"
#include "trm/data/train_sampler.hpp"

namespace trm {
namespace {

using testing::TempDir;
constexpr int kSeq = 6;

// Groups g = 0..G-1 with (g % 3) + 1 puzzles of (p % 4) + 1 examples; every token of an
// example encodes its global row (row % 250 + 1), labels = input + 1 except token 0 = 0 (PAD).
struct SyntheticDataset {
  int64_t groups = 0, puzzles = 0, examples = 0;
};

SyntheticDataset write_synthetic(const std::string& dir, int64_t groups, int shards, const std::string& split = "train",
                                 bool also_other_split = true) {
  ThreadPool pool(2);
  DatasetMetadata base;
  base.kind = "synthetic";
  base.seq_len = kSeq;
  base.vocab_size = 256;
  DatasetWriterOptions o;
  o.output_dir = dir;
  o.num_shards = shards;
  o.chunk_rows = 4;
  DatasetWriter w(o, base, &pool);
  SyntheticDataset s;
  w.begin_split(split, groups);
  if (also_other_split) w.begin_split(split == "train" ? "test" : "train", 0);
  for (int64_t g = 0; g < groups; ++g) {
    w.begin_group(split);
    for (int p = 0; p < g % 3 + 1; ++p) {
      const int n = static_cast<int>(s.puzzles % 4) + 1;
      std::vector<uint8_t> in(n * kSeq), lab(n * kSeq);
      for (int e = 0; e < n; ++e) {
        const uint8_t v = static_cast<uint8_t>((s.examples + e) % 250 + 1);
        for (int t = 0; t < kSeq; ++t) {
          in[e * kSeq + t] = v;
          lab[e * kSeq + t] = t == 0 ? 0 : static_cast<uint8_t>(v + 1);
        }
      }
      w.add_puzzle(split, static_cast<int32_t>(1 + s.puzzles % 7), in.data(), lab.data(), n);
      s.puzzles += 1;
      s.examples += n;
    }
    w.end_group(split);
    s.groups += 1;
  }
  w.write_side_file("identifiers.json", "[\"<blank>\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]");
  w.commit(8);
  return s;
}

class PuzzleDatasetModes : public ::testing::TestWithParam<int64_t> {};

TEST_P(PuzzleDatasetModes, ShardsMergeIntoGlobalIndices) {
  TempDir tmp("ds");
  const SyntheticDataset s = write_synthetic(tmp / "d", 50, 4);
  PuzzleDataset ds(tmp / "d", "train", GetParam());
  EXPECT_EQ(ds.num_groups(), s.groups);
  EXPECT_EQ(ds.num_puzzles(), s.puzzles);
  EXPECT_EQ(ds.num_examples(), s.examples);
  EXPECT_EQ(ds.metadata().total_examples, s.examples);
  EXPECT_EQ(ds.metadata().num_puzzle_identifiers, 8);
  EXPECT_DOUBLE_EQ(ds.metadata().mean_puzzle_examples, static_cast<double>(s.examples) / s.puzzles);
  // Rows read in any order, across shard boundaries, carry their own global index.
  std::vector<int64_t> rows;
  for (int64_t r = ds.num_examples() - 1; r >= 0; r -= 3) rows.push_back(r);
  rows.push_back(0);
  rows.push_back(0);
  std::vector<int32_t> in(rows.size() * kSeq), lab(rows.size() * kSeq);
  ds.read_examples(rows.data(), static_cast<int64_t>(rows.size()), in.data(), lab.data());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(in[i * kSeq + 2], rows[i] % 250 + 1);
    EXPECT_EQ(lab[i * kSeq], 0);
    EXPECT_EQ(lab[i * kSeq + 1], rows[i] % 250 + 2);
  }
  EXPECT_EQ(ds.puzzle_of_example(0), 0);
  EXPECT_EQ(ds.puzzle_of_example(ds.num_examples() - 1), ds.num_puzzles() - 1);
  EXPECT_EQ(read_identifiers(tmp / "d")[3], "c");
}
// Rows read from the shards (0 bytes in memory) and from memory.
INSTANTIATE_TEST_SUITE_P(ReadModes, PuzzleDatasetModes, ::testing::Values(int64_t{0}, PuzzleDataset::kDefaultInMemoryBytes));

std::vector<int64_t> global_rows(const std::shared_ptr<PuzzleDataset>& ds, int world, int64_t batch, int steps,
                                 SamplerPosition start = {}) {
  std::vector<std::unique_ptr<TrainSampler>> ranks;
  for (int r = 0; r < world; ++r) ranks.push_back(std::make_unique<TrainSampler>(ds, 1234, batch, r, world, start));
  std::vector<int64_t> out;
  for (int s = 0; s < steps; ++s) {
    for (int r = 0; r < world; ++r) {
      const Batch b = ranks[r]->next();
      EXPECT_EQ(b.rows, batch / world);
      for (int64_t i = 0; i < b.rows; ++i) {
        // Tokens match the row they claim to be, labels are mapped to kIgnoreLabelId at PAD.
        EXPECT_EQ(b.inputs[i * kSeq + 1], b.example_indices[i] % 250 + 1);
        EXPECT_EQ(b.labels[i * kSeq], kIgnoreLabelId);
        EXPECT_EQ(b.puzzle_identifiers[i], ds->puzzle_identifiers()[ds->puzzle_of_example(b.example_indices[i])]);
        out.push_back(b.example_indices[i]);
      }
    }
  }
  return out;
}

TEST(TrainSampler, GlobalBatchesIndependentOfWorldSize) {
  TempDir tmp("ws");
  write_synthetic(tmp / "d", 97, 3);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "train");
  const auto w1 = global_rows(ds, 1, 16, 40);
  const auto w2 = global_rows(ds, 2, 16, 40);
  const auto w4 = global_rows(ds, 4, 16, 40);
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(w1, w4);
  EXPECT_EQ(w1.size(), 16u * 40u);
  // Another seed gives another order.
  TrainSampler other(ds, 99, 16, 0, 1);
  EXPECT_NE(other.next().example_indices, std::vector<int64_t>(w1.begin(), w1.begin() + 16));
}

TEST(TrainSampler, EveryGroupOncePerEpochAndPartialBatchDropped) {
  TempDir tmp("ep");
  write_synthetic(tmp / "d", 101, 2);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "train");
  const int64_t batch = 8;
  TrainSampler sampler(ds, 5, batch, 0, 1);
  const int64_t per_epoch = sampler.batches_in_epoch(0);
  ASSERT_GT(per_epoch, 2);
  std::map<int64_t, int> group_hits;  // group -> batches containing one of its rows
  std::vector<int64_t> group_of_puzzle(ds->num_puzzles());
  for (int64_t g = 0; g < ds->num_groups(); ++g)
    for (int64_t p = ds->group_indices()[g]; p < ds->group_indices()[g + 1]; ++p) group_of_puzzle[p] = g;
  std::set<int64_t> groups_seen;
  std::vector<int64_t> last_group_puzzle(ds->num_groups(), -1);
  for (int64_t k = 0; k < per_epoch; ++k) {
    const GlobalBatchPlan plan = sampler.next_plan();
    ASSERT_EQ(static_cast<int64_t>(plan.example_rows.size()), batch);
    std::set<int64_t> rows_in_batch(plan.example_rows.begin(), plan.example_rows.end());
    EXPECT_EQ(static_cast<int64_t>(rows_in_batch.size()), batch);  // no repeats within a puzzle draw
    for (size_t i = 0; i < plan.puzzles.size(); ++i) {
      const int64_t g = group_of_puzzle[plan.puzzles[i]];
      // One puzzle per group per epoch.
      if (last_group_puzzle[g] >= 0) EXPECT_EQ(last_group_puzzle[g], plan.puzzles[i]);
      last_group_puzzle[g] = plan.puzzles[i];
      EXPECT_GE(plan.example_rows[i], ds->puzzle_indices()[plan.puzzles[i]]);
      EXPECT_LT(plan.example_rows[i], ds->puzzle_indices()[plan.puzzles[i] + 1]);
      groups_seen.insert(g);
    }
  }
  EXPECT_EQ(sampler.position(), (SamplerPosition{0, per_epoch}));
  // The groups left out are only those of the dropped partial batch (fewer than `batch` rows).
  EXPECT_GE(static_cast<int64_t>(groups_seen.size()), ds->num_groups() - batch);
  EXPECT_LE(static_cast<int64_t>(groups_seen.size()), ds->num_groups());
  // Next batch starts epoch 1.
  const Batch b = sampler.next();
  EXPECT_EQ(b.position, (SamplerPosition{1, 0}));
  EXPECT_EQ(b.next_position, (SamplerPosition{1, 1}));
}

TEST(TrainSampler, EveryGroupAppearsWhenTheEpochDividesExactly) {
  // One puzzle of one example per group: an epoch of 64 groups is exactly 8 batches of 8.
  TempDir tmp("exact");
  ThreadPool pool(1);
  DatasetMetadata base;
  base.seq_len = 2;
  base.vocab_size = 4;
  DatasetWriterOptions o;
  o.output_dir = tmp / "d";
  DatasetWriter w(o, base, &pool);
  w.begin_split("train", 64);
  for (int g = 0; g < 64; ++g) {
    const uint8_t x[2] = {1, 2};
    w.begin_group("train");
    w.add_puzzle("train", 0, x, x, 1);
    w.end_group("train");
  }
  w.commit(1);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "train");
  TrainSampler sampler(ds, 3, 8, 0, 1);
  ASSERT_EQ(sampler.batches_in_epoch(0), 8);
  std::multiset<int64_t> rows;
  for (int k = 0; k < 8; ++k) {
    const GlobalBatchPlan plan = sampler.next_plan();
    rows.insert(plan.example_rows.begin(), plan.example_rows.end());
  }
  EXPECT_EQ(rows.size(), 64u);
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), 64u);
}

TEST(TrainSampler, RestartFromSavedPositionContinuesIdentically) {
  TempDir tmp("rs");
  write_synthetic(tmp / "d", 60, 2);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "train");
  TrainSampler straight(ds, 77, 8, 0, 1);
  std::vector<Batch> reference;
  for (int k = 0; k < 50; ++k) reference.push_back(straight.next());  // crosses several epochs
  for (const int cut : {1, 7, 13, 31}) {
    const SamplerPosition saved = reference[cut - 1].next_position;
    TrainSampler resumed(ds, 77, 8, 0, 1, saved);
    for (int k = cut; k < 50; ++k) {
      const Batch b = resumed.next();
      EXPECT_EQ(b.example_indices, reference[k].example_indices) << "cut " << cut << " batch " << k;
      EXPECT_EQ(b.position, reference[k].position);
    }
  }
  // World size may change across the restart: rank slices of the resumed run match too.
  const SamplerPosition saved = reference[9].next_position;
  TrainSampler r0(ds, 77, 8, 0, 2, saved), r1(ds, 77, 8, 1, 2, saved);
  const Batch a = r0.next(), b = r1.next();
  std::vector<int64_t> joined = a.example_indices;
  joined.insert(joined.end(), b.example_indices.begin(), b.example_indices.end());
  EXPECT_EQ(joined, reference[10].example_indices);
}

TEST(Prefetcher, DeliversTheSamplerSequence) {
  TempDir tmp("pf");
  write_synthetic(tmp / "d", 40, 1);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "train");
  TrainSampler direct(ds, 8, 4, 1, 2);
  Prefetcher pf(std::make_unique<TrainSampler>(ds, 8, 4, 1, 2), 3);
  for (int k = 0; k < 60; ++k) {
    const Batch want = direct.next();
    const Batch got = pf.next();
    EXPECT_EQ(got.example_indices, want.example_indices);
    EXPECT_EQ(got.inputs, want.inputs);
    EXPECT_EQ(got.next_position, want.next_position);
  }
}

TEST(TestIterator, EveryExampleOnceInOrderWithPadding) {
  TempDir tmp("ti");
  const SyntheticDataset s = write_synthetic(tmp / "d", 23, 2, "test");
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "test");
  for (const int world : {1, 2, 4}) {
    std::vector<TestIterator> its;
    for (int r = 0; r < world; ++r) its.emplace_back(ds, 16, r, world);
    std::vector<int64_t> seen;
    int64_t batches = 0;
    while (true) {
      bool any = false;
      int64_t global_real = -1;
      for (int r = 0; r < world; ++r) {
        Batch b;
        if (!its[r].next(&b)) continue;
        any = true;
        EXPECT_EQ(b.rows, 16 / world);
        global_real = b.global_real_rows;
        for (int64_t i = 0; i < b.rows; ++i) {
          if (i < b.real_rows) {
            seen.push_back(b.example_indices[i]);
            EXPECT_EQ(b.inputs[i * kSeq], b.example_indices[i] % 250 + 1);
            EXPECT_EQ(b.puzzle_identifiers[i], ds->puzzle_identifiers()[ds->puzzle_of_example(b.example_indices[i])]);
          } else {
            EXPECT_EQ(b.example_indices[i], -1);
            EXPECT_EQ(b.puzzle_identifiers[i], 0);
            for (int t = 0; t < kSeq; ++t) {
              EXPECT_EQ(b.inputs[i * kSeq + t], 0);
              EXPECT_EQ(b.labels[i * kSeq + t], kIgnoreLabelId);
            }
          }
        }
      }
      if (!any) break;
      EXPECT_GT(global_real, 0);
      ++batches;
    }
    EXPECT_EQ(batches, (s.examples + 15) / 16);
    ASSERT_EQ(static_cast<int64_t>(seen.size()), s.examples) << "world " << world;
    for (int64_t i = 0; i < s.examples; ++i) EXPECT_EQ(seen[i], i);
  }
}

TEST(TrainSampler, RejectsBadConfigurations) {
  TempDir tmp("bad");
  write_synthetic(tmp / "d", 5, 1);
  auto ds = std::make_shared<PuzzleDataset>(tmp / "d", "train");
  EXPECT_THROW(TrainSampler(ds, 1, 10, 0, 4), Error);   // 10 % 4 != 0
  EXPECT_THROW(TrainSampler(ds, 1, 8, 2, 2), Error);    // rank out of range
  try {
    TrainSampler(ds, 1, 4096, 0, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cannot fill a global batch of 4096"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace trm
