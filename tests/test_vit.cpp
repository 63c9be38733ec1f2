// The ViT image model and the vit:DIR video encoder, on a tiny random checkpoint the test writes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "core/error.h"
#include "features/video_vit.h"
#include "features/vit.h"
#include "tensor/safetensors_torch.h"

namespace fs = std::filesystem;
using State = std::map<std::string, torch::Tensor>;

namespace {

constexpr int64_t kImage = 32, kPatch = 8, kHidden = 16, kLayers = 2, kHeads = 2, kInter = 32;

// A fresh scratch folder, removed when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("spir_test_vit_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Random weights under Hugging Face ViTModel key names (pooler included, as ViTModel saves it).
State random_state(uint64_t seed) {
  torch::manual_seed(seed);
  auto r = [](std::vector<int64_t> shape, double scale = 0.2) { return torch::randn(shape) * scale; };
  State s;
  s["embeddings.cls_token"] = r({1, 1, kHidden});
  s["embeddings.position_embeddings"] = r({1, (kImage / kPatch) * (kImage / kPatch) + 1, kHidden});
  s["embeddings.patch_embeddings.projection.weight"] = r({kHidden, 3, kPatch, kPatch}, 0.05);
  s["embeddings.patch_embeddings.projection.bias"] = r({kHidden});
  for (int64_t l = 0; l < kLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* n : {"attention.attention.query", "attention.attention.key", "attention.attention.value",
                          "attention.output.dense"}) {
      s[p + n + ".weight"] = r({kHidden, kHidden});
      s[p + n + ".bias"] = r({kHidden});
    }
    s[p + "intermediate.dense.weight"] = r({kInter, kHidden});
    s[p + "intermediate.dense.bias"] = r({kInter});
    s[p + "output.dense.weight"] = r({kHidden, kInter});
    s[p + "output.dense.bias"] = r({kHidden});
    for (const char* n : {"layernorm_before", "layernorm_after"}) {
      s[p + n + ".weight"] = 1 + r({kHidden});
      s[p + n + ".bias"] = r({kHidden});
    }
  }
  s["layernorm.weight"] = 1 + r({kHidden});
  s["layernorm.bias"] = r({kHidden});
  s["pooler.dense.weight"] = r({kHidden, kHidden});
  s["pooler.dense.bias"] = r({kHidden});
  return s;
}

