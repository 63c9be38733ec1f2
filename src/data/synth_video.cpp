#include "data/synth_video.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

#include <algorithm>
#include <cmath>
#include <vector>

namespace spir {

namespace {

// The muxer, encoder, frame and packet of one output file; freed on destruction (the file is closed).
struct Output {
  AVFormatContext* oc = nullptr;
  AVCodecContext* enc = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* pkt = nullptr;
  AVStream* st = nullptr;
  ~Output() {
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&enc);
    if (oc && oc->pb && !(oc->oformat->flags & AVFMT_NOFILE)) avio_closep(&oc->pb);
    avformat_free_context(oc);
  }
};

std::string av_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

struct Rgb {
  double r, g, b;  // each in [0, 1]
};

// HSV (all in [0, 1]) to RGB.
Rgb hsv_to_rgb(double h, double s, double v) {
  h = (h - std::floor(h)) * 6.0;
  const int i = std::min(5, static_cast<int>(h));
  const double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  switch (i) {
    case 0: return {v, t, p};
    case 1: return {q, v, p};
    case 2: return {p, v, t};
    case 3: return {p, q, v};
    case 4: return {t, p, v};
    default: return {v, p, q};
  }
}

double clamp01(double x) { return std::min(1.0, std::max(0.0, x)); }

uint8_t to_byte(double x) { return static_cast<uint8_t>(std::min(255.0, std::max(0.0, x)) + 0.5); }

// A fixed pseudo-random value in [-1, 1] per pixel (the texture pattern).
double pattern(uint64_t seed, int x, int y) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(x) * 0xBF58476D1CE4E5B9ULL +
               static_cast<uint64_t>(y) * 0x94D049BB133111EBULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ULL << 52) - 1.0;
}

// BT.601 limited-range luma and chroma of an RGB colour (what a decoder assumes for untagged video).
double luma_of(const Rgb& c) { return 16 + 65.481 * c.r + 128.553 * c.g + 24.966 * c.b; }
double cb_of(const Rgb& c) { return 128 - 37.797 * c.r - 74.203 * c.g + 112.0 * c.b; }
double cr_of(const Rgb& c) { return 128 + 112.0 * c.r - 93.786 * c.g - 18.214 * c.b; }

// The two still pictures every frame is cut from: the textured background and the textured bar colour, as RGB
// and as luma bytes, row-major.
struct Pictures {
  std::vector<Rgb> rgb[2];
  std::vector<uint8_t> luma[2];
};

Pictures make_pictures(const SyntheticVideoLook& look) {
  const Rgb bg = hsv_to_rgb(look.hue, clamp01(look.saturation), clamp01(look.brightness));
  const double bv = look.brightness < 0.5 ? look.brightness + 0.4 : look.brightness - 0.4;
  const Rgb bar = hsv_to_rgb(look.hue + 0.5, std::max(0.5, clamp01(look.saturation)), clamp01(bv));
  const double amp = 0.35 * clamp01(look.texture);
  const size_t n = static_cast<size_t>(look.width) * look.height;
  Pictures p;
  for (int k = 0; k < 2; ++k) {
    p.rgb[k].resize(n);
    p.luma[k].resize(n);
  }
  for (int y = 0; y < look.height; ++y)
    for (int x = 0; x < look.width; ++x) {
      const size_t i = static_cast<size_t>(y) * look.width + x;
      const double d = amp > 0 ? amp * pattern(look.seed, x, y) : 0.0;
      for (int k = 0; k < 2; ++k) {
        const Rgb& c = k == 0 ? bg : bar;
        p.rgb[k][i] = {clamp01(c.r + d), clamp01(c.g + d), clamp01(c.b + d)};
        p.luma[k][i] = to_byte(luma_of(p.rgb[k][i]));
      }
    }
  return p;
}

// Fills the YUV 4:2:0 frame number i: the background, with the bar's columns (when moving) taken from the bar
// picture; chroma from the mean RGB of each 2×2 block.
void render_yuv420(const SyntheticVideoLook& look, const Pictures& p, int i, AVFrame* f) {
  const int w = look.width, h = look.height;
  const int bar_w = std::max(2, w / 8);
  int x0 = w, x1 = w;  // bar columns [x0, x1)
  if (look.motion > 0) {
    const double t = i / look.fps;
    const double left = std::fmod(look.motion * w * t, static_cast<double>(w + bar_w)) - bar_w;
    x0 = std::max(0, static_cast<int>(std::ceil(left)));
    x1 = std::min(w, static_cast<int>(std::ceil(left + bar_w)));
  }
  auto src = [&](int x) { return x >= x0 && x < x1 ? 1 : 0; };
  for (int y = 0; y < h; ++y) {
    uint8_t* row = f->data[0] + static_cast<ptrdiff_t>(y) * f->linesize[0];
    for (int x = 0; x < w; ++x) row[x] = p.luma[src(x)][static_cast<size_t>(y) * w + x];
  }
  for (int y = 0; y < h / 2; ++y) {
    uint8_t* u = f->data[1] + static_cast<ptrdiff_t>(y) * f->linesize[1];
    uint8_t* v = f->data[2] + static_cast<ptrdiff_t>(y) * f->linesize[2];
    for (int x = 0; x < w / 2; ++x) {
      Rgb m{0, 0, 0};
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const int xx = 2 * x + dx;
          const Rgb& c = p.rgb[src(xx)][static_cast<size_t>(2 * y + dy) * w + xx];
          m.r += c.r / 4;
          m.g += c.g / 4;
          m.b += c.b / 4;
        }
      u[x] = to_byte(cb_of(m));
      v[x] = to_byte(cr_of(m));
    }
  }
}

