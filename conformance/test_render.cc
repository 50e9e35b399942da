// SPDX-License-Identifier: MIT
//
// test_render.cc - MagmaRender: render-like work on the simulated GPU. SIM-1 has no fixed-function
// rasteriser, so a compute kernel plays the fragment shader: one lane per pixel of an RGBA8
// image (a 256x256 render target unless stated), writing a colour that the CPU then checks for
// every pixel. Covers clears (FILL) followed by draws, bounds checks for sizes that are not a
// multiple of the workgroup, float math (a disc), a copy to a read-back buffer ordered by a
// semaphore, and a short frame loop over two images.
#include <cstring>
#include <vector>

#include "magma_test.h"

namespace {

constexpr uint32_t kWidth = 256;
constexpr uint32_t kHeight = 256;

// Argument block every kernel below reads (u32 words at the args VA).
struct DrawArgs {
  uint32_t image_lo;
  uint32_t image_hi;
  uint32_t width;
  uint32_t height;
  uint32_t colour;
  int32_t cx;  // disc centre
  int32_t cy;
  float radius2;  // disc radius squared
};

// One solid colour for every pixel inside the image (lanes past the width do nothing).
constexpr const char* kSolidKernel =
    "ld   r4, r0, 0      # image VA\n"
    "ld   r5, r0, 4\n"
    "ld   r6, r0, 8      # width\n"
    "ld   r8, r0, 16     # colour\n"
    "sltu r9, r2, r6     # x < width\n"
    "if   r9\n"
    "  mul  r10, r3, r6  # y * width + x\n"
    "  add  r10, r10, r2\n"
    "  shl  r10, r10, 2\n"
    "  stx  r4, r10, r8, 0\n"
    "endif\n"
    "exit\n";

// RGBA = (x, y, x + y, 255) as bytes.
constexpr const char* kGradientKernel =
    "ld   r4, r0, 0\n"
    "ld   r5, r0, 4\n"
    "ld   r6, r0, 8\n"
    "sltu r9, r2, r6\n"
    "if   r9\n"
    "  and  r11, r2, 255\n"
    "  and  r12, r3, 255\n"
    "  shl  r12, r12, 8\n"
    "  or   r11, r11, r12\n"
    "  add  r13, r2, r3\n"
    "  and  r13, r13, 255\n"
    "  shl  r13, r13, 16\n"
    "  or   r11, r11, r13\n"
    "  or   r11, r11, 0xff000000\n"
    "  mul  r10, r3, r6\n"
    "  add  r10, r10, r2\n"
    "  shl  r10, r10, 2\n"
    "  stx  r4, r10, r11, 0\n"
    "endif\n"
    "exit\n";

// The colour where (x - cx)^2 + (y - cy)^2 <= radius2 (float math); other pixels untouched.
constexpr const char* kDiscKernel =
    "ld   r4, r0, 0\n"
    "ld   r5, r0, 4\n"
    "ld   r6, r0, 8      # width\n"
    "ld   r8, r0, 16     # colour\n"
    "ld   r9, r0, 20     # cx\n"
    "ld   r10, r0, 24    # cy\n"
    "ld   r11, r0, 28    # radius^2 (float)\n"
    "sltu r12, r2, r6\n"
    "if   r12\n"
    "  sub  r13, r2, r9\n"
    "  i2f  r13, r13\n"
    "  fmul r13, r13, r13\n"
    "  sub  r14, r3, r10\n"
    "  i2f  r14, r14\n"
    "  fmul r14, r14, r14\n"
    "  fadd r13, r13, r14\n"
    "  fsle r15, r13, r11\n"
    "  if   r15\n"
    "    mul  r16, r3, r6\n"
    "    add  r16, r16, r2\n"
    "    shl  r16, r16, 2\n"
    "    stx  r4, r16, r8, 0\n"
    "  endif\n"
    "endif\n"
    "exit\n";

uint32_t Rgba(uint8_t r, uint8_t g, uint8_t b, uint8_t a) {
  return static_cast<uint32_t>(r) | static_cast<uint32_t>(g) << 8 | static_cast<uint32_t>(b) << 16 |
         static_cast<uint32_t>(a) << 24;
}

bool InsideDisc(uint32_t x, uint32_t y, const DrawArgs& a) {
  float dx = static_cast<float>(static_cast<int32_t>(x) - a.cx);
  float dy = static_cast<float>(static_cast<int32_t>(y) - a.cy);
  float d2 = dx * dx;
  d2 = d2 + dy * dy;
  return d2 <= a.radius2;
}

class MagmaRender : public MagmaConnectionTest {
 protected:
  void SetUp() override {
    MagmaConnectionTest::SetUp();
    if (HasFatalFailure()) return;
    context_ = CreateContext();
    ASSERT_NE(context_, 0u);
    uint32_t lanes = static_cast<uint32_t>(QueryValue(MAGMA_SIM_QUERY_CONFIG) >> 24) & 0xff;
    lanes_ = lanes == 0 ? 1 : (lanes > 32 ? 32 : lanes);
  }