// Writes a checkpoint folder: config.json + model.safetensors (keys prefixed with prefix).
void write_checkpoint(const fs::path& dir, const State& state, const std::string& prefix = "") {
  nlohmann::json cfg = {{"model_type", "vit"},          {"image_size", kImage},         {"patch_size", kPatch},
                        {"num_channels", 3},            {"hidden_size", kHidden},       {"num_hidden_layers", kLayers},
                        {"num_attention_heads", kHeads}, {"intermediate_size", kInter}, {"layer_norm_eps", 1e-12},
                        {"hidden_act", "gelu"},         {"qkv_bias", true}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  State out;
  for (const auto& [k, v] : state) out[prefix + k] = v;
  spir::save_safetensors((dir / "model.safetensors").string(), out, {{"format", "pt"}});
}

// A naive ViT forward for one image [3, H, W], in double precision with explicit loops over patches, heads and
// tokens, written from the Hugging Face definition independently of the module code.
torch::Tensor naive_vit(const State& s0, const torch::Tensor& image) {
  State s;
  for (const auto& [k, v] : s0) s[k] = v.to(torch::kFloat64);
  auto ln = [](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
    auto mu = x.mean(-1, true);
    auto var = (x - mu).pow(2).mean(-1, true);
    return (x - mu) / (var + 1e-12).sqrt() * w + b;
  };
  auto lin = [&](const torch::Tensor& x, const std::string& n) {
    return torch::matmul(x, s[n + ".weight"].t()) + s[n + ".bias"];
  };
  const int64_t g = kImage / kPatch, n = g * g + 1, dh = kHidden / kHeads;
  const auto img = image.to(torch::kFloat64);
  const auto w = s["embeddings.patch_embeddings.projection.weight"].reshape({kHidden, -1});
  torch::Tensor x = torch::zeros({n, kHidden}, torch::kFloat64);
  x[0] = s["embeddings.cls_token"].view({kHidden});
  for (int64_t i = 0; i < g; ++i)
    for (int64_t j = 0; j < g; ++j) {
      auto block = img.slice(1, i * kPatch, (i + 1) * kPatch).slice(2, j * kPatch, (j + 1) * kPatch).reshape({-1});
      x[1 + i * g + j] = torch::mv(w, block) + s["embeddings.patch_embeddings.projection.bias"];
    }
  x = x + s["embeddings.position_embeddings"].view({n, kHidden});
  for (int64_t l = 0; l < kLayers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    auto y = ln(x, s[p + "layernorm_before.weight"], s[p + "layernorm_before.bias"]);
    auto q = lin(y, p + "attention.attention.query"), k = lin(y, p + "attention.attention.key"),
         v = lin(y, p + "attention.attention.value");
    torch::Tensor ctx = torch::zeros({n, kHidden}, torch::kFloat64);
    for (int64_t h = 0; h < kHeads; ++h)
      for (int64_t a = 0; a < n; ++a) {
        std::vector<double> e(n);
        double sum = 0;
        for (int64_t b = 0; b < n; ++b) {
          double dot = 0;
          for (int64_t c = h * dh; c < (h + 1) * dh; ++c) dot += q[a][c].item<double>() * k[b][c].item<double>();
          e[b] = std::exp(dot / std::sqrt(static_cast<double>(dh)));
          sum += e[b];
        }
        for (int64_t b = 0; b < n; ++b)
          ctx[a].slice(0, h * dh, (h + 1) * dh) += e[b] / sum * v[b].slice(0, h * dh, (h + 1) * dh);
      }
    x = x + lin(ctx, p + "attention.output.dense");
    auto z = lin(ln(x, s[p + "layernorm_after.weight"], s[p + "layernorm_after.bias"]), p + "intermediate.dense");
    z = 0.5 * z * (1 + torch::erf(z / std::sqrt(2.0)));
    x = x + lin(z, p + "output.dense");
  }
  return ln(x, s["layernorm.weight"], s["layernorm.bias"]);
}

// Encodes a 32×32, 10-frame MPEG-4 video whose colours move from frame to frame (with shift changing the colours).
void write_test_video(const std::string& path, int shift) {
  AVFormatContext* oc = nullptr;
  ASSERT_GE(avformat_alloc_output_context2(&oc, nullptr, "mp4", path.c_str()), 0);
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  ASSERT_NE(codec, nullptr) << "FFmpeg has no mpeg4 encoder";
  AVStream* st = avformat_new_stream(oc, nullptr);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  ctx->width = 32;
  ctx->height = 32;
  ctx->time_base = AVRational{1, 10};
  ctx->framerate = AVRational{10, 1};
  ctx->pix_fmt = AV_PIX_FMT_YUV420P;
  ctx->gop_size = 5;
  ctx->bit_rate = 400000;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ASSERT_GE(avcodec_open2(ctx, codec, nullptr), 0);
  ASSERT_GE(avcodec_parameters_from_context(st->codecpar, ctx), 0);
  st->time_base = ctx->time_base;
  ASSERT_GE(avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE), 0);
  ASSERT_GE(avformat_write_header(oc, nullptr), 0);
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&]() {
    while (avcodec_receive_packet(ctx, pkt) >= 0) {
      av_packet_rescale_ts(pkt, ctx->time_base, st->time_base);
      pkt->stream_index = st->index;
      av_interleaved_write_frame(oc, pkt);
    }
  };
  for (int i = 0; i < 10; ++i) {
    AVFrame* f = av_frame_alloc();
    f->format = ctx->pix_fmt;
    f->width = 32;
    f->height = 32;
    ASSERT_GE(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        f->data[0][y * f->linesize[0] + x] = static_cast<uint8_t>((x * 8 + i * 20 + shift) % 256);
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) {
        f->data[1][y * f->linesize[1] + x] = static_cast<uint8_t>((y * 16 + i * 12 + shift) % 256);
        f->data[2][y * f->linesize[2] + x] = static_cast<uint8_t>((255 - i * 25 - shift) % 256);
      }
    f->pts = i;
    ASSERT_GE(avcodec_send_frame(ctx, f), 0);
    av_frame_free(&f);
    drain();
  }
  avcodec_send_frame(ctx, nullptr);
  drain();
  av_write_trailer(oc);
  av_packet_free(&pkt);
  avcodec_free_context(&ctx);
  avio_closep(&oc->pb);
  avformat_free_context(oc);
}

}  // namespace

