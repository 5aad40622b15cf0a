// Writing a simple (Sudoku / Maze) dataset: see simple_convert.hpp.
#include "simple_convert.hpp"

#include <algorithm>

#include "trm/data/thread_pool.hpp"

namespace trm {

namespace {

void write_simple_split(DatasetWriter* writer, const std::string& split, const SimpleSplit& s, ProgressBar* bar,
                        int64_t* done) {
  for (size_t g = 0; g < s.num_groups; ++g) {
    writer->begin_group(split);
    for (const EncodedExample& e : s.examples(g)) writer->add_puzzle(split, 0, e.inputs.data(), e.labels.data(), 1);
    writer->end_group(split);
    bar->update(++*done);
  }
}

}  // namespace

SimpleConvertReport write_simple_dataset(const DatasetMetadata& base, const DatasetWriterOptions& writer_options,
                                         int threads, bool progress, const SimpleSplit& train,
                                         const SimpleSplit& test) {
  ThreadPool pool(std::max(1, threads));
  DatasetWriter writer(writer_options, base, &pool);
  writer.begin_split("train", static_cast<int64_t>(train.num_groups));
  writer.begin_split("test", static_cast<int64_t>(test.num_groups));
  ProgressBar bar(base.kind, static_cast<int64_t>(train.num_groups + test.num_groups), progress);
  int64_t done = 0;
  write_simple_split(&writer, "train", train, &bar, &done);
  write_simple_split(&writer, "test", test, &bar, &done);
  bar.finish();
  writer.write_side_file("identifiers.json", "[\"<blank>\"]\n");
  writer.commit(1);
  SimpleConvertReport r;
  r.train = writer.summary("train");
  r.test = writer.summary("test");
  r.bytes = writer.bytes_written();
  r.seconds = bar.seconds();
  return r;
}

}  // namespace trm
