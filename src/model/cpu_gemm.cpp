// gemm / gemm_out (see cpu_gemm.hpp).
#include "trm/model/cpu_gemm.hpp"

#ifdef TRM_WITH_DNNL
#include <dnnl.h>
#endif

namespace trm {
namespace {

#ifdef TRM_WITH_DNNL
// Row-major layout of a 2-D operand: 'N' with leading dimension stride(0), 'T' (transpose of a
// row-major matrix) with leading dimension stride(1); 0 when neither applies.
char layout_of(const torch::Tensor& t, int64_t& ld) {
  if (t.stride(1) == 1 && t.stride(0) >= std::max<int64_t>(1, t.size(1))) {
    ld = t.stride(0);
    return 'N';
  }
  if (t.stride(0) == 1 && t.stride(1) >= std::max<int64_t>(1, t.size(0))) {
    ld = t.stride(1);
    return 'T';
  }
  return 0;
}

bool dnnl_gemm(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.device().is_cpu() || a.scalar_type() != torch::kFloat32 ||
      b.scalar_type() != torch::kFloat32 || out.scalar_type() != torch::kFloat32 ||
      a.dim() != 2 || b.dim() != 2 || out.dim() != 2 || a.size(1) != b.size(0) ||
      out.size(0) != a.size(0) || out.size(1) != b.size(1))
    return false;
  int64_t lda = 0, ldb = 0, ldc = 0;
  const char ta = layout_of(a, lda);
  const char tb = layout_of(b, ldb);
  if (ta == 0 || tb == 0 || out.stride(1) != 1) return false;
  ldc = out.stride(0);
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  if (m == 0 || n == 0) return true;
  if (k == 0) {
    out.zero_();
    return true;
  }
  return dnnl_sgemm(ta, tb, m, n, k, 1.0f, a.data_ptr<float>(), lda, b.data_ptr<float>(), ldb,
                    0.0f, out.data_ptr<float>(), ldc) == dnnl_success;
}

// dnnl_sgemm records nothing for autograd: only products that need no graph go there.
bool needs_graph(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
}
#endif

}  // namespace

bool gemm_uses_dnnl() {
#ifdef TRM_WITH_DNNL
  return true;
#else
  return false;
#endif
}

void sgemm(char trans_a, char trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef TRM_WITH_DNNL
  if (k > 0 && dnnl_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc) ==
                   dnnl_success)
    return;
#endif
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  // op(x) as a [rows, cols] view of a row-major buffer with leading dimension ld.
  auto view = [&](const float* x, char trans, int64_t rows, int64_t cols, int64_t ld) {
    auto* p = const_cast<float*>(x);
    return trans == 'T' ? torch::from_blob(p, {rows, cols}, {1, ld}, f32)
                        : torch::from_blob(p, {rows, cols}, {ld, 1}, f32);
  };
  auto out = torch::from_blob(c, {m, n}, {ldc, 1}, f32);
  if (k == 0) {
    out.zero_();
    return;
  }
  auto product = torch::mm(view(a, trans_a, m, k, lda), view(b, trans_b, k, n, ldb));
  if (alpha != 1.0f) product.mul_(alpha);
  out.copy_(product);
}

torch::Tensor gemm(const torch::Tensor& a, const torch::Tensor& b) {
#ifdef TRM_WITH_DNNL
  if (a.device().is_cpu() && a.scalar_type() == torch::kFloat32 && a.dim() == 2 &&
      b.dim() == 2 && !needs_graph(a, b)) {
    auto out = torch::empty({a.size(0), b.size(1)}, a.options());
    if (dnnl_gemm(out, a, b)) return out;
  }
#endif
  return torch::mm(a, b);
}

void gemm_out(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b) {
#ifdef TRM_WITH_DNNL
  if (!needs_graph(a, b) && dnnl_gemm(out, a, b)) return;
#endif
  torch::mm_out(out, a, b);
}

}  // namespace trm