// The model maps [B, 3, 32, 32] to [B, 1 + 16 patches, hidden], and the same input gives the same output twice.
TEST(ViT, ShapesAndDeterminism) {
  TempDir dir;
  write_checkpoint(dir.path, random_state(1));
  auto model = spir::load_vit_model(dir.path.string());
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({3, 3, kImage, kImage});
  const auto a = model->forward(x), b = model->forward(x);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{3, 17, kHidden}));
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_THROW(model->forward(torch::randn({1, 3, 16, 16})), spir::Error);
}

// The module forward agrees with an independent naive forward (explicit patch, head and token loops) within 1e-4.
TEST(ViT, MatchesNaiveForward) {
  TempDir dir;
  const State state = random_state(2);
  write_checkpoint(dir.path, state);
  auto model = spir::load_vit_model(dir.path.string());
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, kImage, kImage});
  const auto got = model->forward(x);
  for (int64_t i = 0; i < 2; ++i) {
    const double d = (got[i].to(torch::kFloat64) - naive_vit(state, x[i])).abs().max().item<double>();
    std::cout << "[ max abs diff ] ViT vs naive, image " << i << ": " << d << "\n";
    EXPECT_LT(d, 1e-4);
  }
}

// A checkpoint with "vit."-prefixed keys (as ViTForImageClassification saves them) gives identical outputs.
TEST(ViT, PrefixedCheckpointGivesSameOutputs) {
  TempDir plain, prefixed;
  const State state = random_state(3);
  write_checkpoint(plain.path, state);
  write_checkpoint(prefixed.path, state, "vit.");
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 3, kImage, kImage});
  EXPECT_TRUE(torch::equal(spir::load_vit_model(plain.path.string())->forward(x),
                           spir::load_vit_model(prefixed.path.string())->forward(x)));
}

// The video encoder decodes an MP4 into hidden-size finite features, deterministically, that depend on the video's
// content; asking for more frames than the video holds still succeeds.
TEST(ViT, VideoEncoderEncodesMp4) {
  TempDir dir;
  write_checkpoint(dir.path, random_state(4));
  const std::string v1 = (dir.path / "a.mp4").string(), v2 = (dir.path / "b.mp4").string();
  write_test_video(v1, 0);
  write_test_video(v2, 90);
  auto enc = spir::make_vit_video_encoder(dir.path.string(), 4);
  ASSERT_EQ(enc->dim(), kHidden);
  std::vector<float> a(kHidden), a2(kHidden), b(kHidden);
  ASSERT_TRUE(enc->encode(v1, a.data()));
  ASSERT_TRUE(enc->encode(v1, a2.data()));
  ASSERT_TRUE(enc->encode(v2, b.data()));
  EXPECT_EQ(a, a2);
  for (float x : a) EXPECT_TRUE(std::isfinite(x));
  EXPECT_NE(a, b);
  // More frames than the video has still works (frames repeat).
  auto many = spir::make_vit_video_encoder(dir.path.string(), 25);
  std::vector<float> m(kHidden);
  EXPECT_TRUE(many->encode(v1, m.data()));
}

// An unreadable or missing file returns false and leaves the output untouched.
TEST(ViT, VideoEncoderRejectsUnreadableFile) {
  TempDir dir;
  write_checkpoint(dir.path, random_state(5));
  const std::string junk = (dir.path / "junk.mp4").string();
  std::ofstream(junk) << "this is not a video file at all";
  auto enc = spir::make_vit_video_encoder(dir.path.string(), 3);
  std::vector<float> out(kHidden, 42.0f);
  EXPECT_FALSE(enc->encode(junk, out.data()));
  EXPECT_FALSE(enc->encode((dir.path / "missing.mp4").string(), out.data()));
  EXPECT_EQ(out, std::vector<float>(kHidden, 42.0f));
}

// A missing config field is reported with the file and field names.
TEST(ViT, BadConfigNamesFileAndField) {
  TempDir dir;
  write_checkpoint(dir.path, random_state(6));
  auto cfg = nlohmann::json::parse(std::ifstream(dir.path / "config.json"));
  cfg.erase("patch_size");
  std::ofstream(dir.path / "config.json") << cfg.dump();
  try {
    spir::load_vit_model(dir.path.string());
    FAIL() << "expected spir::Error";
  } catch (const spir::Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("patch_size"), std::string::npos) << e.what();
  }
}
