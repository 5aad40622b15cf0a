// A minimal PNG reader for tests: 8-bit greyscale, RGB or RGBA, non-interlaced (what headless
// Chromium writes for screenshots), decoded with zlib. Returns false on anything else.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace trm::test {

struct PngImage {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // [height, width, channels]
};

inline uint32_t png_be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

inline bool read_png(const std::string& path, PngImage& img, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
  static const uint8_t kSig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (b.size() < 8 || !std::equal(kSig, kSig + 8, b.begin())) return error = "not a PNG", false;
  std::vector<uint8_t> idat;
  int depth = 0, colour = -1, interlace = 0;
  for (size_t at = 8; at + 12 <= b.size();) {
    const uint32_t len = png_be32(&b[at]);
    const std::string type(b.begin() + at + 4, b.begin() + at + 8);
    if (at + 12 + len > b.size()) return error = "truncated chunk " + type, false;
    const uint8_t* data = &b[at + 8];
    if (type == "IHDR") {
      img.width = int(png_be32(data));
      img.height = int(png_be32(data + 4));
      depth = data[8];
      colour = data[9];
      interlace = data[12];
    } else if (type == "IDAT") {
      idat.insert(idat.end(), data, data + len);
    }
    at += 12 + len;
  }
  img.channels = colour == 0 ? 1 : colour == 2 ? 3 : colour == 6 ? 4 : 0;
  if (depth != 8 || img.channels == 0 || interlace != 0)
    return error = "unsupported PNG (depth " + std::to_string(depth) + ", colour type " +
                   std::to_string(colour) + ")",
           false;
  const size_t stride = size_t(img.width) * img.channels;
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, idat.data(), idat.size()) != Z_OK || raw_len != raw.size())
    return error = "bad image data", false;
  img.pixels.assign(stride * img.height, 0);
  const int bpp = img.channels;
  for (int y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* src = &raw[y * (stride + 1) + 1];
    uint8_t* row = &img.pixels[y * stride];
    const uint8_t* up = y > 0 ? &img.pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(bpp) ? row[x - bpp] : 0;
      const int u = up ? up[x] : 0;
      const int c = up && x >= size_t(bpp) ? up[x - bpp] : 0;
      int v = src[x];
      switch (filter) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += u;
          break;
        case 3:
          v += (a + u) / 2;
          break;
        case 4: {
          const int p = a + u - c, pa = std::abs(p - a), pb = std::abs(p - u), pc = std::abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
          break;
        }
        default:
          return error = "bad filter type", false;
      }
      row[x] = uint8_t(v);
    }
  }
  return true;
}

}  // namespace trm::test