  // A kernel loaded into a new executable buffer.
  struct Kernel {
    std::unique_ptr<TestBuffer> buffer;
    uint32_t count = 0;
  };
  Kernel Load(const char* source) {
    Kernel k;
    std::vector<uint64_t> code = AssembleKernel(source);
    if (code.empty()) return k;
    k.buffer = CreateMappedBuffer(RoundUpToPage(code.size() * sizeof(uint64_t)));
    if (!k.buffer || !k.buffer->cpu()) return k;
    memcpy(k.buffer->cpu(), code.data(), code.size() * sizeof(uint64_t));
    k.count = static_cast<uint32_t>(code.size());
    return k;
  }

  // An args block in a new buffer, pointing at @image.
  std::unique_ptr<TestBuffer> MakeArgs(const TestBuffer& image, uint32_t width, uint32_t height,
                                       DrawArgs args = {}) {
    auto buffer = CreateMappedBuffer(kPageSize, kMapReadWrite);
    if (!buffer || !buffer->cpu()) return nullptr;
    args.image_lo = static_cast<uint32_t>(image.gpu_va());
    args.image_hi = static_cast<uint32_t>(image.gpu_va() >> 32);
    args.width = width;
    args.height = height;
    memcpy(buffer->cpu(), &args, sizeof(args));
    return buffer;
  }

  // Appends a DISPATCH of @kernel covering @width x @height pixels, one lane per pixel.
  void AddDraw(CommandStream& cs, const Kernel& kernel, const TestBuffer& args, uint32_t width,
               uint32_t height) {
    cs.Dispatch(kernel.buffer->gpu_va(), kernel.count, args.gpu_va(), (width + lanes_ - 1) / lanes_,
                height, lanes_);
  }

  // Runs @cs with @resources and waits for it.
  void Submit(const CommandStream& cs, const std::vector<ExecResource>& resources) {
    auto commands = CreateMappedBuffer(RoundUpToPage(cs.size_bytes()));
    ASSERT_TRUE(commands);
    ASSERT_TRUE(cs.WriteTo(*commands));
    TestSemaphore done(connection());
    ASSERT_TRUE(done.ok());
    ASSERT_EQ(
        Execute(connection(), context_, *commands, cs.size_bytes(), resources, {}, {done.id()}),
        MAGMA_STATUS_OK);
    ASSERT_EQ(done.Wait(), MAGMA_STATUS_OK)
        << "draw did not complete: " << magma_connection_get_error(connection());
  }

