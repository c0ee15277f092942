import { encode as encodePng } from "fast-png";
import jpeg from "jpeg-js";

/** Height of the miniature DenseDepth images. */
export const H = 12;
/** Width of the miniature DenseDepth images. */
export const W = 16;

/** DenseDepth's layout in miniature: train JPEG + 8-bit PNG (×10/255 m), test PNG + 16-bit PNG (mm). */
export function denseDepthFiles(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const trainRows: string[] = [];
  for (let k = 0; k < 3; k++) {
    const base = `data/nyu2_train/bedroom_0001_out/${k + 1}`;
    const rgba = new Uint8Array(H * W * 4);
    for (let p = 0; p < H * W; p++) rgba.set([60 + 40 * k, 120, 200 - 50 * k, 255], p * 4);
    files[`${base}.jpg`] = jpeg.encode({ width: W, height: H, data: rgba }, 95).data;
    const depth8 = Uint8Array.from({ length: H * W }, (_, p) => (p * 3 + k * 17) % 256);
    files[`${base}.png`] = encodePng({ width: W, height: H, data: depth8, channels: 1, depth: 8 });
    trainRows.push(`${base}.jpg,${base}.png`);
  }
  files["data/nyu2_train.csv"] = new TextEncoder().encode(`${trainRows.join("\n")}\n`);
  const rgb = Uint8Array.from({ length: H * W * 3 }, (_, i) => (i * 5) % 256);
  const depth16 = Uint16Array.from({ length: H * W }, (_, p) => 500 + p * 37);
  files["data/nyu2_test/00000_colors.png"] = encodePng({
    width: W,
    height: H,
    data: rgb,
    channels: 3,
    depth: 8,
  });
  files["data/nyu2_test/00000_depth.png"] = encodePng({
    width: W,
    height: H,
    data: depth16,
    channels: 1,
    depth: 16,
  });
  files["data/nyu2_test.csv"] = new TextEncoder().encode(
    "data/nyu2_test/00000_colors.png,data/nyu2_test/00000_depth.png\r\n",
  );
  return files;
}
