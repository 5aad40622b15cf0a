// Matrix products of the model's hot path. On CPU float32 with oneDNN available (TRM_WITH_DNNL)
// they call dnnl_sgemm, whose AVX-512 kernels are 1.3-1.6x faster than OpenBLAS's on the
// model's skinny shapes (K = hidden or positions, 97..512; docs/BENCHMARKS.md); everywhere else
// (CUDA, other dtypes, strided views) they are torch::mm.
#pragma once

#include <torch/torch.h>

namespace trm {

// a [m, k] @ b [k, n]; each operand contiguous or the transpose of a contiguous matrix.
torch::Tensor gemm(const torch::Tensor& a, const torch::Tensor& b);
// The same into out [m, n] (a view with unit column stride is fine).
void gemm_out(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b);

// Raw row-major product c [m, n] = alpha * op(a) op(b), op = transpose for 'T', 'N' otherwise,
// with leading dimensions as BLAS takes them (dnnl_sgemm's convention). Runs on the calling
// thread inside a parallel region (dnnl_sgemm or torch::mm_out over views of the buffers).
void sgemm(char trans_a, char trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc);

// Whether gemm uses oneDNN for CPU float32 (reported by the benchmarks).
bool gemm_uses_dnnl();

}  // namespace trm