  uint32_t context_ = 0;
  uint32_t lanes_ = 1;
};

TEST_F(MagmaRender, SolidColourCoversEveryPixel) {
  Kernel kernel = Load(kSolidKernel);
  ASSERT_TRUE(kernel.buffer);
  auto image = CreateMappedBuffer(kWidth * kHeight * 4);
  ASSERT_TRUE(image);
  const uint32_t colour = Rgba(0x20, 0x80, 0xe0, 0xff);
  DrawArgs a = {};
  a.colour = colour;
  auto args = MakeArgs(*image, kWidth, kHeight, a);
  ASSERT_TRUE(args);
  CommandStream cs;
  AddDraw(cs, kernel, *args, kWidth, kHeight);
  cs.End();
  ASSERT_NO_FATAL_FAILURE(Submit(cs, {{kernel.buffer.get()}, {args.get()}, {image.get()}}));
  const uint32_t* px = image->words();
  for (uint32_t y = 0; y < kHeight; y++)
    for (uint32_t x = 0; x < kWidth; x++)
      ASSERT_EQ(px[y * kWidth + x], colour) << "pixel (" << x << ", " << y << ")";
}

TEST_F(MagmaRender, GradientMatchesEveryPixel) {
  Kernel kernel = Load(kGradientKernel);
  ASSERT_TRUE(kernel.buffer);
  auto image = CreateMappedBuffer(kWidth * kHeight * 4);
  ASSERT_TRUE(image);
  auto args = MakeArgs(*image, kWidth, kHeight);
  ASSERT_TRUE(args);
  CommandStream cs;
  AddDraw(cs, kernel, *args, kWidth, kHeight);
  cs.End();
  ASSERT_NO_FATAL_FAILURE(Submit(cs, {{kernel.buffer.get()}, {args.get()}, {image.get()}}));
  const uint8_t* px = image->bytes();
  for (uint32_t y = 0; y < kHeight; y++) {
    for (uint32_t x = 0; x < kWidth; x++) {
      const uint8_t* p = px + 4 * (y * kWidth + x);
      ASSERT_EQ(p[0], static_cast<uint8_t>(x)) << "R at (" << x << ", " << y << ")";
      ASSERT_EQ(p[1], static_cast<uint8_t>(y)) << "G at (" << x << ", " << y << ")";
      ASSERT_EQ(p[2], static_cast<uint8_t>(x + y)) << "B at (" << x << ", " << y << ")";
      ASSERT_EQ(p[3], 0xff) << "A at (" << x << ", " << y << ")";
    }
  }
}

TEST_F(MagmaRender, ClearThenDrawDisc) {
  Kernel kernel = Load(kDiscKernel);
  ASSERT_TRUE(kernel.buffer);
  auto image = CreateMappedBuffer(kWidth * kHeight * 4);
  ASSERT_TRUE(image);
  const uint32_t clear = Rgba(0x10, 0x10, 0x30, 0xff);
  DrawArgs a = {};
  a.colour = Rgba(0xff, 0xc0, 0x00, 0xff);
  a.cx = 100;
  a.cy = 140;
  a.radius2 = 70.0f * 70.0f;
  auto args = MakeArgs(*image, kWidth, kHeight, a);
  ASSERT_TRUE(args);
  // Garbage from a previous frame, which the clear must overwrite.
  memset(image->cpu(), 0x5c, image->size());
  CommandStream cs;
  cs.Fill(image->gpu_va(), kWidth * kHeight * 4, clear);
  AddDraw(cs, kernel, *args, kWidth, kHeight);
  cs.End();
  ASSERT_NO_FATAL_FAILURE(Submit(cs, {{kernel.buffer.get()}, {args.get()}, {image.get()}}));
  const uint32_t* px = image->words();
  uint32_t inside = 0;
  for (uint32_t y = 0; y < kHeight; y++) {
    for (uint32_t x = 0; x < kWidth; x++) {
      bool in = InsideDisc(x, y, a);
      inside += in;
      ASSERT_EQ(px[y * kWidth + x], in ? a.colour : clear) << "pixel (" << x << ", " << y << ")";
    }
  }
  // Sanity: the disc is about pi * 70^2 pixels.
  EXPECT_GT(inside, 15000u);
  EXPECT_LT(inside, 15500u);
}

TEST_F(MagmaRender, OddSizedTargetIsDrawnWithinBounds) {
  constexpr uint32_t kW = 100, kH = 75;
  Kernel kernel = Load(kSolidKernel);
  ASSERT_TRUE(kernel.buffer);
  // One extra page after the image: lanes past the right edge must not write anywhere.
  auto image = CreateMappedBuffer(RoundUpToPage(kW * kH * 4) + kPageSize);
  ASSERT_TRUE(image);
  memset(image->cpu(), 0xab, image->size());
  DrawArgs a = {};
  a.colour = Rgba(1, 2, 3, 4);
  auto args = MakeArgs(*image, kW, kH, a);
  ASSERT_TRUE(args);
  CommandStream cs;
  AddDraw(cs, kernel, *args, kW, kH);
  cs.End();
  ASSERT_NO_FATAL_FAILURE(Submit(cs, {{kernel.buffer.get()}, {args.get()}, {image.get()}}));
  const uint32_t* px = image->words();
  for (uint32_t i = 0; i < kW * kH; i++) ASSERT_EQ(px[i], a.colour) << "pixel " << i;
  for (uint64_t i = kW * kH; i < image->size() / 4; i++)
    ASSERT_EQ(px[i], 0xababababu) << "word " << i << " past the image";
}

TEST_F(MagmaRender, DrawThenCopyToReadbackBuffer) {
  // Like a render pass followed by a transfer on another context, ordered by a semaphore.
  uint32_t transfer_context = CreateContext();
  ASSERT_NE(transfer_context, 0u);
  Kernel kernel = Load(kGradientKernel);
  ASSERT_TRUE(kernel.buffer);
  auto image = CreateMappedBuffer(kWidth * kHeight * 4);
  auto readback = CreateMappedBuffer(kWidth * kHeight * 4, kMapReadWrite);
  auto args = image ? MakeArgs(*image, kWidth, kHeight) : nullptr;
  auto draw_commands = CreateMappedBuffer(kPageSize);
  auto copy_commands = CreateMappedBuffer(kPageSize);
  ASSERT_TRUE(image && readback && args && draw_commands && copy_commands);
  TestSemaphore rendered(connection()), copied(connection());
  ASSERT_TRUE(rendered.ok() && copied.ok());

  CommandStream copy;
  copy.Copy(readback->gpu_va(), image->gpu_va(), kWidth * kHeight * 4).End();
  ASSERT_TRUE(copy.WriteTo(*copy_commands));
  // The transfer is submitted first and must wait for the draw.
  ASSERT_EQ(Execute(connection(), transfer_context, *copy_commands, copy.size_bytes(),
                    {{image.get()}, {readback.get()}}, {rendered.id()}, {copied.id()}),
            MAGMA_STATUS_OK);
  CommandStream draw;
  AddDraw(draw, kernel, *args, kWidth, kHeight);
  draw.End();
  ASSERT_TRUE(draw.WriteTo(*draw_commands));
  ASSERT_EQ(Execute(connection(), context_, *draw_commands, draw.size_bytes(),
                    {{kernel.buffer.get()}, {args.get()}, {image.get()}}, {}, {rendered.id()}),
            MAGMA_STATUS_OK);
  ASSERT_EQ(copied.Wait(), MAGMA_STATUS_OK);
  EXPECT_EQ(memcmp(readback->cpu(), image->cpu(), kWidth * kHeight * 4), 0);
  const uint8_t* p = readback->bytes() + 4 * (200 * kWidth + 17);
  EXPECT_EQ(p[0], 17);
  EXPECT_EQ(p[1], 200);
  EXPECT_EQ(p[2], static_cast<uint8_t>(217));
  EXPECT_EQ(p[3], 0xff);
}

TEST_F(MagmaRender, FrameLoopOverTwoImages) {
  // Ten frames, alternating between two images; frame n clears to a colour of its own and
  // draws a disc that moves. Every frame is checked in full once it completes.
  constexpr int kFrames = 10;
  Kernel kernel = Load(kDiscKernel);
  ASSERT_TRUE(kernel.buffer);
  std::unique_ptr<TestBuffer> images[2] = {CreateMappedBuffer(kWidth * kHeight * 4),
                                           CreateMappedBuffer(kWidth * kHeight * 4)};
  ASSERT_TRUE(images[0] && images[1]);
  for (int frame = 0; frame < kFrames; frame++) {
    TestBuffer& image = *images[frame % 2];
    const uint32_t clear = Rgba(static_cast<uint8_t>(frame * 20), 0, 0x40, 0xff);
    DrawArgs a = {};
    a.colour = Rgba(0, 0xff, static_cast<uint8_t>(frame), 0xff);
    a.cx = 20 + frame * 20;
    a.cy = 128;
    a.radius2 = 30.0f * 30.0f;
    auto args = MakeArgs(image, kWidth, kHeight, a);
    ASSERT_TRUE(args);
    CommandStream cs;
    cs.Fill(image.gpu_va(), kWidth * kHeight * 4, clear);
    AddDraw(cs, kernel, *args, kWidth, kHeight);
    cs.End();
    ASSERT_NO_FATAL_FAILURE(Submit(cs, {{kernel.buffer.get()}, {args.get()}, {&image}}))
        << "frame " << frame;
    const uint32_t* px = image.words();
    for (uint32_t y = 0; y < kHeight; y++)
      for (uint32_t x = 0; x < kWidth; x++)
        ASSERT_EQ(px[y * kWidth + x], InsideDisc(x, y, a) ? a.colour : clear)
            << "frame " << frame << " pixel (" << x << ", " << y << ")";
  }
  EXPECT_EQ(Flush(), MAGMA_STATUS_OK);
}

}  // namespace