// Sends frame (nullptr: end of stream) to the encoder and writes every packet it returns. Returns 0 or an error.
int encode_and_write(Output& o, AVFrame* frame) {
  int r = avcodec_send_frame(o.enc, frame);
  if (r < 0) return r;
  for (;;) {
    r = avcodec_receive_packet(o.enc, o.pkt);
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
    if (r < 0) return r;
    av_packet_rescale_ts(o.pkt, o.enc->time_base, o.st->time_base);
    o.pkt->stream_index = o.st->index;
    r = av_interleaved_write_frame(o.oc, o.pkt);
    if (r < 0) return r;
  }
}

}  // namespace

bool write_synthetic_mp4(const std::string& path, const SyntheticVideoLook& look, std::string* error) {
  auto fail = [&](const std::string& msg) {
    if (error) *error = path + ": " + msg;
    return false;
  };
  if (look.width < 16 || look.height < 16 || look.width > 4096 || look.height > 4096 || look.width % 2 ||
      look.height % 2)
    return fail("video size must be even and within 16..4096");
  if (!(look.fps > 0 && look.fps <= 120)) return fail("fps must be in (0, 120]");
  if (!(look.duration_s > 0 && look.duration_s <= 600)) return fail("duration must be in (0, 600] seconds");
  const int n_frames = std::max(1, static_cast<int>(std::lround(look.duration_s * look.fps)));

  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (!codec) return fail("FFmpeg has no MPEG-4 encoder");
  Output o;
  avformat_alloc_output_context2(&o.oc, nullptr, nullptr, path.c_str());
  if (!o.oc) avformat_alloc_output_context2(&o.oc, nullptr, "mp4", path.c_str());
  if (!o.oc) return fail("cannot create an MP4 muxer");
  o.st = avformat_new_stream(o.oc, nullptr);
  o.enc = avcodec_alloc_context3(codec);
  o.frame = av_frame_alloc();
  o.pkt = av_packet_alloc();
  if (!o.st || !o.enc || !o.frame || !o.pkt) return fail("out of memory");

  const AVRational rate = av_d2q(look.fps, 1000);
  o.enc->width = look.width;
  o.enc->height = look.height;
  o.enc->pix_fmt = AV_PIX_FMT_YUV420P;
  o.enc->framerate = rate;
  o.enc->time_base = av_inv_q(rate);
  o.enc->gop_size = 12;
  o.enc->max_b_frames = 0;
  o.enc->thread_count = 1;
  o.enc->flags |= AV_CODEC_FLAG_QSCALE;
  o.enc->global_quality = FF_QP2LAMBDA * 3;  // fixed quantiser 3: colours survive within a few levels
  o.enc->color_range = AVCOL_RANGE_MPEG;
  if (o.oc->oformat->flags & AVFMT_GLOBALHEADER) o.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  int r = avcodec_open2(o.enc, codec, nullptr);
  if (r < 0) return fail("cannot open the MPEG-4 encoder (" + av_text(r) + ")");
  r = avcodec_parameters_from_context(o.st->codecpar, o.enc);
  if (r < 0) return fail("bad encoder parameters (" + av_text(r) + ")");
  o.st->time_base = o.enc->time_base;
  o.st->avg_frame_rate = rate;

  if (!(o.oc->oformat->flags & AVFMT_NOFILE)) {
    r = avio_open(&o.oc->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (r < 0) return fail("cannot create the file (" + av_text(r) + ")");
  }
  r = avformat_write_header(o.oc, nullptr);
  if (r < 0) return fail("cannot write the header (" + av_text(r) + ")");

  o.frame->format = AV_PIX_FMT_YUV420P;
  o.frame->width = look.width;
  o.frame->height = look.height;
  r = av_frame_get_buffer(o.frame, 0);
  if (r < 0) return fail("cannot allocate a frame (" + av_text(r) + ")");
  const Pictures pictures = make_pictures(look);
  for (int i = 0; i < n_frames; ++i) {
    r = av_frame_make_writable(o.frame);
    if (r < 0) return fail("cannot write a frame (" + av_text(r) + ")");
    render_yuv420(look, pictures, i, o.frame);
    o.frame->pts = i;
    r = encode_and_write(o, o.frame);
    if (r < 0) return fail("cannot encode frame " + std::to_string(i) + " (" + av_text(r) + ")");
  }
  r = encode_and_write(o, nullptr);
  if (r < 0) return fail("cannot finish encoding (" + av_text(r) + ")");
  r = av_write_trailer(o.oc);
  if (r < 0) return fail("cannot finish the file (" + av_text(r) + ")");
  return true;
}

}  // namespace spir
